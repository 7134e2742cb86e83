package bench

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestProcMeasures(t *testing.T) {
	t.Parallel()
	r, err := rss()
	require.NoError(t, err)
	require.Positive(t, r)
	x := 0
	for i := range 20_000_000 { // spend some CPU so the counters move
		x += i % 7
	}
	require.Positive(t, x)
	// Other tests run in this process meanwhile: getrusage brackets /proc.
	before := selfCPU()
	cpu, err := procCPU(os.Getpid())
	after := selfCPU()
	require.NoError(t, err)
	require.Positive(t, cpu)
	require.GreaterOrEqual(t, cpu, before-100*time.Millisecond, "/proc and getrusage agree")
	require.LessOrEqual(t, cpu, after+100*time.Millisecond, "/proc and getrusage agree")
	_, err = procCPU(-1)
	require.Error(t, err)
}

func TestListenAddrs(t *testing.T) {
	t.Parallel()
	for line, want := range map[string][2]string{
		"ltk target: MQTT on 127.0.0.1:41234 (auth none, project p, region r, registry g), metrics on 127.0.0.1:40001/metrics\n": {"127.0.0.1:41234", "127.0.0.1:40001"},
		"ltk target: MQTT on 127.0.0.1:1883, MQTT over TLS on :8883 (auth jwt, project p), metrics on 127.0.0.1:9883/metrics":    {"127.0.0.1:1883", "127.0.0.1:9883"},
		"ltk target: MQTT on 127.0.0.1:1883 (auth jwt, project p)":                                                               {}, // no metrics: bench cannot count messages
		"": {}, "error: unknown command": {},
	} {
		mqtt, metrics, ok := listenAddrs(line)
		if want == [2]string{} {
			require.False(t, ok, line)
			continue
		}
		require.True(t, ok, line)
		require.Equal(t, want, [2]string{mqtt, metrics}, line)
	}
}
