package kube_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/kube"
	"github.com/ltk-dev/ltk/internal/kube/kubetest"
	"github.com/ltk-dev/ltk/internal/syncbuf"
)

const deviceList = "LTK00001,-----BEGIN EC PRIVATE KEY----- MHcCAQEEIA== -----END EC PRIVATE KEY-----\n"

// gkeConfig is a setup on GKE with 3 workers, against the stand-ins.
func gkeConfig(t *testing.T, tl *kubetest.Tools, out *syncbuf.Buffer) kube.Config {
	t.Helper()
	return kube.Config{
		Project: "my-ltk-driver", Zone: "us-west1-a", Nodes: 3, Tag: "v1",
		Build: true, Source: t.TempDir(),
		Values:    kube.Values{Workers: 3, Settings: map[string]string{"LTK_BROKER": "ssl://mqtt.example.com:8883"}},
		Secrets:   kube.Secrets{DeviceList: []byte(deviceList)},
		StatePath: filepath.Join(t.TempDir(), kube.StateFile),
		Poll:      time.Millisecond, WaitTimeout: 10 * time.Second,
		Out: out, Path: tl.Path(),
	}
}

func readyPods(workers int) string {
	pods := []kubetest.Pod{kubetest.Ready("ltk-master-5d9c-abcde", "master")}
	for k := range workers {
		pods = append(pods, kubetest.Ready("ltk-worker-"+string(rune('0'+k)), "worker"))
	}
	return kubetest.List(pods...)
}

func runner(tl *kubetest.Tools) kube.Runner { return &kube.ExecRunner{Path: tl.Path()} }

func TestSetupFreshGKE(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "pods.1.json", kubetest.List(kubetest.Waiting("ltk-master-5d9c-abcde", "master", "ContainerCreating", "", 0)))
	tl.Set(t, "pods.json", readyPods(3))
	tl.Set(t, "lb-address", "203.0.113.7")
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	res, err := kube.Setup(t.Context(), cfg, runner(tl))
	require.NoError(t, err, out.String())
	require.Equal(t, "http://203.0.113.7:8089", res.URL)

	ctx := "--context gke_my-ltk-driver_us-west1-a_ltk"
	img := "us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1"
	require.Equal(t, []string{
		"gcloud container clusters describe ltk --format=value(name) --zone us-west1-a --project my-ltk-driver",
		"gcloud services enable container.googleapis.com --project my-ltk-driver",
		"gcloud container clusters create ltk --num-nodes 3 --machine-type e2-standard-4 --quiet --zone us-west1-a --project my-ltk-driver",
		"gcloud container clusters get-credentials ltk --zone us-west1-a --project my-ltk-driver",
		"gcloud artifacts repositories describe ltk --format=value(name) --location us-west1 --project my-ltk-driver",
		"gcloud services enable artifactregistry.googleapis.com --project my-ltk-driver",
		"gcloud artifacts repositories create ltk --repository-format=docker --description=ltk load-test images --location us-west1 --project my-ltk-driver",
		"gcloud auth configure-docker us-west1-docker.pkg.dev --quiet",
		"docker build --platform linux/amd64 --build-arg VERSION=v1 --tag " + img + " " + cfg.Source,
		"docker push " + img,
		"kubectl " + ctx + " apply --server-side --field-manager=ltk --force-conflicts -f -",
		"kubectl " + ctx + " -n ltk get secret ltk-cluster --ignore-not-found -o jsonpath={.data.token}",
		"kubectl " + ctx + " -n ltk get secret ltk-web --ignore-not-found -o jsonpath={.data.password}",
		"kubectl " + ctx + " -n ltk get secret ltk-master-tls --ignore-not-found -o jsonpath={.data}",
		"kubectl " + ctx + " apply --server-side --field-manager=ltk --force-conflicts -f -",
		"kubectl " + ctx + " apply --server-side --field-manager=ltk --force-conflicts -f -",
		"kubectl " + ctx + " -n ltk get pods -l app.kubernetes.io/part-of=ltk -o json",
		"kubectl " + ctx + " -n ltk get pods -l app.kubernetes.io/part-of=ltk -o json",
		"kubectl " + ctx + " -n ltk get svc ltk-master-web -o jsonpath={.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}",
	}, tl.Calls(t))

	applied := tl.Applied(t)
	require.Len(t, applied, 3)
	require.Contains(t, applied[0], "kind: Namespace")
	require.Contains(t, applied[1], "kind: Secret")
	require.Contains(t, applied[2], "kind: StatefulSet")
	require.Contains(t, applied[2], `image: "`+img+`"`)
	require.NotContains(t, applied[2], "PRIVATE KEY")
	require.NotContains(t, out.String(), "PRIVATE KEY")
	require.Contains(t, out.String(), "pods: master 0/1 (1 ContainerCreating), worker 0/3")
	require.Contains(t, out.String(), "pods: master 1/1, worker 3/3")
	require.Contains(t, out.String(), "cluster token, generated; set LTK_CLUSTER_TOKEN to choose it")
	require.Contains(t, out.String(), "ltk-master-tls (TLS of the workers' port, a new CA)")
	require.Contains(t, applied[1], "name: ltk-master-tls")
	require.Contains(t, applied[2], "--master-tls-cert=/etc/ltk/master-tls/tls.crt")
	require.Contains(t, applied[2], "--master-tls-ca=/etc/ltk/master-tls/ca.crt")
	require.NotContains(t, out.String(), "PRIVATE KEY")
	require.Contains(t, out.String(), "get secret ltk-web -o jsonpath='{.data.password}' | base64 -d")

	st, ok, err := kube.LoadState(cfg.StatePath)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, st.CreatedCluster)
	require.True(t, st.CreatedRepository)
	require.Equal(t, "gke_my-ltk-driver_us-west1-a_ltk", st.Context)
	b, err := os.ReadFile(cfg.StatePath)
	require.NoError(t, err)
	require.NotContains(t, string(b), "PRIVATE")
}

func TestSetupSecondRunSkipsWhatExists(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "pods.json", readyPods(3))
	tl.Set(t, "lb-address", "203.0.113.7")
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	_, err := kube.Setup(t.Context(), cfg, runner(tl))
	require.NoError(t, err, out.String())
	firstSecrets := tl.Applied(t)[1]

	// The cluster now holds the Secrets the first run made.
	for name, key := range map[string]string{"ltk-cluster": "token", "ltk-web": "password"} {
		tl.Set(t, "secret-"+name, secretValue(t, firstSecrets, name, key))
	}
	tlsData := `{"ca.crt":"` + secretValue(t, firstSecrets, "ltk-master-tls", "ca.crt") +
		`","tls.crt":"` + secretValue(t, firstSecrets, "ltk-master-tls", "tls.crt") +
		`","tls.key":"` + secretValue(t, firstSecrets, "ltk-master-tls", "tls.key") + `"}`
	tl.Set(t, "secret-ltk-master-tls", tlsData)
	tl.ResetCalls(t)
	_, err = kube.Setup(t.Context(), cfg, runner(tl))
	require.NoError(t, err, out.String())
	calls := strings.Join(tl.Calls(t), "\n")
	for _, made := range []string{"clusters create", "repositories create", "services enable"} {
		require.NotContains(t, calls, made, "the second run creates nothing that exists")
	}
	require.Contains(t, calls, "clusters describe")
	require.Contains(t, calls, "docker push", "the image is rebuilt and pushed: the code may have changed")
	applied := tl.Applied(t)
	require.Equal(t, firstSecrets, applied[4], "generated token, password and the master's certificate are kept")
	require.Contains(t, out.String(), "kept from the last setup")
	require.Contains(t, applied[2], "ltk.dev/config-hash: ")
	require.Equal(t, applied[2], applied[5], "same Secrets and settings: the pods are left running")

	// A new web password changes the pods' config hash, so they restart and read it.
	cfg.Secrets.WebPassword = "new-password"
	_, err = kube.Setup(t.Context(), cfg, runner(tl))
	require.NoError(t, err, out.String())
	applied = tl.Applied(t)
	require.NotEqual(t, applied[5], applied[8])
	require.Equal(t, 2, strings.Count(applied[5], "config-hash"), "master and workers")
	require.NotContains(t, applied[8], "new-password")

	st, _, err := kube.LoadState(cfg.StatePath)
	require.NoError(t, err)
	require.True(t, st.CreatedCluster, "still ours to delete")
}

// secretValue returns the data value key of Secret name in a rendered stream.
func secretValue(t *testing.T, stream, name, key string) string {
	t.Helper()
	_, after, ok := strings.Cut(stream, "name: "+name+"\n")
	require.True(t, ok, name)
	for _, l := range strings.Split(after, "\n") {
		if strings.HasPrefix(l, `  "`+key+`": `) {
			return strings.Trim(strings.TrimPrefix(l, `  "`+key+`": `), `"`)
		}
	}
	t.Fatalf("no %s in %s", key, name)
	return ""
}

func TestSetupExistingClusterIsNotOurs(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "cluster", "")
	tl.Set(t, "repo", "")
	tl.Set(t, "pods.json", readyPods(3))
	tl.Set(t, "lb-address", "203.0.113.7")
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	_, err := kube.Setup(t.Context(), cfg, runner(tl))
	require.NoError(t, err, out.String())
	st, _, err := kube.LoadState(cfg.StatePath)
	require.NoError(t, err)
	require.False(t, st.CreatedCluster)
	require.False(t, st.CreatedRepository)
	require.Contains(t, out.String(), "GKE cluster ltk exists")
}

func TestSetupFailedPushAppliesNothing(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "cluster", "")
	tl.Set(t, "repo", "")
	tl.Set(t, "push-fails", `denied: Permission "artifactregistry.repositories.uploadArtifacts" denied on resource "projects/my-ltk-driver/locations/us-west1/repositories/ltk"`)
	var out syncbuf.Buffer
	_, err := kube.Setup(t.Context(), gkeConfig(t, tl, &out), runner(tl))
	require.Error(t, err)
	require.ErrorContains(t, err, "push image us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1 failed, so nothing was applied")
	require.ErrorContains(t, err, "roles/artifactregistry.writer")
	require.ErrorContains(t, err, "uploadArtifacts", "quotes what docker said")
	calls := tl.Calls(t)
	require.Equal(t, "docker push us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1", calls[len(calls)-1], "push is the last call")
	for _, c := range calls {
		require.False(t, strings.HasPrefix(c, "kubectl"), "no kubectl after a failed push: %s", c)
	}
	require.Empty(t, tl.Applied(t))
}

func TestSetupStuckPods(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		pod      kubetest.Pod
		describe string
		logs     string
		want     []string
	}{
		"image pull": {
			pod: kubetest.Waiting("ltk-worker-1", "worker", "ImagePullBackOff", `Back-off pulling image "us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1"`, 0),
			describe: "Name: ltk-worker-1\nEvents:\n  Type     Reason   Age  From     Message\n" +
				"  Normal   Pulling  20s  kubelet  Pulling image\n" +
				"  Warning  Failed   19s  kubelet  Failed to pull image \"us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1\": 403 Forbidden\n",
			want: []string{"pod ltk-worker-1 is stuck (image pull): ImagePullBackOff", "Warning Failed 19s kubelet Failed to pull image", "403 Forbidden", "roles/artifactregistry.reader"},
		},
		"crash loop": {
			pod:  kubetest.Waiting("ltk-master-5d9c-abcde", "master", "CrashLoopBackOff", "back-off 40s restarting failed container", 3),
			logs: "ltk: LTK_QOS=\"2\" (for --qos): want 0 or 1\n",
			want: []string{"pod ltk-master-5d9c-abcde is stuck (crash loop): CrashLoopBackOff after 3 restarts", `LTK_QOS="2"`, "ltk-settings"},
		},
		"missing secret": {
			pod:  kubetest.Waiting("ltk-master-5d9c-abcde", "master", "CreateContainerConfigError", `secret "ltk-web" not found`, 0),
			want: []string{"stuck (configuration)", `secret "ltk-web" not found`, "re-run ltk setup"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tl := kubetest.Install(t)
			tl.Set(t, "cluster", "")
			tl.Set(t, "repo", "")
			tl.Set(t, "pods.json", kubetest.List(tc.pod))
			pod := tc.pod["metadata"].(map[string]any)["name"].(string)
			if tc.describe != "" {
				tl.Set(t, "describe-"+pod, tc.describe)
			}
			if tc.logs != "" {
				tl.Set(t, "logs-"+pod, tc.logs)
			}
			var out syncbuf.Buffer
			cfg := gkeConfig(t, tl, &out)
			cfg.WaitTimeout = time.Minute // a stuck pod ends the wait long before
			_, err := kube.Setup(t.Context(), cfg, runner(tl))
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestSetupUnschedulableUntilTimeout(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "cluster", "")
	tl.Set(t, "repo", "")
	tl.Set(t, "pods.json", kubetest.List(kubetest.Ready("ltk-master-5d9c-abcde", "master"),
		kubetest.Unschedulable("ltk-worker-0", "worker", "0/3 nodes are available: 3 Insufficient cpu.")))
	tl.Set(t, "describe-ltk-worker-0", "Events:\n  Warning  FailedScheduling  5s  default-scheduler  0/3 nodes are available: 3 Insufficient cpu.\n")
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	cfg.Values.Workers = 1
	cfg.WaitTimeout = 300 * time.Millisecond
	_, err := kube.Setup(t.Context(), cfg, runner(tl))
	require.ErrorContains(t, err, "pods not ready after 300ms")
	require.ErrorContains(t, err, "Insufficient cpu")
	require.ErrorContains(t, err, "add nodes")
	require.Equal(t, 1, strings.Count(out.String(), "pod ltk-worker-0 is stuck (unschedulable)"), "diagnosed once while waiting:\n%s", out.String())
}

func TestSetupUseContext(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Set(t, "context", "kind-ltk\n")
	tl.Set(t, "pods.json", readyPods(2))
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	cfg.UseContext, cfg.Project, cfg.Zone = true, "", ""
	cfg.Build, cfg.Image = false, "ltk:dev"
	cfg.Values.Workers = 2
	cfg.Values.UIService = kube.UIServiceCluster
	res, err := kube.Setup(t.Context(), cfg, runner(tl))
	require.NoError(t, err, out.String())
	require.Equal(t, "http://127.0.0.1:8089", res.URL)
	require.Contains(t, res.Hint, "kubectl --context kind-ltk -n ltk port-forward svc/ltk-master-web 8089:8089")
	calls := tl.Calls(t)
	require.Equal(t, "kubectl config current-context", calls[0])
	for _, c := range calls[1:] {
		require.True(t, strings.HasPrefix(c, "kubectl --context kind-ltk "), c)
	}
	st, _, err := kube.LoadState(cfg.StatePath)
	require.NoError(t, err)
	require.Equal(t, kube.State{Context: "kind-ltk", Namespace: "ltk", Image: "ltk:dev"}, st)
	// An image setup did not push may only be on the nodes (kind load): not pulled.
	workloads := tl.Applied(t)[2]
	require.Equal(t, 2, strings.Count(workloads, "imagePullPolicy: IfNotPresent"), workloads)
	require.NotContains(t, workloads, "imagePullPolicy: Always")
}

// TestSetupPullPolicy: an image setup builds and pushes is pulled Always (the
// next build pushes the same tag again), one deployed as it is IfNotPresent,
// and --image-pull-policy overrides either.
func TestSetupPullPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		build  bool
		policy string
		want   string
	}{
		{"built and pushed", true, "", "Always"},
		{"deployed as it is", false, "", "IfNotPresent"},
		{"chosen", false, "Never", "Never"},
		{"chosen for a built image", true, "IfNotPresent", "IfNotPresent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tl := kubetest.Install(t)
			tl.Set(t, "pods.json", readyPods(3))
			tl.Set(t, "lb-address", "203.0.113.7")
			var out syncbuf.Buffer
			cfg := gkeConfig(t, tl, &out)
			cfg.Build, cfg.Values.ImagePullPolicy = tc.build, tc.policy
			if !tc.build {
				cfg.Image = "us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1"
			}
			_, err := kube.Setup(t.Context(), cfg, runner(tl))
			require.NoError(t, err, out.String())
			applied := tl.Applied(t)
			workloads := applied[len(applied)-1]
			require.Contains(t, workloads, "kind: StatefulSet")
			require.Equal(t, 2, strings.Count(workloads, "imagePullPolicy: "), workloads)
			require.Equal(t, 2, strings.Count(workloads, "imagePullPolicy: "+tc.want), workloads)
		})
	}
}

func TestSetupMissingTools(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	tl.Only(t, "kubectl")
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	cfg.Path = tl.Bin // only the stand-ins, not the machine's tools
	_, err := kube.Setup(t.Context(), cfg, runner(tl))
	var missing *kube.MissingToolsError
	require.ErrorAs(t, err, &missing)
	require.Equal(t, []string{"gcloud", "docker"}, missing.Tools)
	require.ErrorContains(t, err, "https://cloud.google.com/sdk/docs/install")
	require.ErrorContains(t, err, "docs.docker.com/engine/install")
	require.Empty(t, tl.Calls(t))
}

func TestSetupDryRunRunsNothing(t *testing.T) {
	t.Parallel()
	tl := kubetest.Install(t)
	var out syncbuf.Buffer
	cfg := gkeConfig(t, tl, &out)
	cfg.DryRun = true
	cfg.Secrets.ClusterToken = "tok-123"
	var printed bytes.Buffer
	_, err := kube.Setup(t.Context(), cfg, &kube.DryRunner{Out: &printed})
	require.NoError(t, err)
	require.Empty(t, tl.Calls(t), "nothing ran")
	_, ok, err := kube.LoadState(cfg.StatePath)
	require.NoError(t, err)
	require.False(t, ok, "no state written")
	p := printed.String()
	for _, want := range []string{
		"$ gcloud container clusters create ltk --num-nodes 3",
		"$ docker push us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v1",
		"kind: StatefulSet", "podManagementPolicy: Parallel", "kind: Secret", "<redacted: 82 bytes>",
	} {
		require.Contains(t, p, want)
	}
	for _, secret := range []string{"PRIVATE KEY", "tok-123"} {
		require.NotContains(t, p+out.String(), secret)
	}
}
