package web_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/web"
	"github.com/ltk-dev/ltk/internal/web/webtest"
)

// TestBrowserStartWatchReloadStop drives the UI in real headless Chromium
// over a fake master that produces real stats: fill the start form, start,
// watch the statistics table fill with echo receive rows and the charts draw,
// reload and find the chart history still there, stop. Then it looks at the
// other tabs and the HTML report.
func TestBrowserStartWatchReloadStop(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Interval: 200 * time.Millisecond, Version: "test"})
	e.ctrl.FailEvery = 40
	ctx := webtest.Browser(t)

	webtest.DriveUI(t, ctx, e.base, 40, 10, "ltk-ui")
	require.Equal(t, []webtest.SwarmCall{{Count: 40, Rate: 10}}, e.ctrl.Swarms())
	require.Equal(t, 1, e.ctrl.Stops())

	require.Equal(t, "100", webtest.Eval[string](t, ctx, `document.getElementById("user_count").max`), "the form knows the device list")
	webtest.Poll(t, ctx, "the failures badge", `!document.getElementById("failures-count").hidden`)
	for _, tab := range []string{"failures", "workers", "download"} {
		webtest.Do(t, ctx, "open "+tab, chromedp.Click(chromedp.CSS(`.tab[data-tab="`+tab+`"]`)))
		webtest.Screenshot(t, ctx, "ltk-ui-"+tab+".png")
	}
	require.Equal(t, 2, webtest.Eval[int](t, ctx, `document.querySelectorAll("#workers-table tbody tr").length`))
	require.Contains(t, webtest.Eval[string](t, ctx, `document.querySelector("#failures-table tbody").textContent`), "no echo within 120s")

	// The HTML report renders its charts without scripts.
	webtest.Do(t, ctx, "open the report", chromedp.Navigate(e.base+"/stats/report"))
	require.GreaterOrEqual(t, webtest.Eval[int](t, ctx, `document.querySelectorAll("svg polyline").length`), 3)
	webtest.Screenshot(t, ctx, "ltk-report.png")
}
