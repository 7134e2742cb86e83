package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// series is one line of a chart.
type series struct {
	label string
	color string
	ys    []float64
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH                   = 960, 260
	padL, padR, padT, padB           = 64, 16, 28, 32
	plotW, plotH                     = chartW - padL - padR, chartH - padT - padB
	yTicks                           = 5
	xTicksMax                        = 8
	chartFont                        = `font-family="system-ui,sans-serif" font-size="12"`
	gridStroke, axisText, titleColor = "#e5e7eb", "#6b7280", "#111827"
)

// svgChart draws the series over the times ts as an inline SVG line chart
// with a title, a y axis labelled in unit, a time axis and a legend. It needs
// no script, so the report renders anywhere, offline.
func svgChart(title, unit string, ts []time.Time, ss ...series) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s">`,
		chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="16" %s font-weight="600" fill="%s">%s</text>`, padL, chartFont, titleColor, html.EscapeString(title))
	// Legend, right-aligned in the title row.
	x := chartW - padR
	for i := len(ss) - 1; i >= 0; i-- {
		w := 18 + 7*len(ss[i].label)
		x -= w + 12
		fmt.Fprintf(&b, `<rect x="%d" y="7" width="12" height="3" fill="%s"/><text x="%d" y="16" %s fill="%s">%s</text>`,
			x, ss[i].color, x+16, chartFont, axisText, html.EscapeString(ss[i].label))
	}
	if len(ts) < 2 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="%s" text-anchor="middle">no data yet</text></svg>`,
			chartW/2, chartH/2, chartFont, axisText)
		return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text
	}
	top := 0.0
	for _, s := range ss {
		for _, y := range s.ys {
			if !math.IsNaN(y) && !math.IsInf(y, 0) {
				top = max(top, y)
			}
		}
	}
	step := niceStep(top / yTicks)
	top = step * yTicks
	t0, t1 := ts[0], ts[len(ts)-1]
	span := max(t1.Sub(t0).Seconds(), 1)
	px := func(t time.Time) float64 { return padL + plotW*t.Sub(t0).Seconds()/span }
	py := func(y float64) float64 { return padT + plotH*(1-y/top) }

	for i := 0; i <= yTicks; i++ {
		y := step * float64(i)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, padL+plotW, py(y), py(y), gridStroke)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" %s fill="%s" text-anchor="end">%s</text>`,
			padL-6, py(y)+4, chartFont, axisText, formatTick(y))
	}
	fmt.Fprintf(&b, `<text x="12" y="%d" %s fill="%s" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>`,
		padT+plotH/2, chartFont, axisText, padT+plotH/2, html.EscapeString(unit))
	tstep := niceTimeStep(span / xTicksMax)
	for s := math.Ceil(float64(t0.Unix())/tstep) * tstep; s <= float64(t1.Unix()); s += tstep {
		t := time.Unix(int64(s), 0)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s fill="%s" text-anchor="middle">%s</text>`,
			px(t), chartH-10, chartFont, axisText, t.Format("15:04:05"))
	}
	for _, s := range ss {
		var pts strings.Builder
		for i, y := range s.ys {
			if i >= len(ts) || math.IsNaN(y) || math.IsInf(y, 0) {
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(ts[i]), py(y))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" points="%s"/>`,
			s.color, strings.TrimSpace(pts.String()))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// niceTimeStep picks a time tick step in seconds of at least raw.
func niceTimeStep(raw float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200} {
		if s >= raw {
			return s
		}
	}
	return 3600 * math.Ceil(raw/3600)
}

// formatTick prints an axis value without needless decimals.
func formatTick(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%gk", v/1e3)
	default:
		return fmt.Sprintf("%g", math.Round(v*1000)/1000)
	}
}
