package scenario

import (
	"strings"
)

// MQTT topic names and filters, as plain strings.

// splitShare splits a shared subscription "$share/GROUP/FILTER" into its
// group and filter; other filters are returned as they are.
func splitShare(filter string) (group, bare string, shared bool) {
	rest, ok := strings.CutPrefix(filter, "$share/")
	if !ok {
		return "", filter, false
	}
	group, bare, ok = strings.Cut(rest, "/")
	if !ok {
		return rest, "", true
	}
	return group, bare, true
}

// checkFilter returns what is wrong with an MQTT topic filter, "" if
// nothing.
func checkFilter(filter string) string {
	group, bare, shared := splitShare(filter)
	switch {
	case shared && (group == "" || strings.ContainsAny(group, "+#")):
		return "a shared subscription is $share/GROUP/FILTER, with a group name without wildcards"
	case bare == "":
		return "the filter is empty"
	}
	levels := strings.Split(bare, "/")
	for i, l := range levels {
		switch {
		case l == "#" && i != len(levels)-1:
			return "# must be the last level of a filter"
		case l != "#" && l != "+" && strings.ContainsAny(l, "+#"):
			return "+ and # must stand alone in their level, such as /devices/+/events"
		}
	}
	return ""
}

// covers reports whether every topic that filter f matches is matched by
// filter s too: a subscription to s receives what f awaits.
func covers(s, f string) bool {
	sl, fl := strings.Split(s, "/"), strings.Split(f, "/")
	for i, l := range sl {
		switch {
		case l == "#":
			return true
		case i >= len(fl):
			return false
		case l == "+":
			if fl[i] == "#" {
				return false
			}
		case l != fl[i]:
			return false
		}
	}
	return len(sl) == len(fl)
}

// wildcardAt returns the offset of the first '+' or '#' in the literal text
// of template src (outside its {{ placeholders }}), or -1.
func wildcardAt(src string) int {
	for i := 0; i < len(src); i++ {
		if strings.HasPrefix(src[i:], "{{") {
			end := strings.Index(src[i+2:], "}}")
			if end < 0 {
				return -1
			}
			i += 2 + end + 1
			continue
		}
		if src[i] == '+' || src[i] == '#' {
			return i
		}
	}
	return -1
}

// any marks a level that a placeholder fills: in a pattern it stands for
// any value.
const anyLevel = "\x00"

// pattern returns the levels of a template's text, a level holding a
// placeholder as anyLevel: what Check matches publishes to filters with.
func (t *Template) pattern() []string {
	var b strings.Builder
	for _, p := range t.parts {
		if l, ok := p.(lit); ok {
			b.WriteString(string(l))
		} else {
			b.WriteString(anyLevel)
		}
	}
	levels := strings.Split(b.String(), "/")
	for i, l := range levels {
		if strings.Contains(l, anyLevel) {
			levels[i] = anyLevel
		}
	}
	return levels
}

// reaches reports whether a message published on a topic of pattern topic
// may match filter pattern filter (a placeholder level matches anything).
func reaches(filter, topic []string) bool {
	for i, l := range filter {
		switch {
		case l == "#":
			return true
		case i >= len(topic):
			return false
		case l == "+" || l == anyLevel || topic[i] == anyLevel:
		case l != topic[i]:
			return false
		}
	}
	return len(filter) == len(topic)
}
