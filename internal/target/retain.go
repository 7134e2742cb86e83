package target

import (
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// retainLimits bound the retained-message store, which mochi v2.7.9 lets
// grow without limit.
type retainLimits struct {
	maxRetained     int // messages
	maxRetainedSize int // payload bytes of one message
}

// OnPublish clears the retain flag of a publish beyond the retained limits:
// the message is delivered to the subscribers but not kept (counted in
// ltk_target_retained_refused_total). A publish without the flag costs one
// comparison.
func (h *hook) OnPublish(_ *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if pk.FixedHeader.Retain && !h.mayRetain(pk.TopicName, len(pk.Payload)) {
		pk.FixedHeader.Retain = false
	}
	return pk, nil
}

// clientRetained counts the retained messages clients left: mochi keeps its
// own $SYS topics in the same store (about 20). It copies the store's index,
// so mayRetain calls it only near the limit.
func (h *hook) clientRetained() int {
	n := 0
	for topic := range h.server.Topics.Retained.GetAll() {
		if !strings.HasPrefix(topic, mqtt.SysPrefix) {
			n++
		}
	}
	return n
}

// mayRetain reports whether a retained message of size bytes on topic fits
// the limits, and counts a refusal. An empty payload deletes and always fits;
// replacing a retained message does not add one. Concurrent publishers can
// overshoot the count by at most their number: mochi stores the message
// after the hook returns.
func (h *hook) mayRetain(topic string, size int) bool {
	if size == 0 {
		return true
	}
	ok := size <= h.limits.maxRetainedSize
	if ok && h.server.Topics.Retained.Len() >= h.limits.maxRetained && h.clientRetained() >= h.limits.maxRetained {
		_, ok = h.server.Topics.Retained.Get(topic)
	}
	if !ok {
		h.m.retainedRefused.Inc()
	}
	return ok
}
