// Package echo is ltk's echo back end, the tutorial's Cloud Function: it
// answers each device event by publishing the same payload to the device's
// commands topic (/devices/D/events[/...] → /devices/D/commands), optionally
// after a delay with jitter, optionally dropping a fraction of events, and
// records its execution time, event received → echo published (the
// tutorial's "function times"), in ltk_echo_execution_seconds and through
// Config.Observer.
//
// App is the echo logic, independent of any MQTT client: the embedded target
// feeds it from the broker in-process. Client runs it as an MQTT client of any
// broker (`ltk echo`), through a shared subscription so that several echo
// processes split the load.
package echo
