package bench

import (
	"os"
	"testing"

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
	cpu, err := procCPU(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, cpu)
	require.InDelta(t, selfCPU().Seconds(), cpu.Seconds(), 0.1, "/proc and getrusage agree")
	_, err = procCPU(-1)
	require.Error(t, err)
}

func TestListenAddr(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"ltk target: MQTT on 127.0.0.1:41234 (auth none, project p, region r, registry g)\n": "127.0.0.1:41234",
		"ltk target: MQTT on 127.0.0.1:1883, MQTT over TLS on :8883 (auth jwt":               "127.0.0.1:1883",
		"": "", "error: unknown command": "",
	} {
		got, ok := listenAddr(line)
		require.Equal(t, want, got, line)
		require.Equal(t, want != "", ok, line)
	}
}
