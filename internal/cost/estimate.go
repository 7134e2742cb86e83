package cost

import (
	"errors"
	"math"
	"time"

	"github.com/ltk-dev/ltk/internal/report"
)

// MonthHours is the month the estimate runs for: 24x7 for 30 days.
const MonthHours = 720

// The stats entries the estimate counts, by the names devices record.
var (
	publishEntries  = [][2]string{{"MQTT", "MQTT publish"}}
	deliveryEntries = [][2]string{{"echo", "echo receive"}, {"echo", "echo late"}}
	connectEntry    = [2]string{"MQTT", "MQTT connect"}
	subscribeEntry  = [2]string{"MQTT", "MQTT subscribe"}
)

// Measured is what a test measured, over the part of the window its runs cover.
type Measured struct {
	Duration      time.Duration // time covered
	PeakDevices   int
	DeviceSeconds int64 // = connection-seconds: a running device holds one connection
	Nodes         int   // load-generating nodes (the most any run had)

	Publishes, PublishBytes   int64 // device → broker ("MQTT publish"); bytes of the successful ones
	PublishOK                 int64 // successful publishes, that bytes are from
	Deliveries, DeliveryBytes int64 // broker → device ("echo receive", "echo late")
	Connects, Subscribes      int64
}

// ErrNoDevices is returned by Measure when the window had no running devices.
var ErrNoDevices = errors.New("no device-hours in the window (no devices were running)")

// Measure takes the counts the estimate needs from d.
func Measure(d *report.Data) (Measured, error) {
	m := Measured{Duration: d.Duration(), Nodes: 1}
	m.PeakDevices, m.DeviceSeconds = d.DeviceStats()
	if m.DeviceSeconds == 0 {
		return m, ErrNoDevices
	}
	for _, r := range d.Runs {
		m.Nodes = max(m.Nodes, r.Nodes)
	}
	for _, e := range publishEntries {
		t := d.Entry(e[0], e[1])
		m.Publishes += t.Count
		m.PublishOK += t.Count - t.Failures
		m.PublishBytes += t.Bytes
	}
	for _, e := range deliveryEntries {
		t := d.Entry(e[0], e[1])
		m.Deliveries += t.Count - t.Failures
		m.DeliveryBytes += t.Bytes
	}
	m.Connects = d.Entry(connectEntry[0], connectEntry[1]).Count
	m.Subscribes = d.Entry(subscribeEntry[0], subscribeEntry[1]).Count
	return m, nil
}

// DeviceHours returns the device-hours measured.
func (m Measured) DeviceHours() float64 { return float64(m.DeviceSeconds) / 3600 }

// units returns how many metering units a message of the average size
// bytes/n takes (at least 1).
func units(bytes, n, unit int64) float64 {
	if n <= 0 || bytes <= 0 {
		return 1
	}
	avg := float64(bytes) / float64(n)
	return max(1, math.Ceil(avg/float64(unit)))
}

// Costs are the parts of a cost.
type Costs struct {
	MeteredMessages   float64 // messages as the provider meters them
	Messaging         float64
	ConnectionMinutes float64
	Connectivity      float64
	Rules             float64
	Target            float64 // Messaging + Connectivity + Rules
}

// Estimate is the cost of N devices for a month, and how it was reached.
type Estimate struct {
	Measured Measured
	Pricing  Pricing
	Devices  int // N

	PublishUnits, DeliveryUnits float64 // metering units per message, from the average sizes
	PerDeviceHour               Costs   // metered messages and connection-minutes of one device-hour (costs unpriced)

	Test             Costs // the test itself, priced as it was
	Month            Costs // N devices, 24x7, 30 days
	DeviceHoursMonth float64

	DriverTest       float64 // nodes × test hours × node price
	DriverNodesMonth int
	DriverMonth      float64
	DevicesPerNode   float64
	DriverBound      string // what limits DevicesPerNode: "given", "CPU", "memory" or "connections"

	// Simple is the tutorial's extrapolation: the test's target cost per
	// hour × N / devices in the test × 720.
	Simple float64
}

// Extrapolate estimates the cost of devices devices from m, priced with p.
func Extrapolate(m Measured, p Pricing, devices int) Estimate {
	msg := &p.Messaging
	e := Estimate{Measured: m, Pricing: p, Devices: devices,
		PublishUnits:  units(m.PublishBytes, m.PublishOK, msg.UnitBytes),
		DeliveryUnits: units(m.DeliveryBytes, m.Deliveries, msg.UnitBytes)}

	// The test's own metered messages and connection time.
	metered := float64(m.Publishes)*(msg.PerPublish+msg.BackendPerPublish)*e.PublishUnits +
		float64(m.Deliveries)*(msg.PerDelivery*e.DeliveryUnits+msg.PubackPerDelivery) +
		float64(m.Connects)*msg.PerConnect + float64(m.Subscribes)*msg.PerSubscribe
	e.Test = price(p, metered, float64(m.DeviceSeconds)/60, float64(m.Publishes))

	dh := m.DeviceHours()
	e.PerDeviceHour = Costs{MeteredMessages: metered / dh, ConnectionMinutes: 60}
	e.DeviceHoursMonth = float64(devices) * MonthHours
	e.Month = price(p, e.PerDeviceHour.MeteredMessages*e.DeviceHoursMonth, 60*e.DeviceHoursMonth,
		float64(m.Publishes)/dh*e.DeviceHoursMonth)

	testHours := m.Duration.Hours()
	e.DriverTest = float64(m.Nodes) * testHours * p.Driver.NodeHour
	e.DevicesPerNode, e.DriverBound = nodeCapacity(p.Driver, m)
	e.DriverNodesMonth = int(math.Ceil(float64(devices) / e.DevicesPerNode))
	e.DriverMonth = float64(e.DriverNodesMonth) * MonthHours * p.Driver.NodeHour

	if testHours > 0 && m.PeakDevices > 0 {
		e.Simple = e.Test.Target / testHours * float64(devices) / float64(m.PeakDevices) * MonthHours
	}
	return e
}

// nodeCapacity returns the devices one driver node runs, and what limits
// it: d.DevicesPerNode if given, else Capacity at the message rate the
// test's devices had.
func nodeCapacity(d Driver, m Measured) (float64, string) {
	if d.DevicesPerNode > 0 {
		return float64(d.DevicesPerNode), "given"
	}
	return Capacity(d, float64(max(m.Publishes, m.Deliveries))/float64(m.DeviceSeconds))
}

// Capacity returns the devices a node of d's size runs when each sends
// (and receives) perDeviceSecond messages a second, and what limits it: the
// least of what its CPU, memory and connections allow. A round trip (a
// publish and its echo) is one message of ltk bench's CPU per echo. A rate
// of 0 (or NaN) leaves CPU out. ltk setup sizes its workers with it.
func Capacity(d Driver, perDeviceSecond float64) (float64, string) {
	capacity, bound := d.MemoryMB*1024*d.Utilization/d.MemoryPerDeviceKB, "memory"
	if perDeviceSecond > 0 {
		if c := d.VCPUs * d.Utilization * 1e6 / (d.CPUPerMessageMicros * perDeviceSecond); c < capacity {
			capacity, bound = c, "CPU"
		}
	}
	if c := float64(d.ConnectionsPerNode); c > 0 && c < capacity {
		capacity, bound = c, "connections"
	}
	return math.Max(1, math.Floor(capacity)), bound
}

// price prices metered messages, connection-minutes and device publishes
// (for the rules engine) within one month.
func price(p Pricing, metered, minutes, publishes float64) Costs {
	c := Costs{MeteredMessages: metered, ConnectionMinutes: minutes}
	c.Messaging = p.Messaging.messagingCost(metered)
	c.Connectivity = minutes * p.Connectivity.PerMillionMinutes / 1e6
	rules := publishes * p.Rules.PerPublish
	c.Rules = rules*p.Rules.PerMillionRules/1e6 + rules*p.Rules.ActionsPerRule*p.Rules.PerMillionActions/1e6
	c.Target = c.Messaging + c.Connectivity + c.Rules
	return c
}
