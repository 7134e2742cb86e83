package target

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/runset"
)

func TestDeviceID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ clientID, want string }{
		{"projects/p/locations/r/registries/g/devices/LTK00001", "LTK00001"},
		{"LTK00001", "LTK00001"},
		{"projects/p/locations/r/registries/g/devices/", "projects/p/locations/r/registries/g/devices/"},
		{"projects/p/locations/r/registries/g/things/d", "projects/p/locations/r/registries/g/things/d"},
		{"projects/p/locations/r/registries/g/devices/d/extra", "projects/p/locations/r/registries/g/devices/d/extra"},
	} {
		require.Equal(t, tc.want, deviceID(tc.clientID), tc.clientID)
	}
}

func TestSplitClientID(t *testing.T) {
	t.Parallel()
	p, r, g, d, ok := splitClientID("projects/ltk-project/locations/local/registries/ltk-registry/devices/LTK00042")
	require.True(t, ok)
	require.Equal(t, []string{"ltk-project", "local", "ltk-registry", "LTK00042"}, []string{p, r, g, d})
	for _, bad := range []string{"", "LTK1", "projects/p/locations/r/registries/g/devices", "projects//locations/r/registries/g/devices/d",
		"project/p/locations/r/registries/g/devices/d", "projects/p/locations/r/registries/g/devices/+"} {
		_, _, _, _, ok := splitClientID(bad)
		require.False(t, ok, bad)
	}
}

func TestTopicACL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		topic         string
		publish, read bool
	}{
		{"/devices/d/events", true, false},
		{"/devices/d/events/a/b", true, false},
		{"/devices/d/eventsx", false, false},
		{"/devices/d/state", true, false},
		{"/devices/d/state/x", false, false},
		{"/devices/d/commands", false, true},
		{"/devices/d/commands/#", false, true},
		{"/devices/d/commands/+/x", false, true},
		{"/devices/d/config", false, true},
		{"/devices/dd/events", false, false},
		{"/devices/d", false, false},
		{"/devices/d/", false, false},
		{"/devices/+/commands/#", false, false},
		{"devices/d/events", false, false},
		{"#", false, false},
		{"$share/g//devices/d/commands/#", false, false},
	} {
		require.Equal(t, tc.publish, mayPublish("d", tc.topic), "publish %s", tc.topic)
		require.Equal(t, tc.read, mayRead("d", tc.topic), "read %s", tc.topic)
	}
	require.False(t, mayRead("+", "/devices/+/commands/#"), "a wildcard device id must not match everyone")
	require.False(t, mayRead("", "/devices//commands"))
}

func TestTopicACLAllocatesNothing(t *testing.T) {
	const id = "projects/p/locations/r/registries/g/devices/LTK00001"
	allocs := testing.AllocsPerRun(1000, func() {
		d := deviceID(id)
		if !mayPublish(d, "/devices/LTK00001/events") || !mayRead(d, "/devices/LTK00001/commands") {
			t.Fatal("ACL refused the device its own topics")
		}
	})
	require.Zero(t, allocs)
}

func BenchmarkTopicACL(b *testing.B) {
	const id = "projects/p/locations/r/registries/g/devices/LTK00001"
	b.ReportAllocs()
	for b.Loop() {
		mayPublish(deviceID(id), "/devices/LTK00001/events")
	}
}

func TestTopicACLOfEachProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile            string
		pub, sub           string // allowed to d1
		otherPub, otherSub string // d2's, refused to d1
	}{
		{runset.ProfileAWS, "dt/ltk/d1/echo", "cmd/ltk/d1/echo/#", "dt/ltk/d2/echo", "cmd/ltk/+/echo/#"},
		{runset.ProfileAzure, "devices/d1/messages/events/", "devices/d1/messages/devicebound/#", "devices/d2/messages/events/", "devices/d2/messages/devicebound/#"},
		{runset.ProfileIoTCore, "/devices/d1/state", "/devices/d1/config", "/devices/d2/events", "/devices/d2/commands/#"},
	} {
		p, err := runset.ProfileByName(tc.profile)
		require.NoError(t, err)
		acl := newTopicACL(p.Topics)
		require.True(t, acl.allows("d1", tc.pub, true), tc.profile)
		require.True(t, acl.allows("d1", tc.sub, false), tc.profile)
		require.False(t, acl.allows("d1", tc.otherPub, true), tc.profile)
		require.False(t, acl.allows("d1", tc.otherSub, false), tc.profile)
		require.False(t, acl.allows("d1", tc.sub, true), "%s: no publishing on the commands topic", tc.profile)
		require.False(t, acl.allows("d1", tc.pub, false), "%s: no subscribing to the events topic", tc.profile)
	}
}
