package chart

import (
	"fmt"
	"html"
	"html/template"
	"strings"
)

// A Bar is one bar of a bar chart.
type Bar struct {
	Label string // its tooltip, such as "40–50 ms"
	Count int64
	Color string // a CSS color; "" = Blue
}

// Colors the reports use.
const (
	Blue   = "#2563eb"
	Red    = "#dc2626"
	Green  = "#16a34a"
	Purple = "#9333ea"
	Cyan   = "#0891b2"
)

// Bars draws a frequency distribution: the bars side by side, their counts
// on the y axis. edges labels the x axis: edges[i] is the left edge of bar
// i, and the last one the right edge of the last bar (len(bars)+1 of them).
// axis names the x axis' unit, in the title row.
func Bars(title, axis string, bars []Bar, edges []string) template.HTML {
	var b strings.Builder
	open(&b, title)
	var top int64 = 1
	for _, br := range bars {
		top = max(top, br.Count)
	}
	py := yAxis(&b, float64(max(top, yTicks)), "count") // whole counts: a step of at least 1
	if n := len(bars); n > 0 && len(edges) == n+1 {
		bw := float64(plotW) / float64(n)
		for i, br := range bars {
			color := br.Color
			if color == "" {
				color = Blue
			}
			y := py(float64(br.Count))
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`,
				padL+float64(i)*bw+0.5, y, max(bw-1, 0.5), padT+plotH-y, color, html.EscapeString(br.Label), br.Count)
		}
		for k := range 6 {
			i := k * n / 5
			anchor := "middle"
			if k == 5 {
				anchor = "end" // the right end stays inside the chart
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" %s fill="%s" text-anchor="%s">%s</text>`,
				padL+float64(i)*bw, height-10, font, axisText, anchor, html.EscapeString(edges[i]))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" %s fill="%s" text-anchor="end">%s</text>`,
			width-padR, 16, font, axisText, html.EscapeString(axis))
	}
	b.WriteString("</svg>")
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text
}
