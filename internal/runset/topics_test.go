package runset

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTopicsOfEachProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		profile                      string
		events, filter, command, all string
	}{
		{ProfileIoTCore, "/devices/d1/events", "/devices/d1/commands/#", "/devices/d1/commands", "/devices/+/events/#"},
		{ProfileAWS, "dt/ltk/d1/echo", "cmd/ltk/d1/echo/#", "cmd/ltk/d1/echo", "dt/ltk/+/echo/#"},
		{ProfileAzure, "devices/d1/messages/events/", "devices/d1/messages/devicebound/#", "devices/d1/messages/devicebound/", "devices/+/messages/events/#"},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			t.Parallel()
			s := Settings{Profile: tc.profile}
			top := s.Topics()
			require.Equal(t, tc.events, string(top.AppendEvents(nil, "d1")))
			require.Equal(t, tc.filter, string(top.AppendCommandsFilter(nil, "d1")))
			require.Equal(t, tc.command, top.Command("d1"))
			require.Equal(t, tc.all, top.EventsFilter())
			d, ok := top.EventDevice(tc.events)
			require.True(t, ok)
			require.Equal(t, "d1", d)
			d, ok = top.CommandDevice(tc.command)
			require.True(t, ok)
			require.Equal(t, "d1", d)
		})
	}
}

func TestEventDevice(t *testing.T) {
	for topic, want := range map[string]string{
		"/devices/d1/events": "d1", "/devices/d1/events/a/b": "d1",
		"/devices/d1/commands": "", "/devices//events": "", "devices/d1/events": "", "/devices/d1/eventsx": "",
		"/devices/+/events": "",
	} {
		got, ok := Topics{}.EventDevice(topic)
		require.Equal(t, want, got, topic)
		require.Equal(t, want != "", ok, topic)
	}
	az, _ := ProfileByName(ProfileAzure)
	for topic, want := range map[string]string{
		"devices/d1/messages/events/": "d1", "devices/d1/messages/events/a=b": "d1", "devices/d1/messages/events": "d1",
		"devices/d1/messages/eventsx": "", "devices/d1/messages/devicebound/": "",
	} {
		got, ok := az.Topics.EventDevice(topic)
		require.Equal(t, want, got, topic)
		require.Equal(t, want != "", ok, topic)
	}
	require.Zero(t, testing.AllocsPerRun(100, func() { _, _ = az.Topics.EventDevice("devices/d1/messages/events/") }))
}

func TestSettingsTakeTheProfilesDefaults(t *testing.T) {
	t.Parallel()
	s := Settings{Profile: ProfileAWS, Broker: "ssl://example.com:443"}
	s.SetDefaults()
	require.Equal(t, AuthCert, s.Auth)
	require.Equal(t, ClientIDPlain, s.ClientIDFormat)
	require.Equal(t, "d1", s.ClientID("d1"))
	tc, err := s.TLSConfig()
	require.NoError(t, err)
	require.Equal(t, []string{"x-amzn-mqtt-ca"}, tc.NextProtos)

	s.Broker = "tcp://example.com:1883"
	require.ErrorContains(t, s.Validate(), "needs a TLS broker: write ssl://example.com:1883")

	s = Settings{Profile: "gcp", Broker: "tcp://h:1"}
	s.SetDefaults()
	require.ErrorContains(t, s.Validate(), `profile "gcp" is not one of aws, azure, clearblade, generic, iotcore`)

	s = Settings{Profile: ProfileAzure, Broker: "ssl://myhub.azure-devices.net:8883"}
	require.Equal(t, "myhub.azure-devices.net", s.AzureHub())
	s.Broker = "tcp://127.0.0.1:1883"
	require.Equal(t, DefaultAzureHub, s.AzureHub())
}
