package bench

import (
	"fmt"
	"io"
	"slices"
)

// WriteComparison writes, for each MQTT client that ran both the built-in
// echo and a scenario, the scenario's cost as a ratio to the built-in's:
// CPU per echo, CPU per message and RSS per device, each the median of the
// runs of that variant (several when the runs were repeated in rounds). It
// writes nothing when results hold no such pair.
func WriteComparison(w io.Writer, results []*Result) error {
	type variant struct{ scenario, client string }
	var order []variant
	runs := map[variant][]*Result{}
	for _, r := range results {
		v := variant{r.Scenario, r.Client}
		if _, ok := runs[v]; !ok {
			order = append(order, v)
		}
		runs[v] = append(runs[v], r)
	}
	for _, v := range order {
		base, ok := runs[variant{BuiltinEcho, v.client}]
		if v.scenario == BuiltinEcho || !ok {
			continue
		}
		ratio := func(f func(*Result) float64) string {
			a, b := median(runs[v], f), median(base, f)
			if a == 0 || b == 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f×", a/b)
		}
		if _, err := fmt.Fprintf(w, "%s ÷ %s on the %s client (medians of %d and %d runs): CPU per echo %s, CPU per message %s, RSS per device %s\n",
			v.scenario, BuiltinEcho, v.client, len(runs[v]), len(base),
			ratio(func(r *Result) float64 { return r.CPUPerEchoUs }),
			ratio(func(r *Result) float64 { return r.CPUPerMessageUs }),
			ratio(func(r *Result) float64 { return r.RSSPerDeviceKB })); err != nil {
			return err
		}
	}
	return nil
}

// median returns the median of f over rs (the mean of the middle two for
// an even count).
func median(rs []*Result, f func(*Result) float64) float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}
