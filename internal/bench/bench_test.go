package bench_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/bench"
	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/sim"
)

// childEnv makes the test binary run ltk's command line: the benchmark's
// target child process.
const childEnv = "LTK_BENCH_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(int(cli.Main(cli.NewProcessEnv())))
	}
	goleak.VerifyTestMain(m)
}

// testConfig is a small, fast benchmark whose target is this test binary.
func testConfig(t *testing.T) bench.Config {
	return bench.Config{
		Devices:       20,
		Interval:      100 * time.Millisecond,
		Duration:      time.Second,
		SpawnRate:     -1,
		Alg:           "none",
		QoS:           1,
		TargetCommand: []string{os.Args[0], "target"},
		TargetEnv:     []string{childEnv + "=1"},
		Progress:      testWriter{t},
	}
}

// testWriter logs progress lines.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestRunBothClients(t *testing.T) {
	t.Parallel()
	for _, client := range sim.ClientNames() {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.Client = client
			r, err := bench.Run(t.Context(), cfg)
			require.NoError(t, err)
			require.Equal(t, client, r.Client)
			require.Equal(t, 20, r.Connected)
			require.InDelta(t, 200, r.ExpectedEchoesPerS, 1e-9)
			require.Greater(t, r.EchoRatio, 0.8, "echoes/s %v", r.EchoesPerS)
			require.Positive(t, r.EchoP50Ms)
			require.GreaterOrEqual(t, r.EchoP99Ms, r.EchoP50Ms)
			require.Positive(t, r.CPUPerEchoUs)
			require.Positive(t, r.CPUPerConnectUs)
			require.Positive(t, r.ConnectsPerS)
			require.Positive(t, r.TargetCPUPerEchoUs, "the target's CPU is read from /proc")
			require.Zero(t, r.Failures, "%v", r.FailureSamples)
			require.Equal(t, 1, r.Sources)
		})
	}
}

// TestRunJWTAndSources runs with ES256 keys verified by the target, and the
// fleet spread over three loopback source addresses.
func TestRunJWTAndSources(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Devices, cfg.Alg, cfg.PerSource = 12, "ES256", 5
	r, err := bench.Run(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, 12, r.Connected)
	require.Equal(t, 3, r.Sources)
	require.Positive(t, r.EchoesPerS)
	require.Zero(t, r.Failures+r.RampFailures, "%v", r.FailureSamples)
}

func TestTargetFailsToStart(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.TargetCommand = []string{os.Args[0], "no-such-command"}
	_, err := bench.Run(t.Context(), cfg)
	require.ErrorContains(t, err, "the target did not report its MQTT address")
	require.ErrorContains(t, err, "no-such-command", "the target's stderr is in the error")
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := bench.Config{Devices: 10, Interval: time.Second, Duration: time.Second, Client: "lean", Alg: "ES256", PerSource: 1, TargetCommand: []string{"ltk", "target"}}
	require.NoError(t, ok.Validate(1000))
	for _, tc := range []struct {
		name   string
		change func(*bench.Config)
		limit  int
		want   string
	}{
		{"too many for the file limit", func(c *bench.Config) { c.Devices = 19_950 }, 20_000, "19950 devices need 19950 sockets in this process (and as many in the target's), but a process may open 20000 files: run at most 19900 devices"},
		{"no devices", func(c *bench.Config) { c.Devices = 0 }, 0, "devices 0: run at least 1"},
		{"short interval", func(c *bench.Config) { c.Interval = time.Microsecond }, 0, "interval 1µs: use at least 1ms"},
		{"short window", func(c *bench.Config) { c.Duration = time.Millisecond }, 0, "measure for at least 1s"},
		{"client", func(c *bench.Config) { c.Client = "mosquitto" }, 0, `MQTT client "mosquitto" is not one of lean, paho`},
		{"alg", func(c *bench.Config) { c.Alg = "HS256" }, 0, `alg "HS256": use ES256, RS256, none`},
		{"qos", func(c *bench.Config) { c.QoS = 2 }, 0, "QoS 2 is not supported: use 0 or 1"},
		{"target", func(c *bench.Config) { c.TargetCommand = nil }, 0, "no target command"},
		{"per source", func(c *bench.Config) { c.PerSource = -1 }, 0, "connections per source address -1: use at least 1, or 0 for the default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tc.change(&c)
			require.ErrorContains(t, c.Validate(tc.limit), tc.want)
		})
	}
}

func TestWriteTableAndJSON(t *testing.T) {
	t.Parallel()
	rs := []*bench.Result{
		{Client: "lean", Devices: 1000, Connected: 1000, Alg: "ES256", QoS: 1, IntervalS: 1, WindowS: 30, ExpectedEchoesPerS: 1000, EchoesPerS: 999.5, EchoRatio: 0.9995,
			EchoP50Ms: 0.81, EchoP99Ms: 12.3, EchoMaxMs: 40, CPUPerEchoUs: 24.2, RSSPerDeviceKB: 2.1, FailureSamples: []string{"MQTT connect: refused (1×)"}},
		{Client: "paho", Devices: 1000, Connected: 1000, Alg: "ES256", QoS: 1, IntervalS: 1, WindowS: 30, ExpectedEchoesPerS: 1000, EchoesPerS: 1000, EchoRatio: 1, CPUPerEchoUs: 80},
	}
	var b bytes.Buffer
	require.NoError(t, bench.WriteTable(&b, rs))
	out := regexp.MustCompile(` {2,}`).ReplaceAllString(b.String(), "  ") // columns padded to any width
	for _, want := range []string{
		"MQTT client  lean  paho",
		"echoes/s (expected)  1000 (1000, 100.0%)  1000 (1000, 100.0%)",
		"echo p50 / p99 / max  0.81 / 12 / 40 ms",
		"CPU per echo  24.2 µs  80.0 µs",
		"lean failure: MQTT connect: refused (1×)",
	} {
		require.Contains(t, out, want)
	}
	b.Reset()
	require.NoError(t, bench.WriteJSON(&b, rs))
	var back []bench.Result
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	require.Len(t, back, 2)
	require.Equal(t, *rs[0], back[0])
}
