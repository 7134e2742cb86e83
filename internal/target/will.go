package target

import (
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// A Will obeys the topic ACL like any publish. mochi v2.7.9 publishes a Will
// from Server.sendLWT straight to the subscribers, without OnACLCheck
// (mochi-mqtt/server issue #503): device A could leave a Will on
// /devices/B/commands and B received it when A dropped. So the target checks
// the Will twice: at CONNECT (checkWill refuses the connection) and when
// mochi is about to publish it (OnWill), so that no path around OnConnect
// (a delayed Will, a later mochi that fills the Will elsewhere) skips the ACL.

// checkWill refuses a CONNECT whose Will topic has a wildcard (no client may
// publish to one) or is one the client may not publish to.
func (h *hook) checkWill(cl *mqtt.Client, pk packets.Packet) error {
	if !pk.Connect.WillFlag {
		return nil
	}
	topic := pk.Connect.WillTopic
	if strings.ContainsAny(topic, "+#") {
		return refuse(ReasonWillInvalid, "client %q: Will topic %q has a wildcard", cl.ID, topic)
	}
	if !h.OnACLCheck(cl, topic, true) {
		return refuse(ReasonWillNotAllowed, "client %q may not publish its Will on %q", cl.ID, topic)
	}
	return nil
}

// OnWill drops a Will the client may not publish: it returns a Will with no
// topic and no retain flag, which mochi v2.7.9 delivers to no one
// (TopicsIndex.scanSubscribers matches nothing for an empty topic) and does
// not retain. An error would make mochi publish the original Will. A Will
// beyond the retained limits is delivered but not retained.
func (h *hook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	if strings.ContainsAny(will.TopicName, "+#") || !h.OnACLCheck(cl, will.TopicName, true) {
		h.m.willsDropped.Inc()
		h.log.Debug("Will dropped: topic not allowed", "client", cl.ID, "topic", will.TopicName)
		return mqtt.Will{}, nil
	}
	if will.Retain && !h.mayRetain(will.TopicName, len(will.Payload)) {
		will.Retain = false
	}
	return will, nil
}
