package echo

// DefaultSharedGroup is the MQTT shared-subscription group `ltk echo`
// joins, so that several echo apps split the load.
const DefaultSharedGroup = "ltk-echo"

// SharedFilter returns the shared-subscription form of filter for group:
// $share/GROUP/FILTER (note the double slash before a topic beginning with '/').
func SharedFilter(group, filter string) string { return "$share/" + group + "/" + filter }
