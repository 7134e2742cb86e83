package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
)

// browser starts headless Chromium (Debian's chromium) for the rest of the
// test and returns a context for chromedp actions in one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium not found: install Debian's chromium (apt-get install -y chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The test machines have no network beyond loopback: keep Chromium
		// from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process to exit
	})
	return ctx
}

// artifactDir is where the browser test leaves its screenshots:
// $LTK_ARTIFACTS, or ltk-artifacts in the system's temporary directory.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("LTK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ltk-artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// screenshot saves a PNG of the whole page as name in the artifact dir.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(artifactDir(t), name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}

// poll waits up to 10 s for a JavaScript expression to be truthy.
func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "waiting for %s: %s", what, expr)
}

// eval evaluates a JavaScript expression.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// TestBrowserStartWatchReloadStop drives the UI in real headless Chromium:
// fill the start form, start, watch the statistics table fill with echo
// receive rows and the charts draw, reload and find the chart history
// still there, stop.
func TestBrowserStartWatchReloadStop(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Interval: 200 * time.Millisecond, Version: "test"})
	e.ctrl.FailEvery = 40
	ctx := browser(t)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.base)))
	poll(t, ctx, "the start form", `!document.getElementById("swarm-panel").hidden && document.getElementById("state").textContent === "ready"`)
	require.Equal(t, "100", eval[string](t, ctx, `document.getElementById("user_count").max`), "the form knows the device list")
	screenshot(t, ctx, "ltk-ui-start.png")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("user_count"), "40"),
		chromedp.SetValue(chromedp.ID("spawn_rate"), "10"),
		chromedp.Click(chromedp.ID("start-button")),
	))
	poll(t, ctx, "echo receive rows", `[...document.querySelectorAll("#stats-table tbody td")].some(td => td.textContent === "echo receive")`)
	poll(t, ctx, "the running state", `document.getElementById("state").textContent === "running" && document.getElementById("devices").textContent === "40"`)
	require.Equal(t, []webtestSwarm{{40, 10}}, swarms(e))
	require.True(t, eval[bool](t, ctx, `document.getElementById("swarm-panel").hidden`), "the form closes once started")
	require.False(t, eval[bool](t, ctx, `document.getElementById("stop-button").hidden`))

	// The charts draw from the history and the stream.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tab[data-tab="charts"]`))))
	poll(t, ctx, "chart points", `ltk.charts.rps.data[0].length >= 5 && ltk.charts.devices.data[1].at(-1) === 40`)
	require.Positive(t, eval[int](t, ctx, `document.querySelector("#chart-rps canvas").width`))
	// Current RPS leaves out the last 2 seconds, as Locust's does: it rises after a moment.
	poll(t, ctx, "the RPS line above zero", `Math.max(...ltk.charts.rps.data[1]) > 0`)
	before := eval[[]float64](t, ctx, `ltk.hist.time`)

	// Reload: the charts come back from the server's history, not from scratch.
	require.NoError(t, chromedp.Do(ctx, chromedp.Reload()))
	poll(t, ctx, "history after reload", `ltk.charts.rps.data[0].length >= `+itoa(len(before)))
	after := eval[[]float64](t, ctx, `ltk.hist.time`)
	require.Equal(t, before, after[:len(before)], "the points before the reload are all there")
	require.True(t, eval[bool](t, ctx, `document.getElementById("tab-charts").classList.contains("active")`), "the tab survives the reload")
	screenshot(t, ctx, "ltk-ui-charts.png")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tab[data-tab="statistics"]`))))
	poll(t, ctx, "the failures badge", `!document.getElementById("failures-count").hidden`)
	screenshot(t, ctx, "ltk-ui-statistics.png")

	for _, tab := range []string{"failures", "workers", "download"} {
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.tab[data-tab="`+tab+`"]`))))
		screenshot(t, ctx, "ltk-ui-"+tab+".png")
	}
	require.Equal(t, 2, eval[int](t, ctx, `document.querySelectorAll("#workers-table tbody tr").length`))

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("stop-button"))))
	poll(t, ctx, "the stopped state", `document.getElementById("state").textContent === "stopped" && !document.getElementById("new-button").hidden`)
	require.Equal(t, 1, e.ctrl.Stops())

	// The HTML report renders its charts without scripts.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(e.base+"/stats/report")))
	require.Equal(t, 3, eval[int](t, ctx, `document.querySelectorAll("svg polyline").length >= 3 ? 3 : 0`))
	screenshot(t, ctx, "ltk-report.png")
}

// webtestSwarm is a Swarm call as count and rate, for compact comparisons.
type webtestSwarm struct {
	count int
	rate  float64
}

func swarms(e *env) []webtestSwarm {
	var out []webtestSwarm
	for _, c := range e.ctrl.Swarms() {
		out = append(out, webtestSwarm{c.Count, c.Rate})
	}
	return out
}
