package mqttlean

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"
)

// readPaho decodes b with paho's codec, which must consume all of it.
func readPaho(t *testing.T, b []byte) packets.ControlPacket {
	t.Helper()
	r := bytes.NewReader(b)
	cp, err := packets.ReadPacket(r)
	require.NoError(t, err)
	require.Zero(t, r.Len(), "paho left bytes over")
	return cp
}

func TestEncodeConnectReadByPaho(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, user, pass string
		userFlag         bool
	}{
		{"no credentials", "", "", false},
		{"user only", "unused", "", true},
		{"user and password", "unused", "eyJhbGciOi.jwt.sig", true},
		{"password only sets an empty user", "", "secret", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cp := readPaho(t, appendConnect(nil, &Options{ClientID: "projects/p/locations/l/registries/r/devices/D1", Username: tc.user, Password: tc.pass}, 60))
			c, ok := cp.(*packets.ConnectPacket)
			require.True(t, ok, "%T", cp)
			require.Equal(t, "MQTT", c.ProtocolName)
			require.Equal(t, byte(4), c.ProtocolVersion)
			require.True(t, c.CleanSession)
			require.Equal(t, uint16(60), c.Keepalive)
			require.Equal(t, "projects/p/locations/l/registries/r/devices/D1", c.ClientIdentifier)
			require.Equal(t, tc.userFlag, c.UsernameFlag)
			require.Equal(t, tc.pass != "", c.PasswordFlag)
			require.Equal(t, tc.user, c.Username)
			require.Equal(t, tc.pass, string(c.Password))
			require.Equal(t, byte(packets.Accepted), c.Validate())
		})
	}
}

func TestEncodeSubscribePublishReadByPaho(t *testing.T) {
	t.Parallel()
	sub, ok := readPaho(t, appendSubscribe(nil, 7, "/devices/D1/commands/#", SubscribeOptions{QoS: 1}, false)).(*packets.SubscribePacket)
	require.True(t, ok)
	require.Equal(t, uint16(7), sub.MessageID)
	require.Equal(t, []string{"/devices/D1/commands/#"}, sub.Topics)
	require.Equal(t, []byte{1}, sub.Qoss)
	require.Equal(t, byte(1), sub.Qos, "SUBSCRIBE's reserved flags")

	big := bytes.Repeat([]byte("x"), 300) // a two-byte remaining length
	for _, qos := range []byte{0, 1} {
		pub, ok := readPaho(t, appendPublish(nil, "/devices/D1/events", qos, false, 513, big)).(*packets.PublishPacket)
		require.True(t, ok)
		require.Equal(t, qos, pub.Qos)
		require.Equal(t, "/devices/D1/events", pub.TopicName)
		require.Equal(t, big, pub.Payload)
		if qos == 1 {
			require.Equal(t, uint16(513), pub.MessageID)
		}
	}
	ack, ok := readPaho(t, appendPuback(nil, 0xBEEF)).(*packets.PubackPacket)
	require.True(t, ok)
	require.Equal(t, uint16(0xBEEF), ack.MessageID)
	_, ok = readPaho(t, pingreqPacket).(*packets.PingreqPacket)
	require.True(t, ok)
	_, ok = readPaho(t, disconnectPacket).(*packets.DisconnectPacket)
	require.True(t, ok)
}

// writePaho encodes cp with paho's codec.
func writePaho(t *testing.T, cp packets.ControlPacket) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, cp.Write(&b))
	return b.Bytes()
}

func TestDecodePahoPackets(t *testing.T) {
	t.Parallel()
	pub := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	pub.Qos, pub.TopicName, pub.MessageID = 1, "/devices/D1/commands", 42
	pub.Payload = bytes.Repeat([]byte("p"), 200_000) // a three-byte remaining length
	b := writePaho(t, pub)
	header, body, n, err := split(b)
	require.NoError(t, err)
	require.Equal(t, len(b), n)
	topic, qos, id, payload, err := parsePublish(header, body, false, nil)
	require.NoError(t, err)
	require.Equal(t, "/devices/D1/commands", string(topic))
	require.Equal(t, byte(1), qos)
	require.Equal(t, uint16(42), id)
	require.Equal(t, pub.Payload, payload)

	suback := packets.NewControlPacket(packets.Suback).(*packets.SubackPacket)
	suback.MessageID, suback.ReturnCodes = 9, []byte{0x80}
	header, body, _, err = split(writePaho(t, suback))
	require.NoError(t, err)
	require.Equal(t, byte(typeSuback), header>>4)
	id, err = parseID(body)
	require.NoError(t, err)
	require.Equal(t, uint16(9), id)
	require.Equal(t, byte(0x80), body[2])

	connack := packets.NewControlPacket(packets.Connack).(*packets.ConnackPacket)
	connack.ReturnCode = packets.ErrRefusedNotAuthorised
	header, body, _, err = split(writePaho(t, connack))
	require.NoError(t, err)
	require.Equal(t, byte(typeConnack), header>>4)
	require.Equal(t, []byte{0, 5}, body)
	require.EqualError(t, refused(body[1]), "not Authorized")
	require.EqualError(t, refused(77), "connection refused by the broker: CONNACK return code 77")
}

func TestSplitIncompleteAndMalformed(t *testing.T) {
	t.Parallel()
	b := appendPublish(nil, "/t", 1, false, 1, bytes.Repeat([]byte("z"), 200))
	for i := range len(b) { // every proper prefix is incomplete
		_, _, n, err := split(b[:i])
		require.NoError(t, err)
		require.Zero(t, n, "prefix of %d bytes", i)
	}
	_, _, _, err := split([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x01})
	require.ErrorIs(t, err, errMalformed)
	require.ErrorContains(t, err, "longer than 4 bytes")
	_, _, _, err = split([]byte{0x30, 0xff, 0xff, 0xff, 0x7f})
	require.ErrorContains(t, err, "above the")

	for _, body := range [][]byte{{}, {0}, {0, 5, 'a'}, {0, 1, 'a', 0}} {
		_, _, _, _, err := parsePublish(0x32, body, false, nil) // QoS 1
		require.ErrorIs(t, err, errMalformed, "%v", body)
	}
	_, _, _, _, err = parsePublish(0x36, []byte{0, 1, 'a', 0, 1}, false, nil) // QoS 3
	require.ErrorContains(t, err, "QoS 3")
	_, err = parseID([]byte{1})
	require.ErrorIs(t, err, errMalformed)
}

// recordingHandler keeps what a Conn reports, for feed tests.
type recordingHandler struct {
	msgs    []string
	props   []string // MQTT 5: each message's properties, as text
	acks    []uint16
	ackErr  error // the last acknowledgement's
	granted []byte
	// keepProps keeps a copy of each MQTT 5 message's properties in sent.
	keepProps bool
	sent      []Properties
}

func (h *recordingHandler) Connected(*Conn) {}
func (h *recordingHandler) Subscribed(_ *Conn, _ uint16, granted byte) {
	h.granted = append(h.granted, granted)
}
func (h *recordingHandler) Closed(*Conn, error) {}
func (h *recordingHandler) Acked(_ *Conn, id uint16, err error) {
	h.acks, h.ackErr = append(h.acks, id), err
}
func (h *recordingHandler) Message(c *Conn, topic, payload []byte) {
	h.msgs = append(h.msgs, string(topic)+"="+string(payload))
	if c.v5 {
		p := c.ReceivedProperties()
		text := fmt.Sprintf("%d %d %s %s %q", p.PayloadFormat, p.MessageExpiry, p.ContentType, p.ResponseTopic, p.CorrelationData)
		for _, u := range p.User {
			text += " " + string(u.Key) + "=" + string(u.Value)
		}
		h.props = append(h.props, text)
		if h.keepProps {
			cp := Properties{PayloadFormat: p.PayloadFormat, MessageExpiry: p.MessageExpiry, ContentType: bytes.Clone(p.ContentType),
				ResponseTopic: bytes.Clone(p.ResponseTopic), CorrelationData: bytes.Clone(p.CorrelationData)}
			for _, u := range p.User {
				cp.User = append(cp.User, UserProperty{bytes.Clone(u.Key), bytes.Clone(u.Value)})
			}
			h.sent = append(h.sent, cp)
		}
	}
}

// keepTransport keeps what a Conn writes.
type keepTransport struct{ out [][]byte }

func (k *keepTransport) write(_ *Conn, b []byte) error {
	k.out = append(k.out, append([]byte(nil), b...))
	return nil
}
func (*keepTransport) shutdown(*Conn) {}

// take returns the last write and forgets every write.
func (k *keepTransport) take() []byte {
	b := k.out[len(k.out)-1]
	k.out = nil
	return b
}

// takeOne returns the first write and forgets it.
func (k *keepTransport) takeOne(t *testing.T) []byte {
	t.Helper()
	require.NotEmpty(t, k.out)
	b := k.out[0]
	k.out = k.out[1:]
	return b
}

// stoppedTimer is a Conn's timer that never fires.
func stoppedTimer() *time.Timer {
	tm := time.AfterFunc(time.Hour, func() {})
	tm.Stop()
	return tm
}

// discardTransport accepts every write.
type discardTransport struct{}

func (discardTransport) write(*Conn, []byte) error { return nil }
func (discardTransport) shutdown(*Conn)            {}

// chunked cuts b into pieces of size bytes (the last may be shorter).
func chunked(b []byte, size int) [][]byte {
	var out [][]byte
	for len(b) > size {
		out = append(out, b[:size])
		b = b[size:]
	}
	return append(out, b)
}

func TestFeedAcrossReadBoundaries(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("B", 70_000) // more than a loop's read buffer
	stream := bytes.Join([][]byte{
		appendPublish(nil, "/a", 1, false, 1, []byte("one")),
		appendPuback(nil, 5),
		appendPublish(nil, "/b", 0, false, 0, []byte(big)),
		{typePingresp << 4, 0},
		appendPublish(nil, "/c", 1, false, 2, nil),
		appendPuback(nil, 6),
	}, nil)
	want := []string{"/a=one", "/b=" + big, "/c="}
	for _, size := range []int{1, 2, 3, 7, 100, 4096, 65536, len(stream)} {
		h := &recordingHandler{}
		c := &Conn{h: h, st: stateUp, tr: discardTransport{}}
		for _, part := range chunked(stream, size) {
			require.NoError(t, c.feed(part), "chunks of %d", size)
		}
		require.Equal(t, want, h.msgs, "chunks of %d", size)
		require.Equal(t, []uint16{5, 6}, h.acks, "chunks of %d", size)
		require.Empty(t, c.partial, "chunks of %d: nothing left over", size)
	}
}

func TestFeedRefusesPacketsBeforeConnack(t *testing.T) {
	t.Parallel()
	c := &Conn{h: &recordingHandler{}, st: stateHandshake, tr: discardTransport{}}
	err := c.feed(appendPuback(nil, 1))
	require.ErrorIs(t, err, errMalformed)
	require.ErrorContains(t, err, "PUBACK before CONNACK")
}

func TestCodecAllocs(t *testing.T) {
	h := &recordingHandler{}
	c := &Conn{h: h, st: stateUp, tr: discardTransport{}}
	payload := []byte("LTK00042 projects/p/locations/l/registries/r/devices/LTK00042 payload 848 at 2026-11-25T20:00:01.123456789Z")
	buf := make([]byte, 0, 512)
	in := bytes.Join([][]byte{appendPublish(nil, "/devices/LTK00042/commands", 1, false, 3, payload), appendPuback(nil, 3)}, nil)
	allocs := testing.AllocsPerRun(100, func() {
		buf = appendPublish(buf[:0], "/devices/LTK00042/events", 1, false, 3, payload)
		buf = appendPuback(buf, 3)
		h.msgs, h.acks = h.msgs[:0], h.acks[:0]
		c.h = nopHandler{}
		if err := c.feed(in); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

// nopHandler ignores everything.
type nopHandler struct{}

func (nopHandler) Connected(*Conn)                {}
func (nopHandler) Subscribed(*Conn, uint16, byte) {}
func (nopHandler) Closed(*Conn, error)            {}
func (nopHandler) Acked(*Conn, uint16, error)     {}
func (nopHandler) Message(*Conn, []byte, []byte)  {}

func BenchmarkEncodeDecodeRoundTrip(b *testing.B) {
	c := &Conn{h: nopHandler{}, st: stateUp, tr: discardTransport{}}
	payload := bytes.Repeat([]byte("x"), 100)
	buf := make([]byte, 0, 512)
	in := bytes.Join([][]byte{appendPublish(nil, "/devices/LTK00042/commands", 1, false, 3, payload), appendPuback(nil, 3)}, nil)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPublish(buf[:0], "/devices/LTK00042/events", 1, false, 3, payload)
		if err := c.feed(in); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncodeWillAndRetainReadByPaho(t *testing.T) {
	t.Parallel()
	will := &Message{Topic: []byte("/devices/D1/state"), Payload: []byte("offline"), QoS: 1, Retain: true}
	c, ok := readPaho(t, appendConnect(nil, &Options{ClientID: "D1", Username: "unused", Will: will}, 60)).(*packets.ConnectPacket)
	require.True(t, ok)
	require.True(t, c.WillFlag)
	require.True(t, c.WillRetain)
	require.Equal(t, byte(1), c.WillQos)
	require.Equal(t, "/devices/D1/state", c.WillTopic)
	require.Equal(t, "offline", string(c.WillMessage))
	require.Equal(t, "unused", c.Username)
	require.Equal(t, byte(packets.Accepted), c.Validate())

	pub, ok := readPaho(t, appendPublish(nil, []byte("/devices/D1/state"), 0, true, 0, []byte("on"))).(*packets.PublishPacket)
	require.True(t, ok)
	require.True(t, pub.Retain)
	require.Equal(t, "/devices/D1/state", pub.TopicName)
}

func TestEncodeKeptSessionReadByPaho(t *testing.T) {
	t.Parallel()
	for _, clean := range []bool{true, false} {
		c, ok := readPaho(t, appendConnect(nil, &Options{ClientID: "D1", Username: "unused", KeepSession: !clean}, 60)).(*packets.ConnectPacket)
		require.True(t, ok)
		require.Equal(t, clean, c.CleanSession)
		require.Equal(t, byte(packets.Accepted), c.Validate())
	}
}

func TestQoSBeyond2Refused(t *testing.T) {
	t.Parallel()
	_, err := Dial(&Options{Addr: "127.0.0.1:1", ClientID: "D1", Will: &Message{Topic: []byte("/w"), QoS: 3}}, newChanHandler())
	require.EqualError(t, err, "will message: QoS 3 does not exist in MQTT: use 0, 1 or 2")
	var c Conn // not connected: the QoS is checked first
	_, err = c.Publish("/t", 4, nil)
	require.EqualError(t, err, "QoS 4 does not exist in MQTT: use 0, 1 or 2")
	_, err = c.Subscribe("/t", 3)
	require.EqualError(t, err, "QoS 3 does not exist in MQTT: use 0, 1 or 2")
	_, err = Dial(&Options{Addr: "127.0.0.1:1", Version: 3}, newChanHandler())
	require.ErrorContains(t, err, "MQTT protocol level 3 is not one the lean client speaks")
}
