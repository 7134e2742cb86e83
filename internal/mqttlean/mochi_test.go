package mqttlean

import (
	"bytes"
	"testing"

	mp "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"
)

// The MQTT 5 codec against an independent implementation: mochi's packets
// package (the embedded target's broker) decodes every packet the lean
// client writes, and encodes every packet it reads.

// readMochi decodes one whole packet of ours with mochi as a broker of
// protocol level version would.
func readMochi(t *testing.T, b []byte, version byte) mp.Packet {
	t.Helper()
	header, body, n, err := split(b)
	require.NoError(t, err)
	require.Equal(t, len(b), n, "one whole packet")
	pk := mp.Packet{ProtocolVersion: version}
	require.NoError(t, pk.FixedHeader.Decode(header))
	pk.FixedHeader.Remaining = len(body)
	decode := map[byte]func([]byte) error{
		mp.Connect: pk.ConnectDecode, mp.Publish: pk.PublishDecode, mp.Puback: pk.PubackDecode,
		mp.Pubrec: pk.PubrecDecode, mp.Pubrel: pk.PubrelDecode, mp.Pubcomp: pk.PubcompDecode,
		mp.Subscribe: pk.SubscribeDecode, mp.Disconnect: pk.DisconnectDecode,
	}[pk.FixedHeader.Type]
	require.NotNil(t, decode, "packet type %d", pk.FixedHeader.Type)
	require.NoError(t, decode(body))
	return pk
}

// writeMochi encodes pk (a broker's packet) with mochi.
func writeMochi(t *testing.T, pk mp.Packet) []byte {
	t.Helper()
	var buf bytes.Buffer
	encode := map[byte]func(*bytes.Buffer) error{
		mp.Connack: pk.ConnackEncode, mp.Publish: pk.PublishEncode, mp.Puback: pk.PubackEncode,
		mp.Pubrec: pk.PubrecEncode, mp.Pubrel: pk.PubrelEncode, mp.Pubcomp: pk.PubcompEncode,
		mp.Suback: pk.SubackEncode, mp.Disconnect: pk.DisconnectEncode,
	}[pk.FixedHeader.Type]
	require.NotNil(t, encode)
	require.NoError(t, encode(&buf))
	return buf.Bytes()
}

var testProps = Properties{
	PayloadFormat: 1, MessageExpiry: 3600, ContentType: []byte("application/json"),
	ResponseTopic: []byte("/devices/D1/replies"), CorrelationData: []byte{0, 1, 2, 0xff},
	User: []UserProperty{{[]byte("site"), []byte("berlin")}, {[]byte("site"), []byte("paris")}},
}

// mochiProps is testProps as mochi holds them.
func mochiProps() mp.Properties {
	return mp.Properties{
		PayloadFormat: 1, PayloadFormatFlag: true, MessageExpiryInterval: 3600, ContentType: "application/json",
		ResponseTopic: "/devices/D1/replies", CorrelationData: []byte{0, 1, 2, 0xff},
		User: []mp.UserProperty{{Key: "site", Val: "berlin"}, {Key: "site", Val: "paris"}},
	}
}

func TestMQTT5EncodeReadByMochi(t *testing.T) {
	t.Parallel()
	will := &Message{Topic: []byte("/devices/D1/state"), Payload: []byte("offline"), QoS: 2, Retain: true, Properties: &testProps}
	o := &Options{
		Version: Version5, ClientID: "D1", Username: "u", Password: "p", KeepSession: true, Will: will,
		SessionExpiry: 7200, ReceiveMaximum: 10, MaxPacketSize: 1 << 20, RequestResponseInfo: true,
		UserProperties: []UserProperty{{[]byte("fleet"), []byte("a")}},
	}
	pk := readMochi(t, appendConnect(nil, o, 30), 0)
	require.Equal(t, byte(5), pk.ProtocolVersion)
	require.Equal(t, mp.Code{Code: 0, Reason: "success"}, pk.ConnectValidate())
	c := pk.Connect
	require.Equal(t, "D1", c.ClientIdentifier)
	require.Equal(t, "u", string(c.Username))
	require.Equal(t, "p", string(c.Password))
	require.False(t, c.Clean)
	require.Equal(t, uint16(30), c.Keepalive)
	require.True(t, c.WillFlag && c.WillRetain)
	require.Equal(t, byte(2), c.WillQos)
	require.Equal(t, "/devices/D1/state", c.WillTopic)
	require.Equal(t, "offline", string(c.WillPayload))
	require.Equal(t, mochiProps(), c.WillProperties)
	require.Equal(t, uint32(7200), pk.Properties.SessionExpiryInterval)
	require.Equal(t, uint16(10), pk.Properties.ReceiveMaximum)
	require.Equal(t, uint32(1<<20), pk.Properties.MaximumPacketSize)
	require.Equal(t, byte(1), pk.Properties.RequestResponseInfo)
	require.Equal(t, []mp.UserProperty{{Key: "fleet", Val: "a"}}, pk.Properties.User)

	pk = readMochi(t, appendPublishV(nil, "/devices/D1/events", 2, true, 77, []byte("payload"), true, &testProps, 3), 5)
	require.Equal(t, "/devices/D1/events", pk.TopicName)
	require.Equal(t, byte(2), pk.FixedHeader.Qos)
	require.True(t, pk.FixedHeader.Retain)
	require.Equal(t, uint16(77), pk.PacketID)
	require.Equal(t, "payload", string(pk.Payload))
	want := mochiProps()
	want.TopicAlias, want.TopicAliasFlag = 3, true
	require.Equal(t, want, pk.Properties)

	pk = readMochi(t, appendPublishV(nil, "", 0, false, 0, nil, true, nil, 3), 5)
	require.Empty(t, pk.TopicName, "an aliased topic is left out")
	require.Equal(t, uint16(3), pk.Properties.TopicAlias)

	so := SubscribeOptions{QoS: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}
	pk = readMochi(t, appendSubscribe(nil, 9, "$share/backend/devices/+/events", so, true), 5)
	require.Equal(t, uint16(9), pk.PacketID)
	require.Len(t, pk.Filters, 1)
	f := pk.Filters[0]
	require.Equal(t, "$share/backend/devices/+/events", f.Filter)
	require.Equal(t, mp.Subscription{Filter: f.Filter, Qos: 2, NoLocal: true, RetainAsPublished: true, RetainHandling: 2}, f)

	for _, typ := range []byte{typePuback, typePubrec, typePubrel, typePubcomp} {
		pk = readMochi(t, appendAck(nil, typ, 513), 5)
		require.Equal(t, typ, pk.FixedHeader.Type)
		require.Equal(t, uint16(513), pk.PacketID)
		require.Zero(t, pk.ReasonCode)
	}
}

// v5Conn is an MQTT 5 connection awaiting its CONNACK whose writes are
// kept.
func v5Conn(h Handler) (*Conn, *keepTransport) {
	tr := &keepTransport{}
	return &Conn{h: h, st: stateHandshake, tr: tr, v5: true, recvMax: 2, aliasWant: 4, keepAlive: 60e9, timer: stoppedTimer()}, tr
}

func TestMQTT5DecodeMochiPackets(t *testing.T) {
	t.Parallel()
	h := &recordingHandler{}
	c, tr := v5Conn(h)
	connack := mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Connack}, ProtocolVersion: 5, Properties: mp.Properties{
		ReceiveMaximum: 1, MaximumPacketSize: 200, TopicAliasMaximum: 2, ServerKeepAlive: 5, ServerKeepAliveFlag: true,
		AssignedClientID: "auto-1", SessionExpiryInterval: 60, SessionExpiryIntervalFlag: true,
		MaximumQos: 2, MaximumQosFlag: true, RetainAvailable: 1, RetainAvailableFlag: true,
		User: []mp.UserProperty{{Key: "k", Val: "v"}},
	}}
	require.NoError(t, c.feed(writeMochi(t, connack)))
	require.Equal(t, stateUp, c.st)
	require.Equal(t, uint16(1), c.sendMax)
	require.Equal(t, uint32(200), c.maxOut)
	require.Equal(t, uint16(2), c.aliasMax, "min(ours 4, the broker's 2)")
	require.Equal(t, int64(5e9), int64(c.keepAlive), "the server keepalive wins")
	require.Equal(t, "auto-1", c.AssignedClientID())

	// Receive maximum 1: a second QoS 1 publish waits for the first's PUBACK.
	id, err := c.Publish("/devices/D1/events", 1, []byte("one"))
	require.NoError(t, err)
	_, err = c.Publish("/devices/D1/events", 1, []byte("two"))
	require.ErrorIs(t, err, ErrInFlightLimit)
	_, err = c.Publish("/devices/D1/events", 0, bytes.Repeat([]byte("x"), 200))
	require.ErrorIs(t, err, ErrPacketTooLarge)
	sent := readMochi(t, tr.take(), 5)
	require.Equal(t, "/devices/D1/events", sent.TopicName, "a topic's first publish names it")
	require.Equal(t, uint16(1), sent.Properties.TopicAlias)

	refused := mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Puback}, ProtocolVersion: 5, PacketID: id, ReasonCode: 0x97,
		Properties: mp.Properties{ReasonString: "slow down"}}
	require.NoError(t, c.feed(writeMochi(t, refused)))
	require.Equal(t, []uint16{id}, h.acks)
	require.EqualError(t, h.ackErr, "quota exceeded (0x97): slow down")
	require.ErrorIs(t, h.ackErr, ReasonCode(0x97))

	// QoS 2 out: PUBREC → PUBREL, PUBCOMP completes it; the alias alone now.
	id, err = c.PublishMessage(&Message{Topic: []byte("/devices/D1/events"), Payload: []byte("three"), QoS: 2, Properties: &testProps})
	require.NoError(t, err)
	sent = readMochi(t, tr.take(), 5)
	require.Empty(t, sent.TopicName)
	require.Equal(t, uint16(1), sent.Properties.TopicAlias)
	require.Equal(t, "application/json", sent.Properties.ContentType)
	require.NoError(t, c.feed(writeMochi(t, mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Pubrec}, ProtocolVersion: 5, PacketID: id})))
	rel := readMochi(t, tr.take(), 5)
	require.Equal(t, mp.Pubrel, rel.FixedHeader.Type)
	require.Equal(t, id, rel.PacketID)
	require.NoError(t, c.feed(writeMochi(t, mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Pubcomp}, ProtocolVersion: 5, PacketID: id})))
	require.Equal(t, id, h.acks[len(h.acks)-1])
	require.NoError(t, h.ackErr, "PUBCOMP completes the exchange")

	// QoS 2 in, sent twice before its PUBREL: delivered once, PUBREC twice,
	// PUBCOMP at the PUBREL; its properties are shown during Message.
	pub := mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Publish, Qos: 2}, ProtocolVersion: 5, Mods: mp.Mods{AllowResponseInfo: true}, // mochi forwards a response topic only to clients that asked for response information
		TopicName: "/devices/D1/commands", PacketID: 40, Payload: []byte("cmd"), Properties: mochiProps()}
	h.msgs, h.props = nil, nil
	require.NoError(t, c.feed(writeMochi(t, pub)))
	pub.FixedHeader.Dup = true
	require.NoError(t, c.feed(writeMochi(t, pub)))
	require.Equal(t, []string{"/devices/D1/commands=cmd"}, h.msgs)
	require.Equal(t, []string{`1 3600 application/json /devices/D1/replies "\x00\x01\x02\xff" site=berlin site=paris`}, h.props)
	for range 2 {
		rec := readMochi(t, tr.takeOne(t), 5)
		require.Equal(t, mp.Pubrec, rec.FixedHeader.Type)
		require.Equal(t, uint16(40), rec.PacketID)
	}
	require.NoError(t, c.feed(writeMochi(t, mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Pubrel, Qos: 1}, ProtocolVersion: 5, PacketID: 40})))
	comp := readMochi(t, tr.take(), 5)
	require.Equal(t, mp.Pubcomp, comp.FixedHeader.Type)
	require.Empty(t, c.rx2)

	suback := mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Suback}, ProtocolVersion: 5, PacketID: 8, ReasonCodes: []byte{0x87}, Properties: mp.Properties{ReasonString: "acl"}}
	require.NoError(t, c.feed(writeMochi(t, suback)))
	require.Equal(t, []byte{0x87}, h.granted)

	bye := mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Disconnect}, ProtocolVersion: 5, ReasonCode: 0x8E, Properties: mp.Properties{ReasonString: "another client took the session"}}
	err = c.feed(writeMochi(t, bye))
	require.EqualError(t, err, "disconnected by the broker: session taken over (0x8E): another client took the session")
	var de *DisconnectError
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, ErrBrokerClosed)
}

func TestMQTT5ConnackRefused(t *testing.T) {
	t.Parallel()
	for code, want := range map[byte]string{
		0x87: "not authorized (0x87): bad token",
		0x97: "quota exceeded (0x97): bad token",
		0x84: "unsupported protocol version (0x84): bad token",
	} {
		c, _ := v5Conn(&recordingHandler{})
		connack := mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Connack}, ProtocolVersion: 5, ReasonCode: code, Properties: mp.Properties{ReasonString: "bad token"}}
		err := c.feed(writeMochi(t, connack))
		require.EqualError(t, err, want)
		require.ErrorIs(t, err, ReasonCode(code))
	}
	require.Equal(t, "quota exceeded (0x97)", ReasonCode(0x97).Error())
}

// TestMQTT5CodecAllocs: an MQTT 5 echo (a PUBLISH with properties out and
// in, QoS 1 and 2 acknowledgements) allocates nothing.
func TestMQTT5CodecAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops buffers at random: allocations are counted without it")
	}
	h := &recordingHandler{}
	c, _ := v5Conn(h)
	require.NoError(t, c.feed(writeMochi(t, mp.Packet{FixedHeader: mp.FixedHeader{Type: mp.Connack}, ProtocolVersion: 5})))
	c.tr = discardTransport{}
	payload := []byte("LTK00042 payload 848 at 2026-11-25T20:00:01.123456789Z")
	in := bytes.Join([][]byte{
		appendPublishV(nil, "/devices/LTK00042/commands", 1, false, 3, payload, true, &testProps, 0),
		appendPublishV(nil, "/devices/LTK00042/commands", 2, false, 4, payload, true, &testProps, 0),
		appendAck(nil, typePubrel, 4), appendAck(nil, typePuback, 1), appendAck(nil, typePubrec, 2), appendAck(nil, typePubcomp, 2),
	}, nil)
	c.h = nopHandler{}
	require.NoError(t, c.feed(in)) // the user properties' slice grows once
	m := &Message{Topic: []byte("/devices/LTK00042/events"), Payload: payload, QoS: 2, Properties: &testProps}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := c.Publish("/devices/LTK00042/events", 1, payload); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PublishMessage(m); err != nil {
			t.Fatal(err)
		}
		c.inFlight = 0
		if err := c.feed(in); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}
