package target

import (
	"strings"

	"github.com/ltk-dev/ltk/internal/runset"
)

// Topic ACL, as Cloud IoT Core had it. Device D may
//
//	publish to   /devices/D/events, /devices/D/events/..., /devices/D/state
//	subscribe to /devices/D/commands, /devices/D/commands/... (so /devices/D/commands/#), /devices/D/config
//
// and receive only what those filters match. Topics begin with '/', so their
// first level is empty. Back-end clients and the inline echo client may use any topic.

// mayPublish reports whether device d may publish to topic.
func mayPublish(d, topic string) bool {
	rest, ok := underDevice(d, topic)
	if !ok {
		return false
	}
	return rest == "events" || strings.HasPrefix(rest, "events/") || rest == "state"
}

// mayRead reports whether device d may subscribe to filter (or receive a
// message on a topic of that name).
func mayRead(d, filter string) bool {
	rest, ok := underDevice(d, filter)
	if !ok {
		return false
	}
	return rest == "commands" || strings.HasPrefix(rest, "commands/") || rest == "config"
}

// underDevice returns what follows "/devices/d/" in topic. It allocates nothing.
func underDevice(d, topic string) (string, bool) {
	const prefix = "/devices/"
	if d == "" || !validPathElement(d) || !strings.HasPrefix(topic, prefix) {
		return "", false
	}
	rest := topic[len(prefix):]
	if !strings.HasPrefix(rest, d) || len(rest) <= len(d) || rest[len(d)] != '/' {
		return "", false
	}
	return rest[len(d)+1:], true
}

// topicACL is the topic ACL of a profile's topics: IoT Core's above for IoT
// Core's topics (the zero value too); for others, device D may publish to
// its events topic and below it, and subscribe to its commands topic and
// below it (runset.Topics).
type topicACL struct {
	topics  runset.Topics
	iotcore bool
}

func newTopicACL(t runset.Topics) topicACL {
	p, _ := runset.ProfileByName(runset.ProfileIoTCore)
	return topicACL{topics: t, iotcore: t == runset.Topics{} || t == p.Topics}
}

// allows reports whether device d may publish to (write) or read topic.
func (a topicACL) allows(d, topic string, write bool) bool {
	switch {
	case a.iotcore && write:
		return mayPublish(d, topic)
	case a.iotcore:
		return mayRead(d, topic)
	case write:
		got, ok := a.topics.EventDevice(topic)
		return ok && got == d
	}
	got, ok := a.topics.CommandDevice(topic)
	return ok && got == d
}
