package target

import (
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/runset"
)

// TestResponseAllocatesNothing: reading a request's response topic and
// correlation data, on the echo's hot path, allocates nothing; a response
// topic outside the device's own is dropped.
func TestResponseAllocatesNothing(t *testing.T) {
	acl := newTopicACL(runset.Topics{})
	p := &packets.Properties{ResponseTopic: "/devices/LTK00001/commands/r", CorrelationData: []byte("c")}
	require.Zero(t, testing.AllocsPerRun(1000, func() { _ = response(acl, "LTK00001", p) }))
	r := response(acl, "LTK00001", p)
	require.Equal(t, "/devices/LTK00001/commands/r", r.Topic)
	require.Equal(t, "c", string(r.CorrelationData))
	require.Empty(t, response(acl, "LTK00002", p).Topic, "another device's topic")
}
