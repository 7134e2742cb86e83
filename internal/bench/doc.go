// Package bench measures what generating load costs ltk: it starts the
// embedded IoT target in a child process (so that the broker's work is not
// counted), runs a fleet of simulated devices with the tutorial's echo
// behaviour in this process, and reports for this process alone the echoes
// per second achieved against those expected, the echo latency, the CPU time
// per echo round trip, the resident memory per connected device, the connect
// rate of the ramp, and the target's CPU for context. `ltk bench` is its
// command line.
package bench
