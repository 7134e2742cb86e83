package web_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	e := start(t, web.Config{Interval: 200 * time.Millisecond, Version: "test", Broker: "tcp://broker.test:1883",
		Scenario: &web.Scenario{Name: "fleet", Kinds: []web.KindShare{{Kind: "sensor", Share: 0.9}, {Kind: "gateway", Share: 0.1}, {Kind: "backend", Count: 2}}}})
	e.ctrl.FailEvery = 40
	ctx := webtest.Browser(t)

	webtest.DriveUI(t, ctx, e.base, 40, 10, "ltk-ui")
	require.Equal(t, []webtest.SwarmCall{{Count: 40, Rate: 10}}, e.ctrl.Swarms())
	require.Equal(t, 1, e.ctrl.Stops())

	require.Equal(t, "100", webtest.Eval[string](t, ctx, `document.getElementById("user_count").max`), "the form knows the device list")
	require.Equal(t, "tcp://broker.test:1883", webtest.Eval[string](t, ctx, `document.getElementById("broker").textContent`))
	require.Equal(t, "fleet: sensor 90%, gateway 10%, backend ×2", webtest.Eval[string](t, ctx, `document.getElementById("scenario").textContent`))
	requireStatsTableSorts(t, ctx)

	// Each chart downloads as a PNG with its title and legend.
	for _, chart := range []string{"rps", "rt", "devices"} {
		png := webtest.Eval[string](t, ctx, `ltk.chartPNG("`+chart+`")`)
		require.True(t, strings.HasPrefix(png, "data:image/png;base64,"), chart)
		require.Greater(t, len(png), 5000, "%s: a drawn chart, not an empty image", chart)
		b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(png, "data:image/png;base64,"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(webtest.ArtifactDir(t), "ltk-chart-"+chart+".png"), b, 0o644)) // for review
	}
	require.Equal(t, 3, webtest.Eval[int](t, ctx, `document.querySelectorAll(".chart-dl").length`))
	require.True(t, webtest.Eval[bool](t, ctx, `!!document.querySelector('#tab-download a[href="stats/requests_full_history/csv"]')`),
		"the Download tab lists the history CSV")
	webtest.Poll(t, ctx, "the failures badge", `!document.getElementById("failures-count").hidden`)
	for _, tab := range []string{"failures", "workers", "download"} {
		webtest.Do(t, ctx, "open "+tab, chromedp.Click(chromedp.CSS(`.tab[data-tab="`+tab+`"]`)))
		webtest.Screenshot(t, ctx, "ltk-ui-"+tab+".png")
	}
	require.Equal(t, 2, webtest.Eval[int](t, ctx, `document.querySelectorAll("#workers-table tbody tr").length`))
	require.Contains(t, webtest.Eval[string](t, ctx, `document.querySelector("#failures-table tbody").textContent`), "no echo within 120s")
	require.Regexp(t, `^LTK0000[1-7]( LTK0000[1-7]){0,2}$`, webtest.Eval[string](t, ctx, `document.querySelector("#failures-table tbody td.examples").textContent`),
		"the Examples column: a few failing devices")

	// The HTML report renders its charts without scripts.
	webtest.Do(t, ctx, "open the report", chromedp.Navigate(e.base+"/stats/report"))
	require.GreaterOrEqual(t, webtest.Eval[int](t, ctx, `document.querySelectorAll("svg polyline").length`), 3)
	webtest.Screenshot(t, ctx, "ltk-report.png")
}

// requireStatsTableSorts clicks the statistics table's headers: # Requests
// sorts the entries ascending, a second click descending, Name by name;
// the Aggregated row stays in the footer. At 1,400 px the last column is
// in view, and the percentile label switches between 90%ile (Locust
// 2.12's) and 95%ile (later Locust's).
func requireStatsTableSorts(t *testing.T, ctx context.Context) {
	t.Helper()
	webtest.Do(t, ctx, "a 1,400 px window", chromedp.EmulateViewport(1400, 900),
		chromedp.Click(chromedp.CSS(`.tab[data-tab="statistics"]`)))
	webtest.Poll(t, ctx, "two entries", `document.querySelectorAll("#stats-table tbody tr").length >= 2`)
	column := func(i int) []string {
		return webtest.Eval[[]string](t, ctx, `[...document.querySelectorAll("#stats-table tbody tr")].map(tr => tr.cells[`+strconv.Itoa(i)+`].textContent)`)
	}
	counts := func() []int {
		var out []int
		for _, s := range column(2) {
			n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
			require.NoError(t, err)
			out = append(out, n)
		}
		return out
	}
	requests := `#stats-table th[data-sort="num_requests"]`
	webtest.Do(t, ctx, "sort by # Requests", chromedp.Click(chromedp.CSS(requests)))
	up := counts()
	require.True(t, slices.IsSorted(up), "ascending: %v", up)
	require.NotEqual(t, up[0], up[len(up)-1], "the entries differ, so the order means something")
	require.Equal(t, "ascending", webtest.Eval[string](t, ctx, `document.querySelector('`+requests+`').getAttribute("aria-sort")`))
	webtest.Do(t, ctx, "sort by # Requests again", chromedp.Click(chromedp.CSS(requests)))
	down := counts()
	require.True(t, slices.IsSortedFunc(down, func(a, b int) int { return b - a }), "descending: %v", down)
	webtest.Do(t, ctx, "sort by Name", chromedp.Click(chromedp.CSS(`#stats-table th[data-sort="name"]`)))
	byName := func(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) } // as the browser's locale orders them
	require.True(t, slices.IsSortedFunc(column(1), byName), "by name: %v", column(1))
	require.Equal(t, "Aggregated", webtest.Eval[string](t, ctx, `document.querySelector("#stats-table tfoot tr").cells[1].textContent`))
	webtest.Screenshot(t, ctx, "ltk-ui-sorted-1400.png")

	// Nothing clipped or scrolled away at 1,400 px.
	require.True(t, webtest.Eval[bool](t, ctx, `(() => {
		const wrap = document.querySelector(".table-wrap"), last = document.querySelector("#stats-table th:last-child");
		return wrap.scrollWidth <= wrap.clientWidth && last.getBoundingClientRect().right <= wrap.getBoundingClientRect().right;
	})()`), "the last column of the statistics table is in view at 1,400 px")

	require.Equal(t, "90%ile", webtest.Eval[string](t, ctx, `document.getElementById("pct-label").textContent`), "Locust 2.12's choice")
	webtest.Do(t, ctx, "switch the percentile", chromedp.Click(chromedp.ID("pct-label")))
	require.Equal(t, "95%ile", webtest.Eval[string](t, ctx, `document.getElementById("pct-label").textContent`))
	require.Equal(t, "response_time_percentile_0.95", webtest.Eval[string](t, ctx, `document.getElementById("pct-header").dataset.sort`))
	webtest.Do(t, ctx, "a 1,440 px window again", chromedp.EmulateViewport(1440, 1000))
}

// TestBrowserWaitingForWorkers: a master that expects more workers than
// are connected says it is waiting, with how many, and offers no Start.
func TestBrowserWaitingForWorkers(t *testing.T) {
	t.Parallel()
	e := start(t, web.Config{Interval: 200 * time.Millisecond, Version: "test", ExpectWorkers: 3}) // the fake has 2
	ctx := webtest.Browser(t)
	webtest.Do(t, ctx, "open the UI", chromedp.Navigate(e.base))
	webtest.Poll(t, ctx, "the waiting state", `document.getElementById("state").textContent === "waiting"`)
	require.True(t, webtest.Eval[bool](t, ctx, `document.getElementById("start-button").disabled`), "no Start while waiting")
	require.Contains(t, webtest.Eval[string](t, ctx, `document.getElementById("capacity-hint").textContent`), "2 of 3 connected")
	webtest.Screenshot(t, ctx, "ltk-ui-waiting.png")
	require.Empty(t, e.ctrl.Swarms())
}
