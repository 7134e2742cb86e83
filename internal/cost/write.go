package cost

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Write prints the estimate: what was measured, per device-hour, the
// month for N devices with its parts, the driver, the tutorial's simple
// extrapolation, and the assumptions behind them.
func (e Estimate) Write(w io.Writer) error {
	m, p := e.Measured, e.Pricing
	cur := p.Currency
	money := func(v float64) string { return fmt.Sprintf("%s %s", moneyText(v), cur) }
	dh := m.DeviceHours()
	var b strings.Builder
	fmt.Fprintf(&b, "Measured over %v: peak %d devices, %.2f device-hours, %d node(s)\n", m.Duration, m.PeakDevices, dh, m.Nodes)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \tin the test\tper device-hour\n")
	row := func(name string, n int64, extra string) {
		fmt.Fprintf(tw, "  %s\t%d\t%.2f%s\n", name, n, float64(n)/dh, extra)
	}
	row("messages from devices (MQTT publish)", m.Publishes, fmt.Sprintf("\t%s avg, %g unit(s) each", avgBytes(m.PublishBytes, m.PublishOK), e.PublishUnits))
	row("messages to devices (echo receive, echo late)", m.Deliveries, fmt.Sprintf("\t%s avg, %g unit(s) each", avgBytes(m.DeliveryBytes, m.Deliveries), e.DeliveryUnits))
	row("bytes from devices", m.PublishBytes, "")
	row("bytes to devices", m.DeliveryBytes, "")
	row("connects", m.Connects, "")
	row("subscribes", m.Subscribes, "")
	fmt.Fprintf(tw, "  connection-minutes\t%.1f\t%.2f\n", float64(m.DeviceSeconds)/60, 60.0)
	fmt.Fprintf(tw, "  metered messages\t%.0f\t%.2f\n", e.Test.MeteredMessages, e.PerDeviceHour.MeteredMessages)
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(&b, "\n%d devices, 24x7 for 30 days (%d h): %.0f device-hours\n", e.Devices, MonthHours, e.DeviceHoursMonth)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  messaging\t%.0f million metered messages\t%s\t\n", e.Month.MeteredMessages/1e6, money(e.Month.Messaging))
	fmt.Fprintf(tw, "  connectivity\t%.2f million connection-minutes\t%s\t\n", e.Month.ConnectionMinutes/1e6, money(e.Month.Connectivity))
	if e.Month.Rules > 0 {
		fmt.Fprintf(tw, "  rules engine\t\t%s\t\n", money(e.Month.Rules))
	}
	fmt.Fprintf(tw, "  target per month\t\t%s\t\n", money(e.Month.Target))
	fmt.Fprintf(tw, "  driver per month\t%d node(s) × %d h × %s\t%s\t\n", e.DriverNodesMonth, MonthHours, moneyText(p.Driver.NodeHour), money(e.DriverMonth))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nThe test itself: target %s, driver %s (%d node(s) × %.2f h × %s)\n",
		money(e.Test.Target), money(e.DriverTest), m.Nodes, m.Duration.Hours(), moneyText(p.Driver.NodeHour))
	fmt.Fprintf(&b, "Tutorial's simple extrapolation: %s per test hour × %d / %d devices × %d h = %s per month\n",
		moneyText(e.Test.Target/max(m.Duration.Hours(), 1e-9)), e.Devices, m.PeakDevices, MonthHours, money(e.Simple))
	if e.Simple > 0 {
		fmt.Fprintf(&b, "  (%.2f× the estimate above: it scales the test's bill linearly, with no volume discount, and counts the test's devices at their peak)\n",
			e.Simple/max(e.Month.Target, 1e-12))
	}

	b.WriteString("\nAssumptions\n")
	for _, a := range []string{
		fmt.Sprintf("every device behaves as the test's did, per device-hour, 24 hours a day for %d hours", MonthHours),
		"a running device holds one connection the whole time (60 connection-minutes per device-hour)",
		fmt.Sprintf("each device message costs %g metered message(s) for the device's PUBLISH and %g for the back end's side, by size in %d-byte units",
			p.Messaging.PerPublish, p.Messaging.BackendPerPublish, p.Messaging.UnitBytes),
		fmt.Sprintf("each message to a device costs %g by size plus %g for its PUBACK", p.Messaging.PerDelivery, p.Messaging.PubackPerDelivery),
		"message sizes are the payloads' average; topic names and MQTT headers are not counted",
		"connects and subscribes go on at the test's rate, which includes every device's first connection: an overestimate for long-lived devices",
		"no free tier, no taxes, no other services (storage, functions, data transfer)",
		fmt.Sprintf("the driver needs one node per %.0f devices (%s), at %s an hour", e.DevicesPerNode, driverBoundText(e), money(p.Driver.NodeHour)),
	} {
		fmt.Fprintf(&b, "  - %s\n", a)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// driverBoundText says where the devices per node come from.
func driverBoundText(e Estimate) string {
	d := e.Pricing.Driver
	switch e.DriverBound {
	case "given":
		return "driver.devices_per_node"
	case "CPU":
		return fmt.Sprintf("CPU-bound: %g vCPUs × %.0f%% at %g µs per message (driver.cpu_per_message_us)", d.VCPUs, 100*d.Utilization, d.CPUPerMessageMicros)
	case "memory":
		return fmt.Sprintf("memory-bound: %g MB × %.0f%% at %g KB per device (driver.memory_per_device_kb)", d.MemoryMB, 100*d.Utilization, d.MemoryPerDeviceKB)
	}
	return "connection-bound: driver.connections_per_node"
}

// moneyText formats an amount with two decimals, more below one cent.
func moneyText(v float64) string {
	if v != 0 && v < 0.01 {
		return fmt.Sprintf("%.6f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func avgBytes(bytes, n int64) string {
	if n == 0 {
		return "0 B"
	}
	return fmt.Sprintf("%.0f B", float64(bytes)/float64(n))
}
