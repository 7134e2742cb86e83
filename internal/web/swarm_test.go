package web_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

func TestSwarmStartsAndChangesTheTest(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})

	code, res := e.swarm(url.Values{"user_count": {"10"}, "spawn_rate": {"2.5"}})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, map[string]any{"success": true, "message": "Swarming started", "host": ""}, res)
	require.Equal(t, []webtest.SwarmCall{{Count: 10, Rate: 2.5}}, e.ctrl.Swarms())
	require.Equal(t, 1, e.ctrl.Resets(), "a new test starts from fresh stats, as in Locust")

	// While running, a swarm changes the count and does not reset.
	code, _ = e.swarm(url.Values{"user_count": {"20"}, "spawn_rate": {"5"}})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []webtest.SwarmCall{{Count: 10, Rate: 2.5}, {Count: 20, Rate: 5}}, e.ctrl.Swarms())
	require.Equal(t, 1, e.ctrl.Resets())

	report := e.getJSON("/stats/requests")
	require.Equal(t, "running", report["state"])
	require.EqualValues(t, 20, report["user_count"])
}

func TestSwarmDefaultsSpawnRateAndReportsRunTime(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	code, res := e.swarm(url.Values{"user_count": {"3"}, "run_time": {"1h30m"}})
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 5400, res["run_time"], "run_time in seconds, as Locust answers")
	require.Equal(t, []webtest.SwarmCall{{Count: 3, Rate: 1}}, e.ctrl.Swarms())
}

func TestSwarmRefusesBadInput(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	for _, tc := range []struct {
		name string
		form url.Values
		want string // in the message
	}{
		{"negative count", url.Values{"user_count": {"-5"}, "spawn_rate": {"1"}}, "user_count -5 is negative"},
		{"rate not a number", url.Values{"user_count": {"5"}, "spawn_rate": {"abc"}}, `spawn_rate "abc" is not a number`},
		{"negative rate", url.Values{"user_count": {"5"}, "spawn_rate": {"-1"}}, "spawn_rate -1 is not a rate"},
		{"more than the list", url.Values{"user_count": {"101"}, "spawn_rate": {"1"}}, "more devices than the device list holds (100)"},
		{"missing count", url.Values{"spawn_rate": {"1"}}, "user_count is missing"},
		{"fractional count", url.Values{"user_count": {"1.5"}}, `user_count "1.5" is not a whole number`},
		{"bad run time", url.Values{"user_count": {"1"}, "run_time": {"soon"}}, `run_time "soon" is not a time span`},
		{"negative run time", url.Values{"user_count": {"1"}, "run_time": {"-5m"}}, "run_time -5m0s is negative"},
		{"run time rounds to 0", url.Values{"user_count": {"1"}, "run_time": {"1e-10"}}, `run_time "1e-10" is not a positive time span`},
		{"run time rounds to 0 ns", url.Values{"user_count": {"1"}, "run_time": {"0.1ns"}}, `run_time "0.1ns" is not a positive time span`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, res := e.swarm(tc.form)
			require.Equal(t, http.StatusBadRequest, code)
			require.Equal(t, false, res["success"])
			require.Contains(t, res["message"], tc.want)
		})
	}
	require.Empty(t, e.ctrl.Swarms(), "nothing reached the controller")
}

func TestSwarmReportsControllerFailure(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	e.ctrl.FailSwarm(errors.New("worker 1: connection lost"))
	code, res := e.swarm(url.Values{"user_count": {"5"}})
	require.Equal(t, http.StatusInternalServerError, code)
	require.Equal(t, false, res["success"])
	require.Contains(t, res["message"], "worker 1: connection lost")
}

func TestSwarmRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	header := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	resp, _ := e.do(http.MethodPost, "/swarm", url.Values{"user_count": {"5"}}, header)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = e.do(http.MethodGet, "/stop", nil, header)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Empty(t, e.ctrl.Swarms())
	require.Zero(t, e.ctrl.Stops())

	resp, _ = e.do(http.MethodPost, "/swarm", url.Values{"user_count": {"5"}}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestStopAndReset(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	code, _ := e.swarm(url.Values{"user_count": {"50"}, "spawn_rate": {"10"}})
	require.Equal(t, http.StatusOK, code)
	require.Eventually(t, func() bool {
		return statsRow(e.getJSON("/stats/requests"), "echo receive") != nil
	}, 5*time.Second, testInterval, "echoes recorded")

	require.Equal(t, "ok", string(e.get("/stats/reset")))
	require.Equal(t, 2, e.ctrl.Resets()) // at the start, and now
	require.Nil(t, statsRow(e.getJSON("/stats/requests"), "MQTT connect"), "connects were before the reset")

	var res map[string]any
	require.NoError(t, json.Unmarshal(e.get("/stop"), &res))
	require.Equal(t, map[string]any{"success": true, "message": "Test stopped"}, res)
	require.Equal(t, 1, e.ctrl.Stops())
	report := e.getJSON("/stats/requests")
	require.Equal(t, "stopped", report["state"])
	require.EqualValues(t, 0, report["user_count"])
}

func TestRunTimeStopsTheTest(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	code, _ := e.swarm(url.Values{"user_count": {"5"}, "run_time": {"0.2"}})
	require.Equal(t, http.StatusOK, code)
	// The stop happens in the server's own goroutine, with no event to wait
	// on: await the state the test asserts (the controller counts the stop
	// before its state changes).
	require.Eventually(t, func() bool { return e.getJSON("/stats/requests")["state"] == "stopped" }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, 1, e.ctrl.Stops())
}

func TestStopCancelsTheRunTime(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{})
	events := e.events()
	code, _ := e.swarm(url.Values{"user_count": {"5"}, "run_time": {"1h"}})
	require.Equal(t, http.StatusOK, code)
	ev := events.until(t, func(ev event) bool { return ev.StopAt > 0 })
	require.InDelta(t, float64(time.Now().Add(time.Hour).Unix()), ev.StopAt, 5)

	e.get("/stop")
	events.until(t, func(ev event) bool { return ev.StopAt == 0 && ev.Report.State == "stopped" })
}

// TestSwarmHost: Locust's host field is the broker. The master's own is
// accepted and answered back; another is refused with a 400 that says how
// to change it, never ignored.
func TestSwarmHost(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Broker: "tcp://10.0.0.5:1883"})
	code, res := e.swarm(url.Values{"user_count": {"2"}, "host": {"tcp://10.0.0.5:1883/"}})
	require.Equal(t, http.StatusOK, code, res)
	require.Equal(t, "tcp://10.0.0.5:1883", res["host"])

	code, res = e.swarm(url.Values{"user_count": {"2"}, "host": {"tcp://other:1883"}})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, false, res["success"])
	require.Equal(t, `host "tcp://other:1883": this master drives the broker tcp://10.0.0.5:1883, set when it started, not per test: `+
		"leave host empty (or tcp://10.0.0.5:1883), or restart ltk with --broker tcp://other:1883", res["message"])
	require.Len(t, e.ctrl.Swarms(), 1, "the refused swarm did not start")
}
