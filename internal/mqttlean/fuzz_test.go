package mqttlean

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// FuzzFeed feeds any bytes from the broker to a connected Conn, whole and
// cut into reads of a fuzzed size: neither panics; both see the same
// messages and acknowledgements and fail alike, with errMalformed; every PUBLISH read re-encodes to one that reads
// back the same.
func FuzzFeed(f *testing.F) {
	f.Add(bytes.Join([][]byte{
		appendPublish(nil, "/a", 1, false, 1, []byte("one")),
		appendPuback(nil, 5),
		{typePingresp << 4, 0},
		{typeSuback << 4, 3, 0, 7, 0},
	}, nil), uint16(3))
	f.Add(appendPublish(nil, "/devices/D1/commands", 0, true, 0, bytes.Repeat([]byte("p"), 300)), uint16(1))
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0x7f}, uint16(2))
	f.Add([]byte{0x36, 5, 0, 1, 'a', 0, 1}, uint16(7))
	f.Add([]byte{typeConnack << 4, 2, 0, 0}, uint16(1))
	f.Fuzz(func(t *testing.T, stream []byte, size uint16) {
		whole, errWhole := feedAll(stream, len(stream)+1)
		cut, errCut := feedAll(stream, int(size%64)+1)
		if (errWhole == nil) != (errCut == nil) {
			t.Fatalf("whole: %v; in reads of %d: %v", errWhole, size%64+1, errCut)
		}
		for _, err := range []error{errWhole, errCut} {
			if err != nil && !errors.Is(err, errMalformed) {
				t.Fatalf("error %v", err)
			}
		}
		if !slices.Equal(whole.msgs, cut.msgs) || !slices.Equal(whole.acks, cut.acks) {
			t.Fatalf("whole: %q %v; in reads: %q %v", whole.msgs, whole.acks, cut.msgs, cut.acks)
		}
		for _, m := range whole.msgs {
			topic, payload, _ := bytes.Cut([]byte(m), []byte("="))
			back, err := feedAll(appendPublish(nil, topic, 1, false, 9, payload), 1<<20)
			if err != nil || len(back.msgs) != 1 || back.msgs[0] != m {
				t.Fatalf("%q re-encoded reads as %q, %v", m, back.msgs, err)
			}
		}
	})
}

// feedAll feeds stream to a connected Conn in reads of size bytes, up to
// the first error, and returns what its Handler saw.
func feedAll(stream []byte, size int) (*recordingHandler, error) {
	h := &recordingHandler{}
	c := &Conn{h: h, st: stateUp, tr: discardTransport{}}
	for _, part := range chunked(stream, size) {
		if err := c.feed(part); err != nil {
			return h, err
		}
	}
	return h, nil
}

// FuzzFeed5 feeds any bytes from an MQTT 5 broker to a connected MQTT 5
// Conn, whole and cut into reads of a fuzzed size: neither panics; both
// see the same messages, properties and acknowledgements and fail alike,
// with errMalformed, a broker's DISCONNECT or an exceeded receive maximum;
// every PUBLISH read re-encodes, with its properties, to one that reads
// back the same.
func FuzzFeed5(f *testing.F) {
	f.Add(bytes.Join([][]byte{
		appendPublishV(nil, "/a", 1, false, 1, []byte("one"), true, &testProps, 0),
		appendPublishV(nil, "/b", 2, false, 2, []byte("two"), true, nil, 0),
		appendAck(nil, typePubrel, 2),
		{typePuback << 4, 4, 0, 5, 0x97, 0},
		{typePubrec << 4, 2, 0, 6},
		{typePubcomp << 4, 2, 0, 6},
		{typeSuback << 4, 4, 0, 7, 0, 0x87},
	}, nil), uint16(3))
	f.Add([]byte{typeDisconnect << 4, 7, 0x8E, 5, propReasonString, 0, 2, 'h', 'i'}, uint16(2))
	f.Add([]byte{typePublish<<4 | 2, 9, 0, 1, 'a', 0, 1, 3, propTopicAlias, 0, 1}, uint16(1))
	f.Add([]byte{typePublish << 4, 8, 0, 1, 'a', 4, propUser, 0, 0, 0}, uint16(5))
	f.Fuzz(func(t *testing.T, stream []byte, size uint16) {
		whole, errWhole := feedAll5(stream, len(stream)+1)
		cut, errCut := feedAll5(stream, int(size%64)+1)
		if (errWhole == nil) != (errCut == nil) {
			t.Fatalf("whole: %v; in reads of %d: %v", errWhole, size%64+1, errCut)
		}
		var de *DisconnectError
		for _, err := range []error{errWhole, errCut} {
			if err != nil && !errors.Is(err, errMalformed) && !errors.As(err, &de) {
				t.Fatalf("error %v", err)
			}
		}
		if !slices.Equal(whole.msgs, cut.msgs) || !slices.Equal(whole.props, cut.props) || !slices.Equal(whole.acks, cut.acks) || !slices.Equal(whole.granted, cut.granted) {
			t.Fatalf("whole: %q %q %v; in reads: %q %q %v", whole.msgs, whole.props, whole.acks, cut.msgs, cut.props, cut.acks)
		}
		for i, m := range whole.msgs {
			topic, payload, _ := bytes.Cut([]byte(m), []byte("="))
			back, err := feedAll5(appendPublishV(nil, topic, 1, false, 9, payload, true, &whole.sent[i], 0), 1<<20)
			if err != nil || len(back.msgs) != 1 || back.msgs[0] != m || back.props[0] != whole.props[i] {
				t.Fatalf("%q %q re-encoded reads as %q %q, %v", m, whole.props[i], back.msgs, back.props, err)
			}
		}
	})
}

// feedAll5 is feedAll for an MQTT 5 connection; the handler also keeps
// a copy of each message's properties (in sent).
func feedAll5(stream []byte, size int) (*recordingHandler, error) {
	h := &recordingHandler{keepProps: true}
	c := &Conn{h: h, st: stateUp, tr: discardTransport{}, v5: true, recvMax: 65535}
	for _, part := range chunked(stream, size) {
		if err := c.feed(part); err != nil {
			return h, err
		}
	}
	return h, nil
}
