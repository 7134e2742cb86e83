package sim

import (
	"bytes"
	"strconv"
	"time"
)

// The tutorial's payload, one line of text:
//
//	D <ClientID> payload <seq> at <RFC3339Nano UTC time>[spaces up to size]
//
// It is appended with strconv and time.AppendFormat, so building a payload
// allocates nothing once the buffer has grown, and parsed in place.

// payload holds a device's payload settings.
type payload struct {
	deviceID, clientID string
	size               int // pad to this many bytes; 0 = natural size
}

func newPayload(deviceID, clientID string, size int) payload {
	return payload{deviceID: deviceID, clientID: clientID, size: size}
}

// payloadWord separates the client id from the sequence number.
const payloadWord = " payload "

// atSep separates the sequence number from the send time.
var atSep = []byte(" at ")

// appendTo appends the payload numbered seq, sent at at, to dst.
func (p payload) appendTo(dst []byte, seq uint64, at time.Time) []byte {
	start := len(dst)
	dst = append(dst, p.deviceID...)
	dst = append(dst, ' ')
	dst = append(dst, p.clientID...)
	dst = append(dst, payloadWord...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, atSep...)
	dst = at.UTC().AppendFormat(dst, time.RFC3339Nano)
	for len(dst)-start < p.size {
		dst = append(dst, ' ')
	}
	return dst
}

// cutPrefix returns what follows "D <ClientID> payload " in b.
func (p payload) cutPrefix(b []byte) ([]byte, bool) {
	rest, ok := cutString(b, p.deviceID)
	if !ok || len(rest) == 0 || rest[0] != ' ' {
		return nil, false
	}
	if rest, ok = cutString(rest[1:], p.clientID); !ok {
		return nil, false
	}
	return cutString(rest, payloadWord)
}

// cutString is bytes.CutPrefix for a string prefix, without converting it.
func cutString(b []byte, prefix string) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		return nil, false
	}
	return b[len(prefix):], true
}

// seq returns the sequence number of a payload built by appendTo, and false
// for anything else (another device's prefix, no digits, an overflowing
// number, no " at " after it). It never allocates or panics.
func (p payload) seq(b []byte) (uint64, bool) {
	rest, ok := p.cutPrefix(b)
	if !ok {
		return 0, false
	}
	var n uint64
	i := 0
	for ; i < len(rest) && '0' <= rest[i] && rest[i] <= '9'; i++ {
		d := uint64(rest[i] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if i == 0 || !bytes.HasPrefix(rest[i:], atSep) {
		return 0, false
	}
	return n, true
}

// sentAt returns the send time written in a payload built by appendTo. It
// allocates, so it is only for rare paths.
func (p payload) sentAt(b []byte) (time.Time, bool) {
	rest, ok := p.cutPrefix(b)
	if !ok {
		return time.Time{}, false
	}
	_, ts, ok := bytes.Cut(rest, atSep)
	if !ok {
		return time.Time{}, false
	}
	if end := bytes.IndexByte(ts, ' '); end >= 0 {
		ts = ts[:end]
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	return t, err == nil
}
