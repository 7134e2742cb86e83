package kube

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Result is what a completed setup gives the user.
type Result struct {
	// URL is where the web UI answers; empty after a dry run. With a
	// ClusterIP UI service it is the port-forwarded local address.
	URL string
	// Hint is how to reach URL when it needs a step first (port-forward).
	Hint string
}

// Setup makes a test cluster ready: checks the tools, creates or picks the
// cluster, builds and pushes the image, creates the Secrets, applies the
// manifests, waits for the pods, and returns the web UI's address. Every step
// looks before it acts, so running it again after a failure continues where
// it stopped. What it creates is recorded at cfg.StatePath for Teardown.
func Setup(ctx context.Context, cfg Config, r Runner) (Result, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	s := &setup{cfg: cfg, r: r}
	prev, _, err := LoadState(cfg.StatePath)
	if err != nil {
		return Result{}, err
	}
	s.state = prev
	s.state.Namespace = cfg.Values.Namespace
	s.state.Image = cfg.image()

	if err := s.checkTools(cfg.Path); err != nil {
		return Result{}, err
	}
	steps := []struct {
		what string
		run  func(context.Context) error
	}{
		{"cluster", s.cluster},
		{"image", s.image},
		{"secrets", s.secrets},
		{"manifests", s.apply},
	}
	for _, st := range steps {
		if err := st.run(ctx); err != nil {
			return Result{}, err
		}
	}
	if cfg.DryRun {
		s.printf("then: wait for %s to be ready, and for the web UI's address", s.podsWanted())
		return Result{}, nil
	}
	if err := s.waitPods(ctx); err != nil {
		return Result{}, err
	}
	return s.uiAddress(ctx)
}

// setup is one run of Setup.
type setup struct {
	cfg   Config
	r     Runner
	state State
	kctx  string // the kubectl context everything is applied to
	// secretDocs are the Secrets as applied, for the pods' config hash.
	secretDocs [][]byte
	hashKey    []byte
}

// configHash digests what the pods read at start (Secrets and settings), so
// that a change restarts them and a re-run with the same values does not. It
// is an HMAC keyed by the cluster token, so that the annotation gives no
// help in guessing a password.
func configHash(key []byte, secrets [][]byte, settings map[string]string) string {
	m := hmac.New(sha256.New, key)
	for i, doc := range secrets { // as one stream, without joining a list of a million devices
		if i > 0 {
			m.Write([]byte("---\n"))
		}
		m.Write(doc)
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(m, "\x00%s=%s", k, settings[k])
	}
	return hex.EncodeToString(m.Sum(nil))[:16]
}

func (s *setup) printf(format string, args ...any) {
	fmt.Fprintf(s.cfg.Out, "LTK: "+format+"\n", args...)
}

// saveState records what was made so far (not in a dry run).
func (s *setup) saveState() error {
	if s.cfg.DryRun || s.cfg.StatePath == "" {
		return nil
	}
	return s.state.Save(s.cfg.StatePath)
}

// checkTools makes sure the tools this setup runs are installed.
func (s *setup) checkTools(pathList string) error {
	tools := []string{"kubectl"}
	if s.cfg.gke() || (s.cfg.Build && s.cfg.usesArtifactRegistry()) {
		tools = append([]string{"gcloud"}, tools...)
	}
	if s.cfg.Build {
		tools = append(tools, "docker")
	}
	err := CheckTools(pathList, tools...)
	if err != nil && s.cfg.DryRun {
		s.printf("note: %v", err)
		return nil
	}
	return err
}

// kubectl returns a kubectl command pinned to the setup's context.
func (s *setup) kubectl(args ...string) Cmd {
	return Cmd{Name: "kubectl", Args: append([]string{"--context", s.kctx}, args...)}
}

// applyCmd is a server-side apply of manifests read from standard input:
// no last-applied annotation (which would double a Secret's size), and the
// same result however often it runs.
func (s *setup) applyCmd(manifests []byte) Cmd {
	c := s.kubectl("apply", "--server-side", "--field-manager=ltk", "--force-conflicts", "-f", "-")
	c.Stdin = manifests
	return c
}

// secrets resolves the generated values, then applies the Secrets.
func (s *setup) secrets(ctx context.Context) error {
	ns := s.cfg.Values.Namespace
	nsManifest, err := Render(Values{Namespace: ns, Image: s.state.Image})
	if err != nil {
		return err
	}
	if _, err := s.r.Run(ctx, s.applyCmd(nsManifest[0].Data)); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns, err)
	}
	sec := s.cfg.Secrets
	tokenNote, err := s.resolve(ctx, &sec.ClusterToken, SecretCluster, "token", "LTK_CLUSTER_TOKEN")
	if err != nil {
		return err
	}
	if sec.WebUser == "" {
		sec.WebUser = "ltk"
	}
	passNote, err := s.resolve(ctx, &sec.WebPassword, SecretWeb, "password", "LTK_WEB_AUTH")
	if err != nil {
		return err
	}
	docs, err := RenderSecrets(ns, sec, false)
	if err != nil {
		return err
	}
	shown, _ := RenderSecrets(ns, sec, true) // cannot fail where the unredacted one did not
	masterTLS, tlsNote, err := s.masterTLS(ctx)
	if err != nil {
		return err
	}
	docs = append(docs, dataObject("Secret", SecretMasterTLS, ns, "cluster", masterTLS, false))
	shown = append(shown, dataObject("Secret", SecretMasterTLS, ns, "cluster", masterTLS, true))
	s.secretDocs = docs
	s.hashKey = []byte(sec.ClusterToken)
	if err := s.applyBatches(ctx, docs, shown); err != nil {
		return fmt.Errorf("create the Secrets: %w", err)
	}
	devices := SecretDevices
	if n := s.cfg.Values.DeviceParts; n > 1 {
		devices = fmt.Sprintf("%s…%s (the device list in %d parts of at most %d KiB, master only)",
			SecretDevices, PartObject(SecretDevices, n-1), n, PartBytes/1024)
	} else {
		devices += " (the device list, master only)"
	}
	s.printf("Secrets in namespace %s: %s, %s (cluster token, %s), %s (web UI user %s, password %s), %s (TLS of the workers' port, %s)",
		ns, devices, SecretCluster, tokenNote, SecretWeb, sec.WebUser, passNote, SecretMasterTLS, tlsNote)
	s.printf("read the web password with: kubectl --context %s -n %s get secret %s -o jsonpath='{.data.password}' | base64 -d",
		s.kctx, ns, SecretWeb)
	if s.cfg.Values.Target {
		if err := s.applyBatches(ctx, RenderRegistry(ns, s.cfg.RegistryCSV), nil); err != nil {
			return fmt.Errorf("create the registry ConfigMaps: %w", err)
		}
	}
	return nil
}

// applyBatch is the most manifest text one kubectl apply reads: it sends
// each object in a request of its own, but holds the whole stream.
const applyBatch = 8 << 20

// applyBatches applies docs in batches (Batches). shown, when not nil, are
// the redacted docs: the batches then hold secrets, which a dry run prints
// redacted.
func (s *setup) applyBatches(ctx context.Context, docs, shown [][]byte) error {
	lo := 0
	for _, hi := range Batches(docs, applyBatch) {
		c := s.applyCmd(joinDocs(docs[lo:hi]))
		if shown != nil {
			c.Secret, c.Shown = true, joinDocs(shown[lo:hi])
		}
		if _, err := s.r.Run(ctx, c); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}

// resolve fills an unset secret value: the one already in the cluster, so
// that re-running setup keeps it, else a new random one. It returns a note
// saying where the value came from.
func (s *setup) resolve(ctx context.Context, v *string, secret, key, envName string) (string, error) {
	if *v != "" {
		return "from " + envName, nil
	}
	out, err := s.r.Run(ctx, Cmd{Name: "kubectl", Query: true, Args: []string{"--context", s.kctx,
		"-n", s.cfg.Values.Namespace, "get", "secret", secret, "--ignore-not-found", "-o", "jsonpath={.data." + key + "}"}})
	switch {
	case errors.Is(err, ErrDryRun):
	case err != nil:
		return "", fmt.Errorf("read Secret %s: %w", secret, err)
	case len(bytes.TrimSpace(out)) > 0:
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(out)))
		if err == nil && len(b) > 0 {
			*v = string(b)
			return "kept from the last setup", nil
		}
	}
	*v = RandomToken(16)
	return "generated; set " + envName + " to choose it", nil
}

// apply applies the workload manifests.
func (s *setup) apply(ctx context.Context) error {
	v := s.cfg.Values
	v.Image = s.state.Image
	v.MasterTLS = true // the Secret was made by the secrets step
	v.ConfigHash = configHash(s.hashKey, s.secretDocs, v.Settings)
	ms, err := Render(v)
	if err != nil {
		return err
	}
	if _, err := s.r.Run(ctx, s.applyCmd(Join(ms[1:]))); err != nil { // ms[0] is the namespace, applied already
		return fmt.Errorf("apply the manifests: %w", err)
	}
	s.printf("applied %s to namespace %s", s.podsWanted(), v.Namespace)
	return s.saveState()
}

// podsWanted says which pods setup waits for.
func (s *setup) podsWanted() string {
	w := fmt.Sprintf("the master and %d workers", s.cfg.Values.Workers)
	if s.cfg.Values.Target {
		w = fmt.Sprintf("the master, %d workers and the target", s.cfg.Values.Workers)
	}
	return w
}
