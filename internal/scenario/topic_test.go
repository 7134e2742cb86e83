package scenario

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCovers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sub, filter string
		want        bool
	}{
		{"/devices/D/commands/#", "/devices/D/commands/#", true},
		{"/devices/D/commands/#", "/devices/D/commands", true},
		{"/devices/D/commands/#", "/devices/D/commands/reboot", true},
		{"/devices/+/events", "/devices/D/events", true},
		{"/devices/+/events", "/devices/+/events", true},
		{"/devices/+/events", "/devices/#", false},
		{"/devices/+/events", "/devices/D/events/x", false},
		{"/devices/D/events", "/devices/D/events/x", false},
		{"#", "/anything/at/all", true},
		{"/devices/D/config", "/devices/E/config", false},
	} {
		require.Equal(t, tc.want, covers(tc.sub, tc.filter), "%s covers %s", tc.sub, tc.filter)
	}
}

func TestCheckFilter(t *testing.T) {
	t.Parallel()
	for filter, want := range map[string]string{
		"/devices/D/commands/#":        "",
		"$share/app//devices/+/events": "",
		"/devices/#/x":                 "# must be the last level",
		"/devices/D+/events":           "+ and # must stand alone",
		"$share//devices/+/events":     "a shared subscription is $share/GROUP/FILTER",
		"$share/app":                   "the filter is empty",
		"":                             "the filter is empty",
	} {
		got := checkFilter(filter)
		if want == "" {
			require.Empty(t, got, filter)
		} else {
			require.True(t, strings.HasPrefix(got, want), "%s: %s", filter, got)
		}
	}
	group, bare, shared := splitShare("$share/app//devices/+/events")
	require.Equal(t, []any{"app", "/devices/+/events", true}, []any{group, bare, shared})
}

func TestReaches(t *testing.T) {
	t.Parallel()
	sensor, _ := compileTemplate(t, "/devices/{{device}}/events", topicScope)
	cmd, _ := compileTemplate(t, "/devices/{{device}}/commands/{{choice \"a\" \"b\"}}", topicScope)
	require.Equal(t, []string{"", "devices", anyLevel, "events"}, sensor.pattern())
	for _, tc := range []struct {
		filter string
		topic  []string
		want   bool
	}{
		{"/devices/+/events", sensor.pattern(), true},
		{"/devices/#", sensor.pattern(), true},
		{"/devices/x/events", sensor.pattern(), true}, // a placeholder may be x
		{"/devices/+/state", sensor.pattern(), false},
		{"/devices/+/commands/a", cmd.pattern(), true},
		{"/devices/+/commands", cmd.pattern(), false},
	} {
		require.Equal(t, tc.want, reaches(strings.Split(tc.filter, "/"), tc.topic), tc.filter)
	}
}
