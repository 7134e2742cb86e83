package echo

import "strings"

// Topics of the IoT-Core device protocol. They begin with '/', so their first
// level is empty.
const (
	// EventsFilter matches every device's events (and their subfolders).
	EventsFilter = "/devices/+/events/#"
	// DefaultSharedGroup is the MQTT shared-subscription group `ltk echo`
	// joins, so that several echo apps split the load.
	DefaultSharedGroup = "ltk-echo"
)

// SharedFilter returns the shared-subscription form of filter for group:
// $share/GROUP/FILTER (note the double slash before a topic beginning with '/').
func SharedFilter(group, filter string) string { return "$share/" + group + "/" + filter }

// EventDevice returns D from an events topic /devices/D/events[/...].
func EventDevice(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, "/devices/")
	if !ok {
		return "", false
	}
	d, rest, ok := strings.Cut(rest, "/")
	if !ok || d == "" || (rest != "events" && !strings.HasPrefix(rest, "events/")) {
		return "", false
	}
	return d, true
}

// CommandsTopic returns the topic echoes go to: /devices/D/commands.
func CommandsTopic(deviceID string) string { return "/devices/" + deviceID + "/commands" }
