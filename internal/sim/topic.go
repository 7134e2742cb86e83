package sim

import "bytes"

// topicMatch reports whether topic matches the MQTT topic filter: '+'
// matches one level, a final '#' the rest (and the parent level itself). A
// shared subscription's filter ($share/GROUP/FILTER) matches what FILTER
// matches, and a topic starting with '$' (the broker's own, such as
// $SYS/...) is not matched by a filter starting with a wildcard. It does
// not allocate.
func topicMatch(filter, topic []byte) bool {
	if rest, ok := bytes.CutPrefix(filter, sharePrefix); ok {
		_, filter, _ = bytes.Cut(rest, slash) // past the group
	}
	if len(topic) > 0 && topic[0] == '$' && len(filter) > 0 && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		fl, frest, fmore := bytes.Cut(filter, slash)
		if len(fl) == 1 && fl[0] == '#' && !fmore {
			return true
		}
		tl, trest, tmore := bytes.Cut(topic, slash)
		if !(len(fl) == 1 && fl[0] == '+') && !bytes.Equal(fl, tl) {
			return false
		}
		switch {
		case !fmore && !tmore:
			return true
		case !tmore: // the topic ends: "a/#" matches "a"
			return bytes.Equal(frest, hash)
		case !fmore:
			return false
		}
		filter, topic = frest, trest
	}
}

var slash, hash, sharePrefix = []byte("/"), []byte("#"), []byte("$share/")
