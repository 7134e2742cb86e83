// Package chart draws the charts of ltk's HTML reports as inline SVG: line
// charts over time and bar charts of distributions. The SVG needs no script
// and nothing from the network, so a page that holds it renders anywhere,
// offline. Both the web UI's /stats/report and the recorded run's
// report.html (--html, ltk harvest) draw with it.
package chart
