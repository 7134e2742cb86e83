package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/kube"
	"github.com/ltk-dev/ltk/internal/kube/kubetest"
)

// setupEnv is an ltk root with 3 devices, a Dockerfile, the tutorial's .env
// and recording stand-ins for gcloud, kubectl and docker first on PATH.
func setupEnv(t *testing.T) (*clitest.Env, *kubetest.Tools) {
	t.Helper()
	e := clitest.NewEnv(t)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, ".env"), []byte(
		"LTK_NUM_LOCUST_WORKERS=3\nLTK_NUM_GKE_NODES=4\nLTK_DRIVER_PROJECT_ID=my-ltk-driver\nLTK_DRIVER_ZONE=us-west1-a\n"+
			"LTK_TARGET_PROJECT_ID=iot-project\nLTK_BROKER=ssl://mqtt.example.com:8883\n"), 0o600))
	run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--alg", "ES256", "--quiet") // after .env: ltk reads it once
	tl := kubetest.Install(t)
	e.Vars["PATH"] = tl.Path()
	return e, tl
}

func TestSetupCommand(t *testing.T) {
	t.Parallel()
	e, tl := setupEnv(t)
	e.Vars["LTK_PASSWORD"] = "mqtt-secret-1"
	tl.Set(t, "pods.json", kubetest.List(kubetest.Ready("ltk-master-1", "master"),
		kubetest.Ready("ltk-worker-0", "worker"), kubetest.Ready("ltk-worker-1", "worker"), kubetest.Ready("ltk-worker-2", "worker")))
	tl.Set(t, "lb-address", "203.0.113.7")
	run(t, e, cli.ExitOK, "setup", "--tag", "v9", "--poll-interval", "1ms", "--ui-source-ranges", "198.51.100.0/24,203.0.113.0/24")
	out := e.Stdout()
	require.True(t, strings.HasSuffix(out, "LTK: Test setup complete, visit http://203.0.113.7:8089 to launch a test.\n"), out)

	calls := strings.Join(tl.Calls(t), "\n")
	require.Contains(t, calls, "gcloud container clusters create ltk --num-nodes 4 ", "LTK_NUM_GKE_NODES")
	require.Contains(t, calls, "docker build --platform linux/amd64 --build-arg VERSION=v9 --tag us-west1-docker.pkg.dev/my-ltk-driver/ltk/ltk:v9 "+e.Dir)
	applied := tl.Applied(t)
	require.Len(t, applied, 3)
	secrets, workloads := applied[1], applied[2]
	require.Contains(t, workloads, "replicas: 3", "LTK_NUM_LOCUST_WORKERS")
	require.Contains(t, workloads, "--expect-workers=3")
	require.Contains(t, workloads, `LTK_BROKER: "ssl://mqtt.example.com:8883"`)
	require.Contains(t, workloads, `LTK_TARGET_PROJECT_ID: "iot-project"`)
	require.Contains(t, workloads, `- "198.51.100.0/24"`)
	require.NotContains(t, workloads, "mqtt-secret-1", "the MQTT password is a Secret, not a setting")
	require.NotContains(t, workloads, "PRIVATE KEY")
	require.Contains(t, secrets, "mqtt-password")
	require.NotContains(t, out+e.Stderr(), "PRIVATE KEY")
	require.NotContains(t, out+e.Stderr(), "mqtt-secret-1")

	st, ok, err := kube.LoadState(filepath.Join(e.Dir, kube.StateFile))
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, st.CreatedCluster)

	// Teardown asks, and "no" deletes nothing.
	tl.ResetCalls(t)
	e.Stdin = strings.NewReader("n\n")
	run(t, e, cli.ExitError, "teardown")
	require.Contains(t, e.Stdout(), "GKE cluster ltk in us-west1-a, project my-ltk-driver (ltk setup created it)")
	require.Contains(t, e.Stderr(), "teardown not confirmed")
	require.Contains(t, e.Stderr(), "ltk teardown --yes")
	require.Empty(t, tl.Calls(t))

	e.Stdin = strings.NewReader("y\n")
	run(t, e, cli.ExitOK, "teardown")
	require.Equal(t, []string{
		"kubectl --context gke_my-ltk-driver_us-west1-a_ltk delete namespace ltk --ignore-not-found --wait=true --timeout=10m",
		"gcloud container clusters delete ltk --zone us-west1-a --project my-ltk-driver --quiet",
		"gcloud artifacts repositories delete ltk --location us-west1 --project my-ltk-driver --quiet",
	}, tl.Calls(t))
	require.False(t, tl.Has("cluster"))
	require.NoFileExists(t, filepath.Join(e.Dir, kube.StateFile))
}

func TestSetupCommandDryRun(t *testing.T) {
	t.Parallel()
	e, tl := setupEnv(t)
	e.Vars["LTK_WEB_AUTH"] = "admin:web-secret-2"
	e.Vars["LTK_MQTT_CLIENT"] = "paho"
	run(t, e, cli.ExitOK, "setup", "--dry-run", "--target")
	require.Empty(t, tl.Calls(t), "a dry run runs nothing")
	require.NoFileExists(t, filepath.Join(e.Dir, kube.StateFile))
	out := e.Stdout()
	for _, want := range []string{
		"$ gcloud container clusters create ltk", "$ docker push", "kind: StatefulSet", "name: ltk-target",
		`LTK_BROKER: "ssl://mqtt.example.com:8883"`, `LTK_MQTT_CLIENT: "paho"`, "<redacted", "LTK: dry run complete: nothing was run.",
	} {
		require.Contains(t, out, want)
	}
	for _, secret := range []string{"PRIVATE KEY", "web-secret-2"} {
		require.NotContains(t, out+e.Stderr(), secret)
	}
}

func TestSetupCommandErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		edit func(t *testing.T, e *clitest.Env, tl *kubetest.Tools)
		args []string
		code cli.ExitCode
		want []string
	}{
		"no devices": {
			edit: func(t *testing.T, e *clitest.Env, _ *kubetest.Tools) {
				require.NoError(t, os.Remove(filepath.Join(e.Dir, "devicelist.csv")))
			},
			code: cli.ExitUsage, want: []string{"no devices in devicelist.csv", "ltk devices create 1 100"},
		},
		"no broker": {
			edit: func(_ *testing.T, e *clitest.Env, _ *kubetest.Tools) { e.Vars["LTK_BROKER"] = "" },
			code: cli.ExitUsage, want: []string{"no broker", "--target"},
		},
		"no broker in a dry run": {
			edit: func(_ *testing.T, e *clitest.Env, _ *kubetest.Tools) { e.Vars["LTK_BROKER"] = "" },
			args: []string{"--dry-run"},
			code: cli.ExitUsage, want: []string{"no broker for the devices in the cluster: the master would exit at start", "--target"},
		},
		"no Dockerfile": {
			edit: func(t *testing.T, e *clitest.Env, _ *kubetest.Tools) {
				require.NoError(t, os.Remove(filepath.Join(e.Dir, "Dockerfile")))
			},
			code: cli.ExitUsage, want: []string{"no Dockerfile", "--build=false"},
		},
		"bad web auth": {
			args: []string{"--web-auth", "nocolon"},
			code: cli.ExitUsage, want: []string{"--web-auth (LTK_WEB_AUTH): want user:password"},
		},
		"bad web auth file": {
			edit: func(t *testing.T, e *clitest.Env, _ *kubetest.Tools) {
				require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "web-auth"), []byte("nocolon\n"), 0o600))
				e.Vars["LTK_WEB_AUTH_FILE"] = "web-auth"
			},
			code: cli.ExitUsage, want: []string{"--web-auth (LTK_WEB_AUTH): want user:password"},
		},
		"empty MQTT password file": {
			edit: func(t *testing.T, e *clitest.Env, _ *kubetest.Tools) {
				require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "mqtt-pass"), nil, 0o600))
				e.Vars["LTK_PASSWORD_FILE"] = "mqtt-pass"
			},
			code: cli.ExitUsage, want: []string{"LTK_PASSWORD_FILE: the secret file", "mqtt-pass is empty"},
		},
		"no project": {
			edit: func(_ *testing.T, e *clitest.Env, _ *kubetest.Tools) { e.Vars["LTK_DRIVER_PROJECT_ID"] = "" },
			code: cli.ExitError, want: []string{"LTK_DRIVER_PROJECT_ID", "--use-context"},
		},
		"missing docker": {
			edit: func(t *testing.T, e *clitest.Env, tl *kubetest.Tools) {
				tl.Only(t, "gcloud", "kubectl")
				e.Vars["PATH"] = tl.Bin
			},
			code: cli.ExitError, want: []string{"missing docker on PATH", "docs.docker.com", "hint: install them"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, tl := setupEnv(t)
			if tc.edit != nil {
				tc.edit(t, e, tl)
			}
			run(t, e, tc.code, append([]string{"setup"}, tc.args...)...)
			for _, w := range tc.want {
				require.Contains(t, e.Stderr(), w)
			}
			require.Empty(t, tl.Applied(t))
		})
	}
}

// With the IoT-Core-API registry backend, the broker defaults to that
// service's MQTT bridge.
func TestSetupCommandIoTCoreBroker(t *testing.T) {
	t.Parallel()
	for endpoint, bridge := range map[string]string{
		"grpc://iot.example.com:8085": "ssl://iot.example.com:8883",
		"":                            "ssl://mqtt.googleapis.com:8883",
	} {
		e, _ := setupEnv(t)
		e.Vars["LTK_BROKER"] = ""
		e.Vars["LTK_REGISTRY"] = "iotcore"
		e.Vars["LTK_REGISTRY_ENDPOINT"] = endpoint
		run(t, e, cli.ExitOK, "setup", "--dry-run")
		require.Contains(t, e.Stdout(), `LTK_BROKER: "`+bridge+`"`)
		require.NotContains(t, e.Stdout(), `LTK_REGISTRY: "iotcore"`, "a backend, not a registry id")

		e.Vars["LTK_MQTT_BRIDGE"] = "ssl://bridge.example.com:443"
		run(t, e, cli.ExitOK, "setup", "--dry-run")
		require.Contains(t, e.Stdout(), `LTK_BROKER: "ssl://bridge.example.com:443"`)
	}
}
