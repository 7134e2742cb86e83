package cost

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// defaultPricing is the documented default pricing file (AWS IoT Core).
//
//go:embed pricing.yaml
var defaultPricing []byte

// DefaultPricingFile returns the default pricing file, comments and all,
// as ltk cost --print-pricing writes it.
func DefaultPricingFile() []byte { return bytes.Clone(defaultPricing) }

// Pricing is a pricing file: what the target's provider and the driver's
// machines charge. See pricing.yaml for every field's meaning.
type Pricing struct {
	Currency     string       `yaml:"currency" json:"currency"`
	Messaging    Messaging    `yaml:"messaging" json:"messaging"`
	Connectivity Connectivity `yaml:"connectivity" json:"connectivity"`
	Rules        Rules        `yaml:"rules" json:"rules"`
	Driver       Driver       `yaml:"driver" json:"driver"`
}

// Messaging prices and meters messages.
type Messaging struct {
	UnitBytes         int64   `yaml:"unit_bytes" json:"unit_bytes"`
	Tiers             []Tier  `yaml:"tiers" json:"tiers"`
	PerPublish        float64 `yaml:"per_publish" json:"per_publish"`
	BackendPerPublish float64 `yaml:"backend_per_publish" json:"backend_per_publish"`
	PerDelivery       float64 `yaml:"per_delivery" json:"per_delivery"`
	PubackPerDelivery float64 `yaml:"puback_per_delivery" json:"puback_per_delivery"`
	PerConnect        float64 `yaml:"per_connect" json:"per_connect"`
	PerSubscribe      float64 `yaml:"per_subscribe" json:"per_subscribe"`
}

// A Tier prices the messages of a month up to UpToMillions (0: no limit).
type Tier struct {
	UpToMillions float64 `yaml:"up_to_millions" json:"up_to_millions"`
	PerMillion   float64 `yaml:"per_million" json:"per_million"`
}

// Connectivity prices connection time.
type Connectivity struct {
	PerMillionMinutes float64 `yaml:"per_million_minutes" json:"per_million_minutes"`
}

// Rules prices a rules engine in front of the back end.
type Rules struct {
	PerPublish        float64 `yaml:"per_publish" json:"per_publish"`
	ActionsPerRule    float64 `yaml:"actions_per_rule" json:"actions_per_rule"`
	PerMillionRules   float64 `yaml:"per_million_rules" json:"per_million_rules"`
	PerMillionActions float64 `yaml:"per_million_actions" json:"per_million_actions"`
}

// Driver prices the load generator and says how many devices one of its
// nodes runs: DevicesPerNode, or when it is 0 the node's capacity from its
// size and a worker's measured costs (ltk bench's figures), at the message
// rate the test's devices had.
type Driver struct {
	NodeHour       float64 `yaml:"node_hour" json:"node_hour"`
	DevicesPerNode int     `yaml:"devices_per_node" json:"devices_per_node"`

	VCPUs               float64 `yaml:"vcpus" json:"vcpus"`
	MemoryMB            float64 `yaml:"memory_mb" json:"memory_mb"`
	Utilization         float64 `yaml:"utilization" json:"utilization"` // share of CPU and memory to plan for, 0–1
	CPUPerMessageMicros float64 `yaml:"cpu_per_message_us" json:"cpu_per_message_us"`
	MemoryPerDeviceKB   float64 `yaml:"memory_per_device_kb" json:"memory_per_device_kb"`
	ConnectionsPerNode  int     `yaml:"connections_per_node" json:"connections_per_node"` // 0 = no limit
}

// DefaultPricing returns the default pricing (AWS IoT Core, US East).
func DefaultPricing() Pricing {
	p, err := ParsePricing(defaultPricing)
	if err != nil {
		panic("cost: the embedded pricing.yaml is invalid: " + err.Error())
	}
	return p
}

// LoadPricing reads a pricing file (YAML or JSON).
func LoadPricing(path string) (Pricing, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Pricing{}, fmt.Errorf("read pricing file: %w (ltk cost --print-pricing writes one to start from)", err)
	}
	p, err := ParsePricing(b)
	if err != nil {
		return Pricing{}, fmt.Errorf("pricing file %s: %w", path, err)
	}
	return p, nil
}

// ParsePricing parses a pricing file (YAML, or JSON, which is YAML too).
// Unknown fields are errors, so that a misspelt price is not silently 0.
func ParsePricing(b []byte) (Pricing, error) {
	var p Pricing
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		return Pricing{}, fmt.Errorf("%w (see ltk cost --print-pricing for the format)", err)
	}
	err := p.Validate()
	return p, err
}

// Validate reports prices and meters that cannot be right.
func (p *Pricing) Validate() error {
	var errs []error
	m := &p.Messaging
	if m.UnitBytes <= 0 {
		errs = append(errs, fmt.Errorf("messaging.unit_bytes %d: want the metering unit in bytes, such as 5120", m.UnitBytes))
	}
	if len(m.Tiers) == 0 {
		errs = append(errs, errors.New("messaging.tiers: want at least one tier (up_to_millions: 0 for no limit)"))
	}
	prev := 0.0
	for i, t := range m.Tiers {
		last := i == len(m.Tiers)-1
		switch {
		case t.PerMillion < 0:
			errs = append(errs, fmt.Errorf("messaging.tiers[%d].per_million %g is negative", i, t.PerMillion))
		case last && t.UpToMillions != 0:
			errs = append(errs, fmt.Errorf("messaging.tiers[%d]: the last tier must have no limit (up_to_millions: 0)", i))
		case !last && t.UpToMillions <= prev:
			errs = append(errs, fmt.Errorf("messaging.tiers[%d].up_to_millions %g: want limits that grow, above %g", i, t.UpToMillions, prev))
		}
		prev = t.UpToMillions
	}
	for name, v := range map[string]float64{
		"messaging.per_publish": m.PerPublish, "messaging.backend_per_publish": m.BackendPerPublish,
		"messaging.per_delivery": m.PerDelivery, "messaging.puback_per_delivery": m.PubackPerDelivery,
		"messaging.per_connect": m.PerConnect, "messaging.per_subscribe": m.PerSubscribe,
		"connectivity.per_million_minutes": p.Connectivity.PerMillionMinutes,
		"rules.per_publish":                p.Rules.PerPublish, "rules.actions_per_rule": p.Rules.ActionsPerRule,
		"rules.per_million_rules": p.Rules.PerMillionRules, "rules.per_million_actions": p.Rules.PerMillionActions,
		"driver.node_hour": p.Driver.NodeHour, "driver.vcpus": p.Driver.VCPUs, "driver.memory_mb": p.Driver.MemoryMB,
		"driver.cpu_per_message_us": p.Driver.CPUPerMessageMicros, "driver.memory_per_device_kb": p.Driver.MemoryPerDeviceKB,
		"driver.connections_per_node": float64(p.Driver.ConnectionsPerNode),
	} {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s %g is negative", name, v))
		}
	}
	if p.Driver.DevicesPerNode < 0 {
		errs = append(errs, fmt.Errorf("driver.devices_per_node %d is negative (0: from the node's capacity)", p.Driver.DevicesPerNode))
	}
	if d := p.Driver; d.DevicesPerNode == 0 {
		if d.Utilization <= 0 || d.Utilization > 1 {
			errs = append(errs, fmt.Errorf("driver.utilization %g: want a share above 0 and at most 1, such as 0.7", d.Utilization))
		}
		if d.VCPUs <= 0 || d.MemoryMB <= 0 || d.CPUPerMessageMicros <= 0 || d.MemoryPerDeviceKB <= 0 {
			errs = append(errs, errors.New("driver: with devices_per_node 0, give vcpus, memory_mb, cpu_per_message_us and memory_per_device_kb above 0 (or devices_per_node)"))
		}
	}
	return errors.Join(errs...)
}

// messagingCost prices n metered messages in one month, tier by tier.
func (m *Messaging) messagingCost(n float64) float64 {
	var cost, done float64
	for _, t := range m.Tiers {
		limit := t.UpToMillions * 1e6
		if t.UpToMillions == 0 || n <= limit {
			return cost + (n-done)*t.PerMillion/1e6
		}
		cost += (limit - done) * t.PerMillion / 1e6
		done = limit
	}
	return cost
}
