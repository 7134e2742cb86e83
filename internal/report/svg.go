package report

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// Charts are inline SVG written here, so that report.html is one file that
// needs nothing from the network.

const (
	chartW, chartH             = 860, 260
	padL, padR, padT, padB     = 64, 16, 28, 36
	plotW, plotH               = chartW - padL - padR, chartH - padT - padB
	maxLinePoints              = 1200
	colorA, colorB, colorC     = "#1f77b4", "#d62728", "#2ca02c"
	gridColor, axisColor, font = "#e5e5e5", "#555", "font-family:sans-serif;font-size:11px"
)

// A series is one line of a line chart: a value per x.
type series struct {
	name  string
	color string
	ys    []float64 // NaN: no value
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// numText formats an axis value briefly.
func numText(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%gk", v/1e3)
	default:
		return fmt.Sprintf("%g", math.Round(v*1000)/1000)
	}
}

// lineChart draws series over the seconds xs (Unix), with a title and a
// y-axis unit.
func lineChart(title, unit string, xs []int64, ss []series) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="16" style="%s;font-weight:bold">%s</text>`, padL, font, html.EscapeString(title))
	top := 0.0
	for _, s := range ss {
		for _, y := range s.ys {
			if !math.IsNaN(y) {
				top = max(top, y)
			}
		}
	}
	top = niceCeil(top)
	yAxis(&b, top, unit)
	if len(xs) > 0 {
		span := float64(xs[len(xs)-1] - xs[0])
		x := func(i int) float64 {
			if span == 0 {
				return padL + plotW/2
			}
			return padL + float64(xs[i]-xs[0])/span*plotW
		}
		for k := range 6 { // time labels
			i := k * (len(xs) - 1) / 5
			anchor := [6]string{"start", "middle", "middle", "middle", "middle", "end"}[k]
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s" style="%s">%s</text>`,
				x(i), chartH-padB+16, anchor, font, time.Unix(xs[i], 0).UTC().Format("15:04:05"))
		}
		for si, s := range ss {
			var path strings.Builder
			pen := false
			for i, y := range s.ys {
				if math.IsNaN(y) {
					pen = false
					continue
				}
				cmd := 'L'
				if !pen {
					cmd = 'M'
				}
				fmt.Fprintf(&path, "%c%.1f %.1f", cmd, x(i), padT+plotH-y/top*plotH)
				pen = true
			}
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, path.String(), s.color)
			fmt.Fprintf(&b, `<text x="%d" y="16" style="%s" fill="%s">■ %s</text>`, padL+300+si*150, font, s.color, html.EscapeString(s.name))
		}
	}
	b.WriteString("</svg>")
	return b.String()
}

// yAxis draws the plot frame, horizontal grid lines and y labels up to top.
func yAxis(b *strings.Builder, top float64, unit string) {
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		y := padT + plotH - float64(k)/4*plotH
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, padL+plotW, y, y, gridColor)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" style="%s">%s</text>`, padL-6, y+4, font, numText(v))
	}
	fmt.Fprintf(b, `<text x="12" y="%d" transform="rotate(-90 12 %d)" text-anchor="middle" style="%s">%s</text>`,
		padT+plotH/2, padT+plotH/2, font, html.EscapeString(unit))
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"/>`, padL, padL+plotW, padT+plotH, padT+plotH, axisColor)
	fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s"/>`, padL, padL, padT, padT+plotH, axisColor)
}

// barChart draws a frequency distribution: counts[i] for the bucket
// [i·width, (i+1)·width), plus an overflow bar for the values beyond.
func barChart(title string, counts []int64, width time.Duration, overflow int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="16" style="%s;font-weight:bold">%s</text>`, padL, font, html.EscapeString(title))
	n := len(counts)
	if overflow > 0 {
		n++
	}
	var top int64 = 1
	for _, c := range counts {
		top = max(top, c)
	}
	top = max(top, overflow)
	nice := niceCeil(float64(top))
	yAxis(&b, nice, "count")
	if n > 0 {
		bw := float64(plotW) / float64(n)
		bar := func(i int, c int64, color, label string) {
			h := float64(c) / nice * plotH
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %d</title></rect>`,
				padL+float64(i)*bw+0.5, padT+plotH-h, max(bw-1, 0.5), h, color, html.EscapeString(label), c)
		}
		for i, c := range counts {
			bar(i, c, colorA, fmt.Sprintf("%s–%s ms", msEdge(time.Duration(i)*width), msEdge(time.Duration(i+1)*width)))
		}
		if overflow > 0 {
			bar(len(counts), overflow, colorB, fmt.Sprintf("≥ %s ms", msEdge(time.Duration(len(counts))*width)))
		}
		for k := range 6 {
			i := k * n / 5
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" style="%s">%s</text>`,
				padL+float64(i)*bw, chartH-padB+16, font, msEdge(time.Duration(i)*width))
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" style="%s">ms (bucket %s ms)</text>`,
			padL+plotW, chartH-4, font, msEdge(width))
	}
	b.WriteString("</svg>")
	return b.String()
}

// autoBucket picks a bucket width of 1, 2 or 5 times a power of ten that
// spreads values up to limit over at most 60 bars.
func autoBucket(limit time.Duration) time.Duration {
	w := time.Duration(niceCeil(float64(limit) / 60))
	return max(w, time.Microsecond)
}
