package sim

import "testing"

func TestTopicMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		filter, topic string
		want          bool
	}{
		{"/devices/D/commands/#", "/devices/D/commands", true},
		{"/devices/D/commands/#", "/devices/D/commands/x/y", true},
		{"/devices/D/commands/#", "/devices/E/commands", false},
		{"/devices/D/commands", "/devices/D/commands", true},
		{"/devices/D/commands", "/devices/D/commands/x", false},
		{"/devices/+/commands", "/devices/D/commands", true},
		{"/devices/+/commands", "/devices/D/config", false},
		{"#", "/any/thing", true},
		{"a/+", "a", false},
		{"a/+", "a/", true},
		{"a/b", "a", false},
		{"$share/g//devices/+/events", "/devices/D/events", true},
		{"$share/g//devices/+/events", "/devices/D/events/x", false},
		{"$share/g/#", "/any/thing", true},
		{"#", "$SYS/broker/uptime", false},
		{"+/broker/uptime", "$SYS/broker/uptime", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
	} {
		if got := topicMatch([]byte(tc.filter), []byte(tc.topic)); got != tc.want {
			t.Errorf("topicMatch(%q, %q) = %v, want %v", tc.filter, tc.topic, got, tc.want)
		}
	}
}
