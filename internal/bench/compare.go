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

// WriteVariantComparison writes, for each scenario and MQTT client that ran
// in more than one MQTT version, QoS or transport, each variant's cost as a
// ratio to the first variant's (the base: bench's first values), next to
// its absolute value: CPU per echo and RSS per device, medians of the runs.
// It writes nothing when every run had the same variant.
func WriteVariantComparison(w io.Writer, results []*Result) error {
	type group struct{ scenario, client string }
	type variant struct {
		group
		version, transport string
		qos                byte
	}
	var order []variant
	runs := map[variant][]*Result{}
	base := map[group]variant{}
	for _, r := range results {
		v := variant{group{r.Scenario, r.Client}, r.MQTTVersion, r.Transport, r.QoS}
		if _, ok := runs[v]; !ok {
			order = append(order, v)
			if _, ok := base[v.group]; !ok {
				base[v.group] = v
			}
		}
		runs[v] = append(runs[v], r)
	}
	for _, v := range order {
		b := base[v.group]
		if v == b {
			continue
		}
		ratio := func(f func(*Result) float64, unit string) string {
			a, c := median(runs[v], f), median(runs[b], f)
			if a == 0 || c == 0 {
				return fmt.Sprintf("%.1f %s (-)", a, unit)
			}
			return fmt.Sprintf("%.1f %s vs %.1f %s (%.2f×)", a, unit, c, unit, a/c)
		}
		if _, err := fmt.Fprintf(w, "%s on the %s client, MQTT %s QoS %d over %s ÷ MQTT %s QoS %d over %s: CPU per echo %s, RSS per device %s\n",
			v.scenario, v.client, v.version, v.qos, v.transport, b.version, b.qos, b.transport,
			ratio(func(r *Result) float64 { return r.CPUPerEchoUs }, "µs"),
			ratio(func(r *Result) float64 { return r.RSSPerDeviceKB }, "KB")); err != nil {
			return err
		}
	}
	return nil
}
