package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ltk-dev/ltk/internal/kube"
	"github.com/ltk-dev/ltk/internal/runset"
)

func init() { register(newSetupCmd) }

// setupFlags are the flags of ltk setup.
type setupFlags struct {
	cfg          kube.Config
	fleet        fleetFlags
	size         sizeFlags
	source       string
	webAuth      string
	clusterToken string
}

// setupEnvFallbacks are the tutorial's variable names for setup's flags.
var setupEnvFallbacks = map[string]string{
	"nodes":   "LTK_NUM_GKE_NODES",
	"workers": "LTK_NUM_LOCUST_WORKERS",
}

// settingKeys returns the LTK_* variables of a test that setup passes to
// the master (and the in-cluster target) in the ltk-settings ConfigMap:
// those of every run-setting flag (addSettingsFlags) but the ones in
// notSettingKeys, the tutorial's names for the target identity, and the
// master's --block-size and --loglevel. Derived from the flags, so that a
// new setting reaches the cluster without a list to keep.
func settingKeys() []string {
	fs := pflag.NewFlagSet("settings", pflag.ContinueOnError)
	addSettingsFlags(fs, new(runset.Settings))
	var keys []string
	fs.VisitAll(func(f *pflag.Flag) {
		if _, skip := notSettingKeys[f.Name]; !skip {
			keys = append(keys, EnvName(f.Name))
		}
	})
	for _, name := range targetEnvFallbacks {
		keys = append(keys, name)
	}
	keys = append(keys, EnvName("block-size"), EnvName("loglevel"))
	slices.Sort(keys)
	return keys
}

// notSettingKeys are the run-setting flags whose LTK_* variables stay out
// of the ltk-settings ConfigMap, and why.
var notSettingKeys = map[string]string{
	"password": "a secret: setup puts LTK_PASSWORD in a Secret",
	"ca":       "a path on this machine, which the pods cannot read",

	"backend-password": "a secret, which setup does not ship yet: set LTK_BACKEND_PASSWORD on the master",
}

func newSetupCmd(env *Env) *cobra.Command {
	f := setupFlags{}
	c := &f.cfg
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Deploy ltk to Kubernetes: cluster, image, Secrets, master and worker pods; prints the web UI's address",
		Long: `Setup makes a cluster ready for a distributed test, as the tutorial's setupTest.sh did:

  1. checks that gcloud, kubectl and docker are installed;
  2. creates the GKE cluster (LTK_NUM_GKE_NODES nodes in LTK_DRIVER_ZONE, project
     LTK_DRIVER_PROJECT_ID) unless it exists, or with --use-context deploys to
     kubectl's current context instead (GKE, EKS, kind, minikube...);
  3. builds the ltk image from --source and pushes it to Artifact Registry
     (REGION-docker.pkg.dev/PROJECT/ltk/ltk:TAG), or deploys --image with --build=false;
  4. creates namespace ltk and its Secrets: the device list (mounted into the master
     only), the cluster token (master and workers) and the web UI's credentials
     (generated when LTK_CLUSTER_TOKEN / LTK_WEB_AUTH are unset; it prints where to read them);
  5. applies the master Deployment, the worker StatefulSet (LTK_NUM_LOCUST_WORKERS
     pods) and, with --target, ltk's own IoT target;
  6. waits for the pods, explaining any that are stuck, and prints the UI's address.

The test's settings (LTK_BROKER, LTK_AUTH, LTK_TARGET_*, LTK_BEHAVIOR...) go to the master
in the ltk-settings ConfigMap. Every step looks before it acts, so re-running setup after
a failure continues. What it creates is recorded in $LTK_ROOT/.ltk-setup.json so that
'ltk teardown' deletes exactly that. --dry-run prints the commands and manifests (Secrets
redacted) and runs nothing.

  ltk setup                                # GKE, from .env
  ltk setup --ui-source-ranges 203.0.113.0/24
  ltk setup --use-context --target --image ltk:dev --build=false --ui-service ClusterIP   # kind`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnvFallbacks(env, cmd, setupEnvFallbacks); err != nil {
				return err
			}
			return runSetup(cmd, env, &f)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&c.DryRun, "dry-run", false, "print the commands and manifests (Secrets redacted); run nothing")
	fs.BoolVar(&c.UseContext, "use-context", false, "deploy to kubectl's current context instead of creating a GKE cluster")
	fs.StringVar(&c.Project, "driver-project-id", "", "Google Cloud project of the cluster and image repository (LTK_DRIVER_PROJECT_ID)")
	fs.StringVar(&c.Zone, "driver-zone", "", "GKE zone, e.g. us-west1-a; its region holds the image repository (LTK_DRIVER_ZONE)")
	fs.StringVar(&c.Cluster, "cluster", kube.DefaultCluster, "GKE cluster name")
	fs.IntVar(&c.Nodes, "nodes", kube.DefaultNodes, "GKE nodes when setup creates the cluster (also LTK_NUM_GKE_NODES)")
	fs.StringVar(&c.MachineType, "machine-type", kube.DefaultMachineType, "GKE node machine type")
	fs.IntVar(&c.Values.Workers, "workers", kube.DefaultWorkers, "worker pods (also LTK_NUM_LOCUST_WORKERS); devices are split between them by ordinal")
	fs.StringVar(&c.Values.Namespace, "namespace", kube.DefaultNamespace, "Kubernetes namespace for everything setup applies")
	fs.StringVar(&c.Image, "image", "", "image to deploy (default: REGION-docker.pkg.dev/PROJECT/ltk/ltk:TAG)")
	fs.StringVar(&c.Tag, "tag", "", "tag of the default image (default: the ltk version)")
	fs.BoolVar(&c.Build, "build", true, "build the image from --source and push it (--build=false deploys --image as it is)")
	fs.StringVar(&c.Values.ImagePullPolicy, "image-pull-policy", "", "the pods' imagePullPolicy: Always, IfNotPresent or Never (default: Always for an image setup builds and pushes, IfNotPresent with --build=false)")
	fs.StringVar(&f.source, "source", ".", "directory holding ltk's Dockerfile (the source tree)")
	fs.StringVar(&c.Platform, "platform", kube.DefaultPlatform, "platform of the image build")
	fs.StringVar(&c.Values.UIService, "ui-service", kube.UIServiceLB, "web UI Service type: LoadBalancer, NodePort, or ClusterIP (reach it with kubectl port-forward)")
	fs.StringSliceVar(&c.Values.SourceRanges, "ui-source-ranges", nil, "CIDRs allowed to reach the web UI's load balancer, comma separated (default: any)")
	fs.BoolVar(&c.Values.Target, "target", false, "also deploy ltk's IoT target in the cluster (ltk-target:1883, the default broker then)")
	fs.StringVar(&c.Values.Worker.CPU, "worker-cpu", "1", "CPU request of each worker pod")
	fs.StringVar(&c.Values.Worker.Memory, "worker-memory", "1Gi", "memory request of each worker pod")
	fs.StringVar(&c.Values.Worker.CPULimit, "worker-cpu-limit", "2", "CPU limit of each worker pod")
	fs.StringVar(&c.Values.Worker.MemoryLimit, "worker-memory-limit", "2Gi", "memory limit of each worker pod")
	fs.StringVar(&f.clusterToken, "cluster-token", "", "token workers present to the master (default: kept from the last setup, else generated)")
	fs.StringVar(&f.webAuth, "web-auth", "", "web UI credentials user:pass (default: user ltk, password kept from the last setup, else generated)")
	fs.DurationVar(&c.WaitTimeout, "wait", kube.DefaultWaitTimeout, "how long to wait for the pods and the UI's address")
	fs.DurationVar(&c.Poll, "poll-interval", kube.DefaultPoll, "how often to look at the pods while waiting")
	_ = fs.MarkHidden("poll-interval")
	addFleetFlags(fs, &f.fleet)
	addSizeFlags(fs, &f.size)
	return cmd
}

func runSetup(cmd *cobra.Command, env *Env, f *setupFlags) error {
	cfg := f.cfg
	cfg.Out = env.Stdout
	cfg.Path, _ = env.lookup("PATH")
	cfg.StatePath = filepath.Join(env.root(), kube.StateFile)
	cfg.Source = env.path(f.source)
	if cfg.Tag == "" {
		cfg.Tag = imageTag(Version)
	}
	if cfg.Build && !cfg.DryRun {
		if _, err := os.Stat(filepath.Join(cfg.Source, "Dockerfile")); err != nil {
			return withHint(usageError(fmt.Errorf("no Dockerfile in %s to build the image from", cfg.Source)),
				"run ltk setup in ltk's source tree, name it with --source, or deploy a built image with --image REF --build=false")
		}
	}
	if f.webAuth != "" {
		user, pass, ok := strings.Cut(f.webAuth, ":")
		if !ok || user == "" || pass == "" {
			return usageError(errors.New("--web-auth (LTK_WEB_AUTH): want user:password"))
		}
		cfg.Secrets.WebUser, cfg.Secrets.WebPassword = user, pass
	}
	cfg.Secrets.ClusterToken = f.clusterToken
	pass, err := lookupSecret(env, "LTK_PASSWORD")
	if err != nil {
		return err
	}
	cfg.Secrets.MQTTPassword = pass
	cfg.Values.MQTTPassword = cfg.Secrets.MQTTPassword != ""
	listed, err := readSetupFiles(env, f, &cfg)
	if err != nil {
		return err
	}
	if err := setupSettings(env, &cfg); err != nil {
		return err
	}
	_, envWorkers := env.lookup(EnvName("workers"))
	_, tutorialWorkers := env.lookup(setupEnvFallbacks["workers"])
	given := cmd.Flags().Changed("workers") || envWorkers || tutorialWorkers
	if err := sizeCluster(env.Stdout, &f.size, given, listed, &cfg); err != nil {
		return err
	}
	var r kube.Runner = &kube.ExecRunner{Path: cfg.Path, Out: env.Stderr}
	if cfg.DryRun {
		r = &kube.DryRunner{Out: env.Stdout}
		fmt.Fprintln(env.Stdout, "LTK: dry run: these are the commands and manifests setup would apply; nothing is run.")
	}
	res, err := kube.Setup(cmd.Context(), cfg, r)
	if err != nil {
		var missing *kube.MissingToolsError
		if errors.As(err, &missing) {
			return withHint(err, "install them, then run ltk setup again")
		}
		return withHint(err, "fix what the message says, then run ltk setup again: it continues where it stopped")
	}
	if cfg.DryRun {
		fmt.Fprintln(env.Stdout, "LTK: dry run complete: nothing was run.")
		return nil
	}
	if res.Hint != "" {
		fmt.Fprintf(env.Stdout, "LTK: Test setup complete, run '%s' and visit %s to launch a test.\n", res.Hint, res.URL)
		return nil
	}
	fmt.Fprintf(env.Stdout, "LTK: Test setup complete, visit %s to launch a test.\n", res.URL)
	return nil
}

// readSetupFiles reads the device list (and, for an in-cluster target, the
// registry of public keys) for the Secrets and ConfigMaps, and returns how
// many devices the list holds.
func readSetupFiles(env *Env, f *setupFlags, cfg *kube.Config) (int, error) {
	list, err := readDeviceList(env, &f.fleet)
	if err != nil {
		return 0, err
	}
	if len(list.devs) == 0 && !cfg.DryRun {
		return 0, withHint(usageError(fmt.Errorf("no devices in %s to load-test with", list.name)),
			"make some first: ltk devices create 1 100 (the master reads them from a Secret)")
	}
	cfg.Secrets.DeviceList = list.raw
	if cfg.Values.Target {
		path := f.fleet.registryPath(env)
		b, err := os.ReadFile(path)
		if err != nil && !cfg.DryRun {
			return 0, withHint(fmt.Errorf("read the local registry for --target: %w", err), "make devices first: ltk devices create 1 100")
		}
		cfg.RegistryCSV = b
	}
	return len(list.devs), nil
}

// setupSettings fills the ltk-settings ConfigMap from the environment and
// checks that the test has a broker.
func setupSettings(env *Env, cfg *kube.Config) error {
	s := map[string]string{}
	for _, k := range settingKeys() {
		if v, ok := env.lookup(k); ok && v != "" {
			s[k] = v
		}
	}
	if v := s["LTK_REGISTRY"]; slices.Contains(registryBackends, v) {
		delete(s, "LTK_REGISTRY") // a registry backend (ltk devices --registry), not a registry id
	}
	if b := s["LTK_BROKER"]; b != "" {
		if err := runset.CheckBroker(b); err != nil {
			return usageError(fmt.Errorf("LTK_BROKER: %w", err))
		}
	} else {
		switch b, ok := iotcoreDefaultBroker(env); {
		case cfg.Values.Target:
			s["LTK_BROKER"] = "tcp://ltk-target:1883"
		case ok:
			s["LTK_BROKER"] = b
		default: // a dry run too: what it printed would be a master that exits at start
			return withHint(usageError(errors.New("no broker for the devices in the cluster: the master would exit at start without one")),
				"set LTK_BROKER to the broker to drive (e.g. ssl://mqtt.example.com:8883), or deploy ltk's target with --target")
		}
	}
	cfg.Values.Settings = s
	return nil
}

// imageTag makes a version usable as an image tag (v1.2.3+dirty → v1.2.3-dirty).
func imageTag(version string) string {
	var b strings.Builder
	for _, r := range version {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "latest"
	}
	return b.String()
}
