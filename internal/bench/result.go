package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// Result is what one run measured, for the load-generating process alone
// unless a field says otherwise. Rates and times per echo are over the
// measurement window; memory is the growth from before the devices existed
// to the end of the window.
type Result struct {
	Scenario  string   `json:"scenario"`          // the scenario's name, or BuiltinEcho
	Skipped   []string `json:"skipped,omitempty"` // kinds left out, and why
	Client    string   `json:"client"`
	Devices   int      `json:"devices"`
	Connected int      `json:"connected"` // devices subscribed at the end
	Alg       string   `json:"alg"`
	QoS       byte     `json:"qos"`
	// MQTTVersion and Transport are the devices' MQTT version and how they
	// reached the target (tcp or ws).
	MQTTVersion string  `json:"mqtt_version"`
	Transport   string  `json:"transport"`
	IntervalS   float64 `json:"interval_s"` // 0: the scenario's own schedules
	WindowS     float64 `json:"window_s"`
	Sources     int     `json:"source_addresses"`
	GoMaxProcs  int     `json:"gomaxprocs"`

	ExpectedEchoesPerS float64 `json:"expected_echoes_per_s"` // the replies the devices await: devices ÷ interval for the echo
	EchoesPerS         float64 `json:"echoes_per_s"`
	EchoRatio          float64 `json:"echo_ratio"` // achieved ÷ expected
	EchoP50Ms          float64 `json:"echo_p50_ms"`
	EchoP99Ms          float64 `json:"echo_p99_ms"`
	EchoMaxMs          float64 `json:"echo_max_ms"`
	PublishP99Ms       float64 `json:"publish_p99_ms"` // to the broker's PUBACK (QoS 1), from the intended send time

	// MessagesPerS is every message the devices handled, those they
	// published and those delivered to them, as the target counted them.
	MessagesPerS float64      `json:"messages_per_s"`
	Kinds        []KindResult `json:"kinds"`

	CPUPerEchoUs    float64 `json:"cpu_us_per_echo"`       // process CPU ÷ echoes
	CPUPerMessageUs float64 `json:"cpu_us_per_message"`    // process CPU ÷ MessagesPerS's messages
	CPUPercent      float64 `json:"cpu_percent"`           // of one core, during the window
	RSSPerDeviceKB  float64 `json:"rss_kb_per_device"`     // after a GC that returns free memory to the system
	RSSPerDeviceRaw float64 `json:"rss_kb_per_device_raw"` // as the process ran, garbage and all
	HeapPerDeviceKB float64 `json:"heap_kb_per_device"`    // live heap, after the GC

	RampS           float64 `json:"ramp_s"`
	ConnectsPerS    float64 `json:"connects_per_s"`     // wall clock, during the ramp
	CPUPerConnectUs float64 `json:"cpu_us_per_connect"` // process CPU ÷ connects, during the ramp

	Failures       int64    `json:"failures"`      // in the window
	RampFailures   int64    `json:"ramp_failures"` // during the ramp
	FailureSamples []string `json:"failure_samples,omitempty"`

	TargetCPUPercent   float64 `json:"target_cpu_percent"` // the target process, of one core
	TargetCPUPerEchoUs float64 `json:"target_cpu_us_per_echo"`
}

// KindResult is one kind of device's share of a run.
type KindResult struct {
	Kind    string `json:"kind"`
	Backend bool   `json:"backend,omitempty"`
	Devices int    `json:"devices"`
	// SentPerS is its publishes and reactions' replies that completed (a
	// PUBACK at QoS 1, the write at QoS 0); RepliesPerS the awaited
	// replies it received (in time or late), over the window.
	SentPerS    float64 `json:"sent_per_s"`
	RepliesPerS float64 `json:"replies_per_s"`
}

// WriteJSON writes results as an indented JSON array.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(results)
}

// WriteTable writes results side by side, one column per run.
func WriteTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	row := func(name string, cell func(r *Result) string) {
		cells := make([]string, len(results))
		for i, r := range results {
			cells[i] = cell(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", name, strings.Join(cells, "\t"))
	}
	row("scenario", func(r *Result) string { return r.Scenario })
	row("MQTT client", func(r *Result) string { return r.Client })
	row("MQTT version, transport", func(r *Result) string { return r.MQTTVersion + ", " + r.Transport })
	row("devices (connected)", func(r *Result) string { return fmt.Sprintf("%d (%d)", r.Devices, r.Connected) })
	row("auth, QoS", func(r *Result) string {
		if r.Scenario != BuiltinEcho && r.Scenario != "" {
			return r.Alg + ", the scenario's"
		}
		return fmt.Sprintf("%s, %d", r.Alg, r.QoS)
	})
	row("processors (GOMAXPROCS)", func(r *Result) string { return fmt.Sprint(r.GoMaxProcs) })
	row("interval, window", func(r *Result) string {
		if r.IntervalS == 0 {
			return fmt.Sprintf("the scenario's, %.1fs", r.WindowS)
		}
		return fmt.Sprintf("%gs, %.1fs", r.IntervalS, r.WindowS)
	})
	row("messages/s (sent + received)", func(r *Result) string { return fmt.Sprintf("%.0f", r.MessagesPerS) })
	for _, kind := range kindNames(results) {
		row("  "+kind+": devices, sent/s, replies/s", func(r *Result) string {
			for _, k := range r.Kinds {
				if k.Kind == kind {
					return fmt.Sprintf("%d, %.1f, %.1f", k.Devices, k.SentPerS, k.RepliesPerS)
				}
			}
			return "-"
		})
	}
	row("echoes/s (expected)", func(r *Result) string {
		if r.ExpectedEchoesPerS == 0 {
			return fmt.Sprintf("%.0f (none awaited)", r.EchoesPerS)
		}
		return fmt.Sprintf("%.0f (%.0f, %.1f%%)", r.EchoesPerS, r.ExpectedEchoesPerS, 100*r.EchoRatio)
	})
	row("echo p50 / p99 / max", func(r *Result) string {
		return fmt.Sprintf("%s / %s / %s ms", ms(r.EchoP50Ms), ms(r.EchoP99Ms), ms(r.EchoMaxMs))
	})
	row("publish (PUBACK) p99", func(r *Result) string { return ms(r.PublishP99Ms) + " ms" })
	row("CPU per echo", func(r *Result) string { return fmt.Sprintf("%.1f µs", r.CPUPerEchoUs) })
	row("CPU per message", func(r *Result) string { return fmt.Sprintf("%.1f µs", r.CPUPerMessageUs) })
	row("CPU (of one core)", func(r *Result) string { return fmt.Sprintf("%.1f%%", r.CPUPercent) })
	row("RSS per device", func(r *Result) string {
		return fmt.Sprintf("%.2f KB (%.2f before GC)", r.RSSPerDeviceKB, r.RSSPerDeviceRaw)
	})
	row("live heap per device", func(r *Result) string { return fmt.Sprintf("%.2f KB", r.HeapPerDeviceKB) })
	row("ramp", func(r *Result) string { return fmt.Sprintf("%.1fs, %.0f connects/s", r.RampS, r.ConnectsPerS) })
	row("CPU per connect", func(r *Result) string {
		return fmt.Sprintf("%.0f µs (%.0f/s per core)", r.CPUPerConnectUs, perCore(r.CPUPerConnectUs))
	})
	row("failures (ramp)", func(r *Result) string { return fmt.Sprintf("%d (%d)", r.Failures, r.RampFailures) })
	row("target CPU", func(r *Result) string {
		return fmt.Sprintf("%.1f%%, %.1f µs/echo", r.TargetCPUPercent, r.TargetCPUPerEchoUs)
	})
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		for _, s := range r.Skipped {
			if _, err := fmt.Fprintf(w, "%s: %s\n", r.Scenario, s); err != nil {
				return err
			}
		}
		for _, s := range r.FailureSamples {
			if _, err := fmt.Fprintf(w, "%s failure: %s\n", r.Client, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// kindNames returns the kinds of results' devices, in order of first
// appearance.
func kindNames(results []*Result) []string {
	var names []string
	for _, r := range results {
		for _, k := range r.Kinds {
			if !slices.Contains(names, k.Kind) {
				names = append(names, k.Kind)
			}
		}
	}
	return names
}

// ms formats milliseconds with two decimals below 10 ms, as ltk's tables do.
func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// perCore turns CPU microseconds per operation into operations per
// CPU-second.
func perCore(us float64) float64 {
	if us <= 0 {
		return 0
	}
	return 1e6 / us
}
