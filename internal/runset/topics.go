package runset

import "strings"

// Topics are a platform's device topics, each a prefix, the device id and a
// suffix: device D publishes its events to EventsPrefix+D+EventsSuffix (or
// below it) and receives commands on CommandsPrefix+D+CommandsSuffix (or
// below it). The zero value is Cloud IoT Core's (/devices/D/events,
// /devices/D/commands).
type Topics struct {
	EventsPrefix, EventsSuffix     string
	CommandsPrefix, CommandsSuffix string
}

// orDefault returns t, or IoT Core's topics when t is the zero value.
func (t Topics) orDefault() Topics {
	if t == (Topics{}) {
		return iotcoreTopics
	}
	return t
}

// AppendEvents appends device d's events topic to dst.
func (t Topics) AppendEvents(dst []byte, d string) []byte {
	t = t.orDefault()
	dst = append(dst, t.EventsPrefix...)
	dst = append(dst, d...)
	return append(dst, t.EventsSuffix...)
}

// AppendCommandsFilter appends the filter device d subscribes to for its
// commands (the commands topic and everything below it) to dst.
func (t Topics) AppendCommandsFilter(dst []byte, d string) []byte {
	t = t.orDefault()
	dst = append(dst, t.CommandsPrefix...)
	dst = append(dst, d...)
	return appendBelow(dst, t.CommandsSuffix)
}

// Command returns the topic a back end sends device d's commands (echoes) to.
func (t Topics) Command(d string) string {
	t = t.orDefault()
	return t.CommandsPrefix + d + t.CommandsSuffix
}

// EventsFilter returns the filter matching every device's events.
func (t Topics) EventsFilter() string {
	t = t.orDefault()
	return string(appendBelow([]byte(t.EventsPrefix+"+"), t.EventsSuffix))
}

// appendBelow appends suffix as a filter that matches it and what lies
// below it: "/commands" becomes "/commands/#", "/messages/devicebound/"
// "/messages/devicebound/#".
func appendBelow(dst []byte, suffix string) []byte {
	dst = append(dst, strings.TrimSuffix(suffix, "/")...)
	return append(dst, "/#"...)
}

// EventDevice returns the device whose events topic (or a topic below it)
// topic is. It does not allocate.
func (t Topics) EventDevice(topic string) (string, bool) {
	t = t.orDefault()
	return deviceOf(topic, t.EventsPrefix, t.EventsSuffix)
}

// CommandDevice returns the device whose commands topic (or a topic or
// filter below it) topic is. It does not allocate.
func (t Topics) CommandDevice(topic string) (string, bool) {
	t = t.orDefault()
	return deviceOf(topic, t.CommandsPrefix, t.CommandsSuffix)
}

// deviceOf returns D when topic is prefix+D+suffix, or below it (suffix
// without its trailing '/', then '/' and more). D is one non-empty level
// without wildcards.
func deviceOf(topic, prefix, suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, prefix)
	if !ok {
		return "", false
	}
	i := strings.IndexByte(rest, '/')
	if i <= 0 {
		return "", false
	}
	d, rest := rest[:i], rest[i:]
	if strings.ContainsAny(d, "+#") {
		return "", false
	}
	base := strings.TrimSuffix(suffix, "/")
	below, ok := strings.CutPrefix(rest, base)
	if !ok || below != "" && below[0] != '/' {
		return "", false
	}
	return d, true
}
