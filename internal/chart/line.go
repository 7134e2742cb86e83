package chart

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// A Series is one line of a line chart: a value per point in time.
type Series struct {
	Name   string    // in the legend
	Color  string    // a CSS color, such as "#2563eb"
	Values []float64 // one per time; NaN or ±Inf: no value (the line has a gap)
}

// Line draws the series over the times ts (ascending) as a line chart with
// a title, a legend, a y axis labelled in unit and a time axis. Times are
// labelled in ts[0]'s location. With no times it draws the frame and says
// there is no data.
func Line(title, unit string, ts []time.Time, ss ...Series) template.HTML {
	var b strings.Builder
	open(&b, title)
	x := width - padR // the legend, right-aligned in the title row
	for i := len(ss) - 1; i >= 0; i-- {
		x -= 18 + 7*len(ss[i].Name) + 12
		fmt.Fprintf(&b, `<rect x="%d" y="7" width="12" height="3" fill="%s"/><text x="%d" y="16" %s fill="%s">%s</text>`,
			x, ss[i].Color, x+16, font, axisText, html.EscapeString(ss[i].Name))
	}
	if len(ts) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="%s" text-anchor="middle">no data yet</text></svg>`,
			width/2, height/2, font, axisText)
		return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text
	}
	top := 0.0
	for _, s := range ss {
		for _, y := range s.Values {
			if finite(y) {
				top = max(top, y)
			}
		}
	}
	py := yAxis(&b, top, unit)
	t0, t1 := ts[0], ts[len(ts)-1]
	span := max(t1.Sub(t0).Seconds(), 1)
	px := func(t time.Time) float64 { return padL + plotW*t.Sub(t0).Seconds()/span }
	tstep := niceTimeStep(span / xTicksMax)
	for s := math.Ceil(float64(t0.Unix())/tstep) * tstep; s <= float64(t1.Unix()); s += tstep {
		t := time.Unix(int64(s), 0).In(t0.Location())
		x := px(t)
		anchor := "middle"
		if x > width-padR-30 { // a label at the right end stays inside the chart
			anchor = "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s fill="%s" text-anchor="%s">%s</text>`,
			x, height-10, font, axisText, anchor, t.Format("15:04:05"))
	}
	for _, s := range ss {
		// One polyline per run of values without a gap.
		var pts strings.Builder
		flush := func() {
			if pts.Len() > 0 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round" points="%s"/>`,
					s.Color, strings.TrimSpace(pts.String()))
				pts.Reset()
			}
		}
		for i, y := range s.Values {
			if i >= len(ts) || !finite(y) {
				flush()
				continue
			}
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(ts[i]), py(y))
		}
		flush()
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text
}

func finite(y float64) bool { return !math.IsNaN(y) && !math.IsInf(y, 0) }

// niceTimeStep picks a time tick step in seconds of at least raw.
func niceTimeStep(raw float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200} {
		if s >= raw {
			return s
		}
	}
	return 3600 * math.Ceil(raw/3600)
}
