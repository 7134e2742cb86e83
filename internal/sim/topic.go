package sim

import "bytes"

// topicMatch reports whether topic matches the MQTT topic filter: '+'
// matches one level, a final '#' the rest (and the parent level itself).
// It does not allocate.
func topicMatch(filter, topic []byte) bool {
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

var slash, hash = []byte("/"), []byte("#")
