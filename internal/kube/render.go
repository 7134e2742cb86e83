package kube

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"
)

// The manifest templates, one file per concern; files starting with _ hold
// shared definitions only.
//
//go:embed manifests/*.tmpl
var manifestFS embed.FS

// Defaults of Values.
const (
	DefaultNamespace  = "ltk"
	DefaultMasterPort = 5557
	DefaultWebPort    = 8089
	DefaultHealthPort = 8080
	DefaultWorkers    = 2
	UIServiceLB       = "LoadBalancer"
	UIServiceCluster  = "ClusterIP"
	UIServiceNodePort = "NodePort"
)

// Image pull policies.
const (
	PullAlways       = "Always"
	PullIfNotPresent = "IfNotPresent"
	PullNever        = "Never"
)

// Resources are a container's resource requests and limits in Kubernetes
// quantities ("500m", "512Mi").
type Resources struct {
	CPU, Memory           string // requests
	CPULimit, MemoryLimit string // limits
}

// Values are what the manifests are rendered from.
type Values struct {
	Namespace       string // default DefaultNamespace
	Image           string // the ltk image, e.g. us-west1-docker.pkg.dev/P/ltk/ltk:v1
	ImagePullPolicy string // Always, IfNotPresent (default) or Never; setup picks one (Config.setDefaults)
	Workers         int    // worker StatefulSet replicas (LTK_NUM_LOCUST_WORKERS)
	MasterPort      int    // gRPC, inside the cluster; default DefaultMasterPort
	WebPort         int    // web UI; default DefaultWebPort
	// UIService is the web UI Service's type: LoadBalancer (default),
	// NodePort or ClusterIP (reach it with kubectl port-forward).
	UIService string
	// SourceRanges are the CIDRs allowed to reach a LoadBalancer UI; empty
	// allows any address (the UI then relies on its basic auth alone).
	SourceRanges []string
	// Settings are the non-secret LTK_* variables of the test (broker, auth,
	// behaviour), put in the ltk-settings ConfigMap for the master and target.
	Settings map[string]string
	// MQTTPassword adds LTK_PASSWORD to the master from the ltk-web Secret.
	MQTTPassword bool
	// Target deploys ltk's own IoT target (ltk target) as ltk-target:1883.
	Target bool
	// MasterTLS serves the master's gRPC port over TLS from the
	// SecretMasterTLS Secret, which workers verify with its ca.crt.
	MasterTLS bool
	// DeviceParts and RegistryParts are how many Secrets (ConfigMaps) the
	// device list (the registry) is split into (kube.Parts); the master
	// (the target) mounts them all into one directory. Default 1.
	DeviceParts, RegistryParts int

	Master, Worker, TargetRes Resources
	// ConfigHash, when set, annotates the master and worker pods, so that
	// they restart when the Secrets or settings they read at start change.
	ConfigHash string
	// HealthPort is where a worker serves its probes (ltk worker
	// --health-addr): /healthz for the startup and liveness probes, /readyz,
	// ready once the master welcomed it, for the readiness probe. Default
	// DefaultHealthPort.
	HealthPort int
}

// setDefaults fills unset fields.
func (v *Values) setDefaults() {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&v.Namespace, DefaultNamespace)
	def(&v.ImagePullPolicy, PullIfNotPresent)
	def(&v.UIService, UIServiceLB)
	if v.Workers == 0 {
		v.Workers = DefaultWorkers
	}
	v.DeviceParts = max(v.DeviceParts, 1)
	v.RegistryParts = max(v.RegistryParts, 1)
	if v.MasterPort == 0 {
		v.MasterPort = DefaultMasterPort
	}
	if v.WebPort == 0 {
		v.WebPort = DefaultWebPort
	}
	if v.HealthPort == 0 {
		v.HealthPort = DefaultHealthPort
	}
	res := func(r *Resources, cpu, mem, cpuLim, memLim string) {
		def(&r.CPU, cpu)
		def(&r.Memory, mem)
		def(&r.CPULimit, cpuLim)
		def(&r.MemoryLimit, memLim)
	}
	res(&v.Master, "500m", "256Mi", "2", "1Gi")
	res(&v.Worker, "1", "1Gi", "2", "2Gi")
	res(&v.TargetRes, "1", "512Mi", "2", "2Gi")
}

var (
	dnsLabel   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	settingKey = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	cidr       = regexp.MustCompile(`^[0-9a-fA-F:.]+/[0-9]{1,3}$`)
)

// Validate checks v after defaults, naming the field that is wrong.
func (v *Values) Validate() error {
	switch {
	case !dnsLabel.MatchString(v.Namespace):
		return fmt.Errorf("namespace %q: want a DNS label (lowercase letters, digits, '-')", v.Namespace)
	case v.Image == "" || strings.ContainsAny(v.Image, " \t\n\"'"):
		return fmt.Errorf("image %q: want an image reference such as REGION-docker.pkg.dev/PROJECT/ltk/ltk:TAG", v.Image)
	case v.Workers < 1 || v.Workers > MaxWorkers:
		return fmt.Errorf("workers %d: want 1 to %d (LTK_NUM_LOCUST_WORKERS)", v.Workers, MaxWorkers)
	case v.UIService != UIServiceLB && v.UIService != UIServiceCluster && v.UIService != UIServiceNodePort:
		return fmt.Errorf("UI service type %q: want LoadBalancer, NodePort or ClusterIP", v.UIService)
	case v.ImagePullPolicy != PullAlways && v.ImagePullPolicy != PullIfNotPresent && v.ImagePullPolicy != PullNever:
		return fmt.Errorf("image pull policy %q: want Always, IfNotPresent or Never (--image-pull-policy)", v.ImagePullPolicy)
	}
	for _, r := range v.SourceRanges {
		if !cidr.MatchString(r) {
			return fmt.Errorf("UI source range %q: want a CIDR such as 203.0.113.0/24", r)
		}
	}
	for k := range v.Settings {
		if !settingKey.MatchString(k) {
			return fmt.Errorf("setting %q: want an environment variable name", k)
		}
	}
	return nil
}

// Manifest is one rendered manifest file.
type Manifest struct {
	Name string // e.g. master.yaml
	Data []byte // one or more YAML documents
}

// manifestOrder is the order of the manifest files: the namespace first,
// then what the pods read, then the pods.
var manifestOrder = []string{"namespace", "settings", "master", "worker", "target"}

// Render renders the workload manifests (everything but the Secrets and the
// registry ConfigMap, which hold data) in apply order. Empty files (the target
// when v.Target is false) are left out.
func Render(v Values) ([]Manifest, error) {
	v.setDefaults()
	if err := v.Validate(); err != nil {
		return nil, err
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	var out []Manifest
	for _, name := range manifestOrder {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, name+".yaml.tmpl", v); err != nil {
			return nil, fmt.Errorf("render %s manifest: %w", name, err)
		}
		if len(bytes.TrimSpace(b.Bytes())) == 0 {
			continue
		}
		out = append(out, Manifest{Name: name + ".yaml", Data: b.Bytes()})
	}
	return out, nil
}

// Join returns the manifests as one multi-document YAML stream.
func Join(ms []Manifest) []byte {
	var b bytes.Buffer
	for i, m := range ms {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(m.Data)
		if len(m.Data) > 0 && m.Data[len(m.Data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func parseTemplates() (*template.Template, error) {
	t := template.New("manifests")
	t.Funcs(template.FuncMap{
		"quote": quote,
		"parts": func(base string, n int) []string {
			names := make([]string, n)
			for i := range names {
				names[i] = PartObject(base, i)
			}
			return names
		},
		"nindent": func(n int, s string) string {
			pad := strings.Repeat(" ", n)
			return "\n" + pad + strings.ReplaceAll(s, "\n", "\n"+pad)
		},
		"include": func(name string, data any) (string, error) {
			var b strings.Builder
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
	})
	return t.ParseFS(manifestFS, "manifests/*.tmpl")
}

// quote returns s as a double-quoted YAML scalar (JSON strings are YAML).
func quote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
