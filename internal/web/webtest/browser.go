package webtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser starts headless Chromium (Debian's chromium) for the rest of the
// test and returns a context for chromedp actions in one tab. The test fails
// if chromium is not installed.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		tb.Fatal("webtest: chromium not found: install Debian's chromium (apt-get install -y chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Test machines reach nothing beyond loopback: keep Chromium from trying.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser process to exit
	})
	return ctx
}

// ArtifactDir is where browser tests leave screenshots: $LTK_ARTIFACTS, or
// ltk-artifacts in the system's temporary directory.
func ArtifactDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("LTK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ltk-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("webtest: artifact dir: %v", err)
	}
	return dir
}

// Screenshot saves a PNG of the whole page as name in ArtifactDir.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("webtest: screenshot %s: %v", name, err)
	}
	path := filepath.Join(ArtifactDir(tb), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.Fatalf("webtest: screenshot %s: %v", name, err)
	}
	tb.Logf("screenshot: %s", path)
}

// Poll waits up to 15 s for a JavaScript expression to be truthy in the page.
func Poll(tb testing.TB, ctx context.Context, what, expr string) {
	tb.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		tb.Fatalf("webtest: waiting for %s (%s): %v", what, expr, err)
	}
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](tb testing.TB, ctx context.Context, expr string) T {
	tb.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.Fatalf("webtest: evaluate %s: %v", expr, err)
	}
	return v
}

// Do runs chromedp actions, failing the test on error.
func Do(tb testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.Fatalf("webtest: %s: %v", what, err)
	}
}

// DriveUI walks the UI at baseURL through a test as a user would, failing tb
// at the first step that does not happen: the start form shows; it starts
// devices at spawnRate; the statistics table fills with "echo receive"
// rows and the header shows the devices running; the charts draw; a reload
// brings back every chart point from before it; Stop stops the test. It
// saves screenshots named prefix-*.png in ArtifactDir.
func DriveUI(tb testing.TB, ctx context.Context, baseURL string, devices int, spawnRate float64, prefix string) {
	tb.Helper()
	n := strconv.Itoa(devices)
	Do(tb, ctx, "open the UI", chromedp.Navigate(baseURL))
	Poll(tb, ctx, "the start form", `!document.getElementById("swarm-panel").hidden && document.getElementById("state").textContent === "ready"`)
	Screenshot(tb, ctx, prefix+"-start.png")

	Do(tb, ctx, "fill the form and start",
		chromedp.SetValue(chromedp.ID("user_count"), n),
		chromedp.SetValue(chromedp.ID("spawn_rate"), strconv.FormatFloat(spawnRate, 'f', -1, 64)),
		chromedp.Click(chromedp.ID("start-button")),
	)
	Poll(tb, ctx, "echo receive rows", `[...document.querySelectorAll("#stats-table tbody td")].some(td => td.textContent === "echo receive")`)
	Poll(tb, ctx, "all devices running", `document.getElementById("devices").textContent === "`+n+`"`)
	if !Eval[bool](tb, ctx, `document.getElementById("swarm-panel").hidden && !document.getElementById("stop-button").hidden`) {
		tb.Fatal("webtest: after the start the form should close and Stop show")
	}

	Do(tb, ctx, "open the charts", chromedp.Click(chromedp.CSS(`.tab[data-tab="charts"]`)))
	Poll(tb, ctx, "chart points", `ltk.charts.rps.data[0].length >= 4 && ltk.charts.devices.data[1].at(-1) === `+n)
	// Current RPS leaves out the last 2 seconds, as Locust's does: it rises after a moment.
	Poll(tb, ctx, "the RPS line above zero", `Math.max(...ltk.charts.rps.data[1]) > 0`)
	if Eval[int](tb, ctx, `document.querySelector("#chart-rps canvas").width`) <= 0 {
		tb.Fatal("webtest: the RPS chart has no canvas")
	}
	before := Eval[[]float64](tb, ctx, `ltk.hist.time`)

	Do(tb, ctx, "reload", chromedp.Reload())
	Poll(tb, ctx, "the history after the reload", `ltk.charts.rps.data[0].length >= `+strconv.Itoa(len(before)))
	after := Eval[[]float64](tb, ctx, `ltk.hist.time`)
	for i := range before {
		if after[i] != before[i] {
			tb.Fatalf("webtest: chart point %d was at %v before the reload and is at %v after it", i, before[i], after[i])
		}
	}
	if !Eval[bool](tb, ctx, `document.getElementById("tab-charts").classList.contains("active")`) {
		tb.Fatal("webtest: the charts tab should stay open across the reload")
	}
	Screenshot(tb, ctx, prefix+"-charts.png")

	Do(tb, ctx, "open the statistics", chromedp.Click(chromedp.CSS(`.tab[data-tab="statistics"]`)))
	Screenshot(tb, ctx, prefix+"-statistics.png")
	Do(tb, ctx, "stop", chromedp.Click(chromedp.ID("stop-button")))
	Poll(tb, ctx, "the stopped state", `document.getElementById("state").textContent === "stopped" && !document.getElementById("new-button").hidden`)
}
