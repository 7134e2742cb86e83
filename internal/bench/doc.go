// Package bench measures what generating load costs ltk: it starts the
// embedded IoT target in a child process (so that the broker's work is not
// counted), runs a fleet of simulated devices in this process, with the
// tutorial's echo behaviour or a scenario's plan (each device running its
// kind's program), and reports for this process alone the echoes per second
// achieved against those expected, the echo latency, the CPU time per echo
// round trip and per message (every message the devices published or were
// sent, as the target counted them), each kind's message rates, the
// resident memory per connected device, the connect rate of the ramp, and
// the target's CPU for context. `ltk bench` is its command line; its
// --scenario echo,builtin runs the echo scenario and the built-in echo in
// one invocation and compares them.
package bench
