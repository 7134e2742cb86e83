// Package cost estimates what a device population would cost to run, from
// what a recorded test measured: messages, bytes and connection time per
// device-hour, extrapolated to N devices running 24x7 for a 30-day month and
// priced with a pricing file (defaults: AWS IoT Core messaging, with its
// 5 KB metering unit, and connectivity), plus the load generator's own
// node-hours. Beside it, it gives the tutorial's simple extrapolation: the
// test's cost per hour × N / devices in the test × 720.
package cost
