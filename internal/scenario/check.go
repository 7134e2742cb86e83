package scenario

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ltk-dev/ltk/internal/sim"
)

// An Estimate is the traffic a scenario makes at a number of devices, from
// its mean intervals and the sizes of sample messages: what ltk scenario
// check prints before a test is run.
type Estimate struct {
	Scenario string
	Devices  int
	Kinds    []KindEstimate
	// Total sums the kinds' publishes and replies.
	Total Rates
	// OnConnect is the messages the fleet publishes when every device has
	// connected once.
	OnConnect int
	// Awaited is the replies per second the fleet's expectations await.
	Awaited float64
	// Conditional: some reaction has a condition, whose share of the
	// messages was estimated on samples.
	Conditional bool
}

// KindEstimate is one kind's share of an Estimate.
type KindEstimate struct {
	Kind    string
	Devices int
	Share   float64 // of the fleet, from 0 to 1
	Backend bool    // the kind is given by count, not weight
	// Publish is its periodic publishes; Replies its reactions' replies.
	Publish, Replies Rates
	// Awaited is the replies per second its expectations await.
	Awaited float64
	// OnConnect is the messages one device publishes at each connect.
	OnConnect int
	Steps     []StepEstimate
	// MQTT5 lists the MQTT 5 features the kind uses (properties,
	// subscription options, correlation by correlation data), one per
	// step, for people; empty for a kind that uses none.
	MQTT5 []string
}

// StepEstimate is one publish or reaction of a kind, for all its devices.
type StepEstimate struct {
	Name string
	Rates
}

// Rates is a message rate and its payload bytes, per second.
type Rates struct{ Msgs, Bytes float64 }

func (r *Rates) add(o Rates) { r.Msgs += o.Msgs; r.Bytes += o.Bytes }

// Check estimates the traffic of s at devices devices: per kind its
// devices and share, messages and payload bytes per second of its
// publishes (by their mean intervals) and of its reactions' replies (by the
// rate of the messages that reach their filters), and the totals.
func Check(s *Scenario, devices int) (*Estimate, error) {
	if devices < 1 {
		return nil, errors.New("say how many devices to estimate for: 1 or more")
	}
	est := &Estimate{Scenario: s.Name, Devices: devices, Kinds: make([]KindEstimate, len(s.kinds))}
	counts := s.deviceCounts(devices)
	for i, k := range s.kinds {
		ke := &est.Kinds[i]
		ke.Kind, ke.Devices, ke.Backend, ke.MQTT5 = k.name, counts[i], k.weight == 0, k.mqtt5
		ke.Share = float64(counts[i]) / float64(devices)
		n := float64(counts[i])
		for _, p := range k.periodic {
			r := Rates{Msgs: n * p.perSec * float64(p.count)}
			r.Bytes = r.Msgs * float64(p.bytes)
			ke.Publish.add(r)
			ke.Steps = append(ke.Steps, StepEstimate{Name: p.name, Rates: r})
			if p.expects {
				ke.Awaited += r.Msgs
			}
		}
		for _, p := range k.onConnect {
			ke.OnConnect += p.count
		}
	}
	replies := s.reactionRates(counts)
	for i, k := range s.kinds {
		ke := &est.Kinds[i]
		for j, r := range k.reactions {
			rr := Rates{Msgs: replies[i][j], Bytes: replies[i][j] * float64(r.bytes)}
			ke.Replies.add(rr)
			if r.expects {
				ke.Awaited += rr.Msgs
			}
			est.Conditional = est.Conditional || r.when != nil
			ke.Steps = append(ke.Steps, StepEstimate{Name: r.name, Rates: rr})
		}
		est.Total.add(ke.Publish)
		est.Total.add(ke.Replies)
		est.OnConnect += ke.OnConnect * ke.Devices
		est.Awaited += ke.Awaited
	}
	return est, nil
}

// deviceCounts returns how many of the first devices devices are of each
// kind: the counted kinds first, then the weights' cycle.
func (s *Scenario) deviceCounts(devices int) []int {
	counts := make([]int, len(s.kinds))
	fixed, total := 0, 0
	for _, k := range s.kinds {
		fixed += k.count
		total += k.weight
	}
	kindOf := s.plan.KindOf
	head := min(devices, fixed)
	for i := range head {
		counts[kindOf(i)]++
	}
	rest := devices - head
	if total == 0 || rest == 0 {
		return counts
	}
	for i, k := range s.kinds {
		counts[i] += rest / total * k.weight
	}
	for i := range rest % total {
		counts[kindOf(fixed+i)]++
	}
	return counts
}

// reactionRates estimates each reaction's replies per second, [kind][i]:
// the messages that reach its filter, from periodic publishes and from
// other reactions' replies (a few rounds, for chains). A message reaches one
// client of a shared subscription, one device when the filter names the
// device, and every device of the kind otherwise. A condition is tried on
// sample messages of each publish (sequence numbers 1 to 100) and scales
// its rate; on replies, it is taken to hold.
func (s *Scenario) reactionRates(counts []int) [][]float64 {
	type source struct {
		topic []string
		rate  float64
		kind  *kindInfo
		pub   *sim.Publish // nil for a reply
	}
	var base []source
	for i, k := range s.kinds {
		for _, p := range k.periodic {
			base = append(base, source{p.topic, float64(counts[i]) * p.perSec * float64(p.count), k, p.pub})
		}
	}
	rates := make([][]float64, len(s.kinds))
	for i, k := range s.kinds {
		rates[i] = make([]float64, len(k.reactions))
	}
	selectivity := map[[2]any]float64{}
	for range 4 {
		sources := base
		for i, k := range s.kinds {
			for j, r := range k.reactions {
				sources = append(sources, source{r.reply, rates[i][j], k, nil})
			}
		}
		for i, k := range s.kinds {
			for j := range k.reactions {
				r := &k.reactions[j]
				in := 0.0
				for _, src := range sources {
					if r.filter == nil || src.topic == nil || !reaches(r.filter, src.topic) {
						continue
					}
					key := [2]any{r, src.pub}
					f, known := selectivity[key]
					if !known {
						f = conditionShare(r.when, k, src.kind, src.pub)
						selectivity[key] = f
					}
					in += f * src.rate
				}
				if !r.shared && !r.perDevice {
					in *= float64(counts[i])
				}
				if counts[i] == 0 {
					in = 0
				}
				rates[i][j] = in
			}
		}
	}
	return rates
}

// conditionShare is the share of pub's sample messages (sequence numbers 1
// to 100, from a sample device of kind from) for which when holds at a
// sample device of kind to; 1 without a condition or a publish.
func conditionShare(when func(*sim.Vars) bool, to, from *kindInfo, pub *sim.Publish) float64 {
	if when == nil || pub == nil || pub.Topic == nil {
		return 1
	}
	const samples = 100
	sender, receiver := from.sample(), to.sample()
	held := 0
	for seq := range uint64(samples) {
		sender.Seq = seq + 1
		receiver.Topic = pub.Topic.Append(receiver.Topic[:0], sender)
		receiver.Payload = pub.Payload.Append(receiver.Payload[:0], sender)
		if when(receiver) {
			held++
		}
	}
	return float64(held) / samples
}

// Write prints the estimate as a table.
func (e *Estimate) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Scenario %q at %d devices (estimates from mean intervals and sample payload sizes)\n\n", e.Scenario, e.Devices)
	kinds := [][]string{{"KIND", "DEVICES", "SHARE", "MSGS/S", "BYTES/S", "REPLIES/S", "REPLY BYTES/S", "AWAITED/S", "ON CONNECT"}}
	steps := [][]string{{"KIND", "STEP", "MSGS/S", "BYTES/S"}}
	for _, k := range e.Kinds {
		share := fmt.Sprintf("%.1f%%", 100*k.Share)
		if k.Backend {
			share = "count"
		}
		kinds = append(kinds, []string{k.Kind, strconv.Itoa(k.Devices), share,
			rate(k.Publish.Msgs), bytesRate(k.Publish.Bytes), rate(k.Replies.Msgs), bytesRate(k.Replies.Bytes),
			rate(k.Awaited), strconv.Itoa(k.OnConnect)})
		for _, s := range k.Steps {
			steps = append(steps, []string{k.Kind, s.Name, rate(s.Msgs), bytesRate(s.Bytes)})
		}
	}
	kinds = append(kinds, []string{"TOTAL", strconv.Itoa(e.Devices), "", rate(e.Total.Msgs), bytesRate(e.Total.Bytes),
		"", "", rate(e.Awaited), strconv.Itoa(e.OnConnect)})
	if err := table(&b, kinds); err != nil {
		return err
	}
	b.WriteString("\nSteps (all devices of the kind):\n")
	if err := table(&b, steps); err != nil {
		return err
	}
	mqtt5 := false
	for _, k := range e.Kinds {
		for i, f := range k.MQTT5 {
			if !mqtt5 {
				b.WriteString("\nMQTT 5 (the kinds connect with connect.mqtt_version: 5, on the lean client):\n")
				mqtt5 = true
			}
			name := k.Kind
			if i > 0 {
				name = strings.Repeat(" ", len(name))
			}
			fmt.Fprintf(&b, "  %s  %s\n", name, f)
		}
	}
	fmt.Fprintf(&b, "\nTotal: %s messages/s, %s of payload.\n", rate(e.Total.Msgs), bytesRate(e.Total.Bytes))
	if e.Conditional {
		b.WriteString("Reactions with a condition (when:) react to the share of 100 sample messages it held for.\n")
	}
	if e.Awaited > 0 {
		fmt.Fprintf(&b, "Awaited: %s replies/s, from the back end under test (such as the echo app) or the scenario's reactions.\n", rate(e.Awaited))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// table writes rows to b as right-aligned columns.
func table(b *strings.Builder, rows [][]string) error {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range rows {
		if _, err := io.WriteString(tw, strings.Join(r, "\t")+"\t\n"); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// rate formats messages per second.
func rate(r float64) string {
	switch {
	case r == 0:
		return "0"
	case r < 10:
		return fmt.Sprintf("%.2f", r)
	}
	return fmt.Sprintf("%.1f", r)
}

// bytesRate formats bytes per second with a decimal unit.
func bytesRate(b float64) string {
	units := []string{"B/s", "kB/s", "MB/s", "GB/s"}
	i := 0
	for ; b >= 1000 && i < len(units)-1; i++ {
		b /= 1000
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", b, units[i])
	}
	return fmt.Sprintf("%.1f %s", b, units[i])
}
