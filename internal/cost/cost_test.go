package cost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/report"
	"github.com/ltk-dev/ltk/internal/report/reporttest"
)

// measured records a run of 10 devices for 360 s (1 device-hour) on one
// node: each device connects and subscribes once, then publishes 64 bytes
// every second and gets the echo. It returns what Measure makes of it.
func measured(t *testing.T) Measured {
	t.Helper()
	st, err := report.Open(filepath.Join(t.TempDir(), "ltk.db"))
	require.NoError(t, err)
	defer st.Close()
	start := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	run, err := st.Begin(report.RunMeta{Name: "cost", Start: start, Devices: 10, Nodes: 1})
	require.NoError(t, err)
	u := start.Unix()
	run.SetDevices(start, 10)
	run.AddDelta(reporttest.Delta(u, "MQTT", "MQTT connect", 10, 20*time.Millisecond, 0))
	run.AddDelta(reporttest.Delta(u, "MQTT", "MQTT subscribe", 10, 5*time.Millisecond, 0))
	for s := range int64(360) {
		run.AddDelta(reporttest.Delta(u+s, "MQTT", "MQTT publish", 10, 2*time.Millisecond, 64))
		run.AddDelta(reporttest.Delta(u+s, "echo", "echo receive", 10, 150*time.Millisecond, 64))
	}
	require.NoError(t, run.End(start.Add(360*time.Second)))
	d, err := st.LoadRun(t.Context(), "cost")
	require.NoError(t, err)
	m, err := Measure(d)
	require.NoError(t, err)
	return m
}

// TestEstimateHandComputed checks the figures against a hand computation:
//
//	per device-hour: 3600 publishes × (1 + 2 back end) + 3600 deliveries × (1 + 1 PUBACK)
//	                 + 10 connects + 10 subscribes = 18,020 metered messages
//	1000 devices × 720 h = 720,000 device-hours → 12,974.4 million messages
//	messaging: 1000 × 1.00 + 4000 × 0.80 + 7974.4 × 0.70 = 9,782.08
//	connectivity: 720,000 × 60 = 43.2 million minutes × 0.08 = 3.456
//	driver: a node's capacity, not the test's 10 devices per node: 28,232
//	        connections (CPU: 2 × 0.7 ÷ 25 µs at 1 message/s = 56,000) → 1 node × 720 h × 0.10 = 72
//	the test: 18,020 messages = 0.01802, 60 connection-minutes = 0.0000048, over 0.1 h
//	simple: 0.0180248 / 0.1 h × 1000 / 10 × 720 = 12,977.856
func TestEstimateHandComputed(t *testing.T) {
	t.Parallel()
	m := measured(t)
	require.Equal(t, Measured{Duration: 360 * time.Second, PeakDevices: 10, DeviceSeconds: 3600, Nodes: 1,
		Publishes: 3600, PublishOK: 3600, PublishBytes: 3600 * 64, Deliveries: 3600, DeliveryBytes: 3600 * 64,
		Connects: 10, Subscribes: 10}, m)

	e := Extrapolate(m, DefaultPricing(), 1000)
	require.InDelta(t, 18020, e.PerDeviceHour.MeteredMessages, 1e-6)
	require.InDelta(t, 12_974.4e6, e.Month.MeteredMessages, 1)
	require.InDelta(t, 9782.08, e.Month.Messaging, 1e-6)
	require.InDelta(t, 3.456, e.Month.Connectivity, 1e-9)
	require.InDelta(t, 9785.536, e.Month.Target, 1e-6)
	require.Equal(t, 1, e.DriverNodesMonth)
	require.InDelta(t, 72, e.DriverMonth, 1e-9)
	require.Equal(t, "connections", e.DriverBound)
	require.InDelta(t, 0.01, e.DriverTest, 1e-12)
	require.InDelta(t, 0.0180248, e.Test.Target, 1e-12)
	require.InDelta(t, 12_977.856, e.Simple, 1e-6)

	var b strings.Builder
	require.NoError(t, e.Write(&b))
	for _, s := range []string{
		"Measured over 6m0s: peak 10 devices, 1.00 device-hours, 1 node(s)",
		"1000 devices, 24x7 for 30 days (720 h): 720000 device-hours",
		"9782.08 USD", "3.46 USD", "9785.54 USD", "72.00 USD",
		"the driver needs one node per 28232 devices (connection-bound: driver.connections_per_node)",
		"12977.86 USD per month",
		"Assumptions",
	} {
		require.Contains(t, b.String(), s)
	}
}

// TestDriverCapacity: the driver's nodes follow from a node's capacity for
// devices like the test's, whichever of CPU, memory and connections runs
// out first, not from how many devices each node ran in a small test.
func TestDriverCapacity(t *testing.T) {
	t.Parallel()
	m := measured(t) // 10 devices on 1 node, 1 round trip per device-second
	p := DefaultPricing()
	e := Extrapolate(m, p, 10_000)
	require.Equal(t, 1, e.DriverNodesMonth, "not 1,000 nodes of 10 devices")

	p.Driver.ConnectionsPerNode = 0
	e = Extrapolate(m, p, 100_000)
	require.InDelta(t, 56_000, e.DevicesPerNode, 1e-9, "2 vCPUs × 70%% ÷ 25 µs per second")
	require.Equal(t, "CPU", e.DriverBound)
	require.Equal(t, 2, e.DriverNodesMonth)

	m10 := m
	m10.Publishes, m10.Deliveries = 10*m.Publishes, 10*m.Deliveries // 10 round trips per device-second
	require.InDelta(t, 5_600, Extrapolate(m10, p, 100_000).DevicesPerNode, 1e-9)

	p.Driver.MemoryMB = 100 // 100 MB × 70% ÷ 5 KB = 14,336
	e = Extrapolate(m, p, 100_000)
	require.InDelta(t, 14_336, e.DevicesPerNode, 1e-9)
	require.Equal(t, "memory", e.DriverBound)
	require.Equal(t, 7, e.DriverNodesMonth)

	p.Driver.DevicesPerNode = 300
	require.Equal(t, 34, Extrapolate(m, p, 10_000).DriverNodesMonth, "devices_per_node, when given, wins")
}

// TestPricingFile reads a JSON pricing file with a rules engine and a
// bigger metering unit's opposite: 64-byte messages in 32-byte units.
func TestPricingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"currency":"EUR",
		"messaging":{"unit_bytes":32,"tiers":[{"up_to_millions":0,"per_million":2}],"per_publish":1,"per_delivery":1},
		"connectivity":{"per_million_minutes":0},
		"rules":{"per_publish":1,"actions_per_rule":1,"per_million_rules":0.15,"per_million_actions":0.15},
		"driver":{"node_hour":1,"devices_per_node":300}}`), 0o644))
	p, err := LoadPricing(path)
	require.NoError(t, err)
	e := Extrapolate(measured(t), p, 1000)
	require.EqualValues(t, 2, e.PublishUnits)
	// per device-hour: 3600 × 2 units + 3600 × 2 units = 14,400 → × 720,000 device-hours.
	require.InDelta(t, 14400*720000*2/1e6, e.Month.Messaging, 1e-6)
	// rules: 3600 publishes per device-hour × 720,000 = 2,592 million, × (0.15 + 0.15).
	require.InDelta(t, 2592*0.30, e.Month.Rules, 1e-6)
	require.Equal(t, 4, e.DriverNodesMonth)

	for _, tc := range []struct{ body, want string }{
		{"messaging: {unit_byte: 5}", "field unit_byte not found"},
		{"messaging: {unit_bytes: 0, tiers: [{per_million: 1}]}", "messaging.unit_bytes 0"},
		{"messaging: {unit_bytes: 5120, tiers: [{up_to_millions: 10, per_million: 1}]}", "the last tier must have no limit"},
		{"messaging: {unit_bytes: 5120, tiers: [{per_million: 1}]}\nconnectivity: {per_million_minutes: -1}", "connectivity.per_million_minutes -1 is negative"},
		{"{", "see ltk cost --print-pricing"},
		{"driver: {utilization: 1.5}", "driver.utilization 1.5: want a share above 0 and at most 1"},
	} {
		_, err := ParsePricing([]byte(tc.body))
		require.ErrorContains(t, err, tc.want, tc.body)
	}
}

func TestDefaultPricingFileParses(t *testing.T) {
	t.Parallel()
	p, err := ParsePricing(DefaultPricingFile())
	require.NoError(t, err)
	require.EqualValues(t, 5120, p.Messaging.UnitBytes)
	require.Equal(t, []Tier{{1000, 1}, {5000, 0.8}, {0, 0.7}}, p.Messaging.Tiers)
	require.InDelta(t, 0.08, p.Connectivity.PerMillionMinutes, 0)
	require.Contains(t, string(DefaultPricingFile()), "Edit the prices for your provider")
}

func TestMessagingTiers(t *testing.T) {
	t.Parallel()
	m := DefaultPricing().Messaging
	require.InDelta(t, 0.5, m.messagingCost(0.5e6), 1e-12)
	require.InDelta(t, 1000, m.messagingCost(1000e6), 1e-9)
	require.InDelta(t, 1000+0.8, m.messagingCost(1001e6), 1e-9)
	require.InDelta(t, 1000+3200+0.7, m.messagingCost(5001e6), 1e-9)
}
