package kube

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

// objects are rendered manifests decoded strictly into the API types.
type objects struct {
	namespaces   []corev1.Namespace
	configMaps   []corev1.ConfigMap
	secrets      []corev1.Secret
	services     []corev1.Service
	deployments  []appsv1.Deployment
	statefulSets []appsv1.StatefulSet
	policies     []networkingv1.NetworkPolicy
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decode splits a YAML stream into documents and decodes each strictly (an
// unknown or misplaced field fails) into the type its kind names.
func decode(t *testing.T, stream []byte) *objects {
	t.Helper()
	o := &objects{}
	for i, doc := range docSep.Split(string(stream), -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var meta struct{ Kind string }
		require.NoError(t, yaml.Unmarshal([]byte(doc), &meta), "document %d", i)
		var err error
		strict := func(v any) { err = yaml.UnmarshalStrict([]byte(doc), v) }
		switch meta.Kind {
		case "Namespace":
			o.namespaces = append(o.namespaces, corev1.Namespace{})
			strict(&o.namespaces[len(o.namespaces)-1])
		case "ConfigMap":
			o.configMaps = append(o.configMaps, corev1.ConfigMap{})
			strict(&o.configMaps[len(o.configMaps)-1])
		case "Secret":
			o.secrets = append(o.secrets, corev1.Secret{})
			strict(&o.secrets[len(o.secrets)-1])
		case "Service":
			o.services = append(o.services, corev1.Service{})
			strict(&o.services[len(o.services)-1])
		case "Deployment":
			o.deployments = append(o.deployments, appsv1.Deployment{})
			strict(&o.deployments[len(o.deployments)-1])
		case "StatefulSet":
			o.statefulSets = append(o.statefulSets, appsv1.StatefulSet{})
			strict(&o.statefulSets[len(o.statefulSets)-1])
		case "NetworkPolicy":
			o.policies = append(o.policies, networkingv1.NetworkPolicy{})
			strict(&o.policies[len(o.policies)-1])
		default:
			t.Fatalf("document %d: unexpected kind %q:\n%s", i, meta.Kind, doc)
		}
		require.NoError(t, err, "document %d (%s) does not decode strictly:\n%s", i, meta.Kind, doc)
	}
	return o
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// pods returns each workload's pod spec by component.
func (o *objects) pods() map[string]corev1.PodSpec {
	m := map[string]corev1.PodSpec{}
	for _, d := range o.deployments {
		m[d.Spec.Template.Labels["app.kubernetes.io/component"]] = d.Spec.Template.Spec
	}
	for _, s := range o.statefulSets {
		m[s.Spec.Template.Labels["app.kubernetes.io/component"]] = s.Spec.Template.Spec
	}
	return m
}

func (o *objects) service(t *testing.T, name string) corev1.Service {
	t.Helper()
	for _, s := range o.services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no Service %s", name)
	return corev1.Service{}
}

// secretsUsed lists the Secrets a pod spec reads, as volumes or env.
func secretsUsed(p corev1.PodSpec) []string {
	seen := map[string]bool{}
	for _, v := range p.Volumes {
		if v.Secret != nil {
			seen[v.Secret.SecretName] = true
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					seen[s.Secret.Name] = true
				}
			}
		}
	}
	for _, c := range append(p.InitContainers, p.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				seen[e.ValueFrom.SecretKeyRef.Name] = true
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				seen[e.SecretRef.Name] = true
			}
		}
	}
	var out []string
	for s := range seen {
		out = append(out, s)
	}
	return out
}

func render(t *testing.T, v Values) []byte {
	t.Helper()
	ms, err := Render(v)
	require.NoError(t, err)
	return Join(ms)
}

func fullValues() Values {
	return Values{
		Image: "us-west1-docker.pkg.dev/p/ltk/ltk:v1", Workers: 5, Target: true, MQTTPassword: true,
		SourceRanges: []string{"203.0.113.0/24", "2001:db8::/32"},
		Settings:     map[string]string{"LTK_BROKER": "tcp://ltk-target:1883", "LTK_AUTH": "jwt", "LTK_TARGET_PROJECT_ID": "p"},
	}
}

func TestRenderWorkerOrdinals(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 3, 50} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			v := fullValues()
			v.Workers = n
			o := decode(t, render(t, v))
			require.Len(t, o.statefulSets, 1)
			sts := o.statefulSets[0]
			require.Equal(t, int32(n), *sts.Spec.Replicas)
			require.Equal(t, appsv1.ParallelPodManagement, sts.Spec.PodManagementPolicy, "all workers start at once")
			// StatefulSet pods are named NAME-0 … NAME-(n-1); a worker's ordinal is its name's suffix.
			for k := range n {
				name := fmt.Sprintf("%s-%d", sts.Name, k)
				i := strings.LastIndexByte(name, '-')
				ord, err := strconv.Atoi(name[i+1:])
				require.NoError(t, err)
				require.Equal(t, k, ord)
				require.Equal(t, "ltk-worker", name[:i])
			}
			gov := o.service(t, sts.Spec.ServiceName)
			require.Equal(t, corev1.ClusterIPNone, gov.Spec.ClusterIP, "governing Service is headless")
			require.Equal(t, sts.Spec.Selector.MatchLabels, gov.Spec.Selector)
			require.Subset(t, sts.Spec.Template.Labels, sts.Spec.Selector.MatchLabels)
			args := strings.Join(o.pods()["master"].Containers[0].Args, " ")
			require.Contains(t, args, fmt.Sprintf("--expect-workers=%d", n))
		})
	}
}

func TestRenderSecretsMountedOnlyWhereNeeded(t *testing.T) {
	t.Parallel()
	o := decode(t, render(t, fullValues()))
	pods := o.pods()
	require.ElementsMatch(t, []string{SecretDevices, SecretCluster, SecretWeb}, secretsUsed(pods["master"]))
	require.ElementsMatch(t, []string{SecretCluster}, secretsUsed(pods["worker"]), "workers get their devices from the master")
	require.Empty(t, secretsUsed(pods["target"]), "the target needs public keys only")
	require.Len(t, pods["target"].Volumes, 1)

	require.Len(t, pods["target"].Volumes[0].Projected.Sources, 1)
	require.Equal(t, ConfigRegistry, pods["target"].Volumes[0].Projected.Sources[0].ConfigMap.Name)

	m := pods["master"]
	var devices *corev1.Volume
	for i := range m.Volumes {
		if p := m.Volumes[i].Projected; p != nil && len(p.Sources) > 0 && p.Sources[0].Secret.Name == SecretDevices {
			devices = &m.Volumes[i]
		}
	}
	require.NotNil(t, devices)
	require.Equal(t, int32(0o440), *devices.Projected.DefaultMode, "readable by the pod's group only")
	var mounted bool
	for _, vm := range m.Containers[0].VolumeMounts {
		if vm.Name == devices.Name {
			mounted = true
			require.True(t, vm.ReadOnly)
			require.Contains(t, m.Containers[0].Args, "--devices-file="+vm.MountPath, "the master reads the directory of parts")
		}
	}
	require.True(t, mounted)
	require.Empty(t, o.secrets, "workload manifests hold no Secrets: those are rendered apart, with their data")
}

func TestRenderKeysOnlyInSecrets(t *testing.T) {
	t.Parallel()
	list := []byte("LTK00001,-----BEGIN EC PRIVATE KEY----- MHcCAQEEIA== -----END EC PRIVATE KEY-----\n")
	sec := Secrets{DeviceList: list, ClusterToken: "tok-123", WebUser: "ltk", WebPassword: "pw-456", MQTTPassword: "mqtt-789"}
	workloads := render(t, fullValues())
	docs, err := RenderSecrets("ltk", sec, false)
	require.NoError(t, err)
	for _, s := range []string{"PRIVATE KEY", "tok-123", "pw-456", "mqtt-789", base64.StdEncoding.EncodeToString(list)} {
		require.NotContains(t, string(workloads), s)
	}
	o := decode(t, joinDocs(docs))
	require.Len(t, o.secrets, 3)
	got := map[string]map[string][]byte{}
	for _, s := range o.secrets {
		require.Equal(t, "ltk", s.Namespace)
		require.Equal(t, corev1.SecretTypeOpaque, s.Type)
		got[s.Name] = s.Data
	}
	require.Equal(t, list, got[SecretDevices][DeviceListKey])
	require.Equal(t, "tok-123", string(got[SecretCluster]["token"]))
	require.Equal(t, "ltk:pw-456", string(got[SecretWeb]["auth"]))
	require.Equal(t, "mqtt-789", string(got[SecretWeb]["mqtt-password"]))

	docs, err = RenderSecrets("ltk", sec, true)
	require.NoError(t, err)
	redacted := joinDocs(docs)
	decode(t, redacted)
	for _, s := range []string{"PRIVATE", "tok-123", "pw-456", "mqtt-789", base64.StdEncoding.EncodeToString([]byte("tok-123"))} {
		require.NotContains(t, string(redacted), s)
	}
	require.Contains(t, string(redacted), "<redacted")
}

func TestRenderSecurity(t *testing.T) {
	t.Parallel()
	v := fullValues()
	o := decode(t, render(t, v))
	pods := o.pods()
	require.Len(t, pods, 3)
	for comp, p := range pods {
		require.NotNil(t, p.SecurityContext, comp)
		require.True(t, *p.SecurityContext.RunAsNonRoot, comp)
		require.NotZero(t, *p.SecurityContext.RunAsUser, comp)
		require.False(t, *p.AutomountServiceAccountToken, comp)
		require.Len(t, p.Containers, 1)
		c := p.Containers[0]
		require.Equal(t, v.Image, c.Image, comp)
		sc := c.SecurityContext
		require.NotNil(t, sc, comp)
		require.False(t, *sc.AllowPrivilegeEscalation, comp)
		require.True(t, *sc.ReadOnlyRootFilesystem, comp)
		require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, comp)
		require.NotNil(t, c.ReadinessProbe, "%s readiness probe", comp)
		require.NotNil(t, c.LivenessProbe, "%s liveness probe", comp)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			require.Contains(t, c.Resources.Requests, r, comp)
			require.Contains(t, c.Resources.Limits, r, comp)
			req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
			require.LessOrEqual(t, req.Cmp(lim), 0, "%s %s request ≤ limit", comp, r)
		}
	}
	require.Equal(t, []string{"worker", "--master-host=ltk-master", "--master-port=5557", "--health-addr=:8080"}, pods["worker"].Containers[0].Args)
}

// TestRenderProbes: a worker is ready once its master welcomed it (/readyz)
// and live while it answers (/healthz), on the port --health-addr names; the
// master is live while its web server answers. No probe merely runs the binary.
func TestRenderProbes(t *testing.T) {
	t.Parallel()
	pods := decode(t, render(t, fullValues())).pods()
	httpGet := func(p *corev1.Probe, comp, which string) (string, string) {
		t.Helper()
		require.NotNil(t, p, "%s %s probe", comp, which)
		require.Nil(t, p.Exec, "%s %s probe runs a command", comp, which)
		require.NotNil(t, p.HTTPGet, "%s %s probe", comp, which)
		return p.HTTPGet.Path, p.HTTPGet.Port.String()
	}
	w := pods["worker"].Containers[0]
	require.Equal(t, []corev1.ContainerPort{{Name: "health", ContainerPort: DefaultHealthPort}}, w.Ports)
	for which, p := range map[string]*corev1.Probe{"startup": w.StartupProbe, "liveness": w.LivenessProbe} {
		path, port := httpGet(p, "worker", which)
		require.Equal(t, "/healthz", path, which)
		require.Equal(t, "health", port, which)
	}
	path, port := httpGet(w.ReadinessProbe, "worker", "readiness")
	require.Equal(t, "/readyz", path)
	require.Equal(t, "health", port)

	m := pods["master"].Containers[0]
	path, port = httpGet(m.LivenessProbe, "master", "liveness")
	require.Equal(t, "/healthz", path)
	require.Equal(t, "web", port)
	require.NotNil(t, m.ReadinessProbe.TCPSocket, "the master is ready when workers can open its gRPC port")
	require.Equal(t, "grpc", m.ReadinessProbe.TCPSocket.Port.String())
}

func TestRenderServices(t *testing.T) {
	t.Parallel()
	o := decode(t, render(t, fullValues()))
	grpc := o.service(t, "ltk-master")
	require.Equal(t, corev1.ServiceTypeClusterIP, grpc.Spec.Type, "gRPC stays inside the cluster")
	require.Equal(t, int32(DefaultMasterPort), grpc.Spec.Ports[0].Port)
	web := o.service(t, "ltk-master-web")
	require.Equal(t, corev1.ServiceTypeLoadBalancer, web.Spec.Type)
	require.Equal(t, []string{"203.0.113.0/24", "2001:db8::/32"}, web.Spec.LoadBalancerSourceRanges)
	for _, s := range o.services {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			for _, p := range s.Spec.Ports {
				require.Equal(t, int32(DefaultWebPort), p.Port, "only the UI is outside the cluster")
			}
		}
	}
	target := o.service(t, "ltk-target")
	require.Equal(t, corev1.ServiceTypeClusterIP, target.Spec.Type)
	require.Len(t, o.policies, 1)
	require.Equal(t, "worker", o.policies[0].Spec.Ingress[0].From[0].PodSelector.MatchLabels["app.kubernetes.io/component"])

	v := fullValues()
	v.UIService, v.Target = UIServiceCluster, false
	o = decode(t, render(t, v))
	web = o.service(t, "ltk-master-web")
	require.Equal(t, corev1.ServiceTypeClusterIP, web.Spec.Type)
	require.Empty(t, web.Spec.LoadBalancerSourceRanges)
	require.NotContains(t, o.pods(), "target")
	require.Len(t, o.deployments, 1)
}

func TestRenderSettings(t *testing.T) {
	t.Parallel()
	o := decode(t, render(t, fullValues()))
	require.Len(t, o.configMaps, 1)
	require.Equal(t, map[string]string{"LTK_BROKER": "tcp://ltk-target:1883", "LTK_AUTH": "jwt", "LTK_TARGET_PROJECT_ID": "p"},
		o.configMaps[0].Data)
	v := fullValues()
	v.Settings = map[string]string{"LTK_BROKER": "tcp://a:1\n  evil: \"x\""}
	o = decode(t, render(t, v))
	require.Equal(t, map[string]string{"LTK_BROKER": "tcp://a:1\n  evil: \"x\""}, o.configMaps[0].Data, "values are quoted, never spliced")
}

func TestRenderRegistry(t *testing.T) {
	t.Parallel()
	o := decode(t, joinDocs(RenderRegistry("ltk", []byte("id,alg,public_key\nLTK00001,ES256,-----BEGIN PUBLIC KEY----- AA== -----END PUBLIC KEY-----\n"))))
	require.Len(t, o.configMaps, 1)
	require.Equal(t, ConfigRegistry, o.configMaps[0].Name)
	require.Contains(t, o.configMaps[0].Data[RegistryFileKey], "LTK00001,ES256")
}

func TestRenderRejects(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		edit func(*Values)
		want string
	}{
		"no image":     {func(v *Values) { v.Image = "" }, "image"},
		"image quote":  {func(v *Values) { v.Image = `a"b` }, "image"},
		"workers":      {func(v *Values) { v.Workers = -1 }, "workers -1"},
		"namespace":    {func(v *Values) { v.Namespace = "Not_OK" }, "namespace"},
		"service type": {func(v *Values) { v.UIService = "Ingress" }, "UI service type"},
		"source range": {func(v *Values) { v.SourceRanges = []string{"everyone"} }, "source range"},
		"setting name": {func(v *Values) { v.Settings = map[string]string{"a: b": "c"} }, "setting"},
		"pull policy":  {func(v *Values) { v.ImagePullPolicy = "Sometimes" }, "pull policy"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := fullValues()
			tc.edit(&v)
			_, err := Render(v)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
