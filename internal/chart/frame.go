package chart

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Geometry and style of every chart, in SVG user units.
const (
	width, height                    = 960, 260
	padL, padR, padT, padB           = 64, 16, 28, 32
	plotW, plotH                     = width - padL - padR, height - padT - padB
	yTicks                           = 5
	xTicksMax                        = 8
	font                             = `font-family="system-ui,sans-serif" font-size="12"`
	gridStroke, axisText, titleColor = "#e5e7eb", "#6b7280", "#111827"
)

// open starts a chart: the svg element and the title.
func open(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg class="chart" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s">`,
		width, height, html.EscapeString(title))
	fmt.Fprintf(b, `<text x="%d" y="16" %s font-weight="600" fill="%s">%s</text>`, padL, font, titleColor, html.EscapeString(title))
}

// yAxis draws the horizontal grid lines and the y labels from 0 to a round
// number at or above top, with unit along the axis, and returns the
// function that maps a value to its y coordinate.
func yAxis(b *strings.Builder, top float64, unit string) func(float64) float64 {
	step := NiceStep(top / yTicks)
	top = step * yTicks
	py := func(y float64) float64 { return padT + plotH*(1-y/top) }
	for i := 0; i <= yTicks; i++ {
		y := step * float64(i)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, padL, padL+plotW, py(y), py(y), gridStroke)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" %s fill="%s" text-anchor="end">%s</text>`,
			padL-6, py(y)+4, font, axisText, formatTick(y))
	}
	fmt.Fprintf(b, `<text x="12" y="%d" %s fill="%s" transform="rotate(-90 12 %d)" text-anchor="middle">%s</text>`,
		padT+plotH/2, font, axisText, padT+plotH/2, html.EscapeString(unit))
	return py
}

// NiceStep rounds raw up to 1, 2 or 5 times a power of ten (1 for raw <= 0).
func NiceStep(raw float64) float64 {
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
