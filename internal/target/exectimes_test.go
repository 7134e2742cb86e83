package target_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/hist"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// TestExecutionTimesEndpoint echoes three events and reads their execution
// times back as per-second histograms; a configured Observer still sees them.
func TestExecutionTimesEndpoint(t *testing.T) {
	t.Parallel()
	observed := make(chan time.Duration, 3)
	start := time.Now().Unix()
	tt := targettest.Start(t, func(c *target.Config) {
		c.MetricsAddr = "127.0.0.1:0"
		c.Echo.Observer = func(d time.Duration) { observed <- d }
	})
	c := mustDial(t, tt.BrokerURL(), "dev-x", "", nil)
	echoes := make(chan struct{}, 3)
	subackCode(t, c, "/devices/dev-x/commands/#", func(paho.Client, paho.Message) { echoes <- struct{}{} })
	for range 3 {
		wait(t, c.Publish("/devices/dev-x/events", 1, false, "ping"))
		receive(t, echoes, "echo")
		receive(t, observed, "observed execution time")
	}

	base := "http://" + tt.Target().MetricsAddr() + hist.ExecutionTimesPath
	var s hist.Series
	get(t, base+"?start="+strconv.FormatInt(start, 10), http.StatusOK, &s)
	var n int64
	for _, sec := range s.Seconds {
		require.NoError(t, sec.Validate())
		require.GreaterOrEqual(t, sec.Unix, start)
		n += sec.Count
	}
	require.EqualValues(t, 3, n)

	later := strconv.FormatInt(start+3600, 10)
	get(t, base+"?start="+later+"&end="+later, http.StatusOK, &s)
	require.Empty(t, s.Seconds, "a window after the echoes")
	get(t, base+"?start=yesterday", http.StatusBadRequest, nil)
	get(t, base+"?start=10&end=5", http.StatusBadRequest, nil)
}

func get(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, code, resp.StatusCode, string(body))
	if v != nil {
		require.NoError(t, json.Unmarshal(body, v))
	}
}
