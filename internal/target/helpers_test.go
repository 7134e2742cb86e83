package target_test

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/golang-jwt/jwt/v5"
	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
)

const waitFor = 5 * time.Second

// keys is an in-memory KeyStore.
type keys map[string]crypto.PublicKey

func (k keys) PublicKey(d string) (crypto.PublicKey, bool) { p, ok := k[d]; return p, ok }

// Test keys are made once: RSA generation is slow.
var (
	keysOnce         sync.Once
	ecKey, ecOther   *ecdsa.PrivateKey
	rsaKey, rsaOther *rsa.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		ecOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		rsaOther, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
	})
}

// claims builds IoT-Core style claims: iat now, exp in ttl, aud project.
func claims(project string, iat time.Time, ttl time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(iat),
		ExpiresAt: jwt.NewNumericDate(iat.Add(ttl)),
		Audience:  jwt.ClaimStrings{project},
	}
}

func mint(t testing.TB, m jwt.SigningMethod, key any, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	require.NoError(t, err)
	return s
}

func clientID(project, device string) string {
	return "projects/" + project + "/locations/" + target.DefaultRegion + "/registries/" + target.DefaultRegistry + "/devices/" + device
}

// dial connects a paho client (no auto-reconnect) and returns it with the
// connect token's error and return code. lost, if not nil, receives the
// connection-lost error.
func dial(t testing.TB, url, id, password string, lost chan<- error) (paho.Client, byte, error) {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername("unused").SetPassword(password).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(waitFor).SetKeepAlive(30 * time.Second)
	if lost != nil {
		opts.SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	}
	c := paho.NewClient(opts)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(waitFor), "connect timed out")
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(0) })
	}
	return c, tok.(*paho.ConnectToken).ReturnCode(), tok.Error()
}

func mustDial(t testing.TB, url, id, password string, lost chan<- error) paho.Client {
	t.Helper()
	c, _, err := dial(t, url, id, password, lost)
	require.NoError(t, err)
	return c
}

func wait(t testing.TB, tok paho.Token) {
	t.Helper()
	require.True(t, tok.WaitTimeout(waitFor), "MQTT operation timed out")
	require.NoError(t, tok.Error())
}

// subackCode subscribes and returns the broker's SUBACK code for filter.
func subackCode(t testing.TB, c paho.Client, filter string, h paho.MessageHandler) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, h)
	wait(t, tok)
	res := tok.(*paho.SubscribeToken).Result() // keyed without any $share/GROUP/ prefix
	require.Len(t, res, 1)
	for _, code := range res {
		return code
	}
	return 0
}

func receive[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("no %s within %v", what, waitFor)
	}
	var zero T
	return zero
}

// metric returns the value of the counter, gauge or histogram count called
// name whose labels include the given name/value pairs (0 if absent).
func metric(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := true
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				match = match && found
			}
			if !match {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

// rawConnect sends one CONNECT (MQTT 3.1.1 when version is 4, 5 when 5) over
// a new TCP connection and returns the CONNACK's return or reason code.
func rawConnect(t testing.TB, addr string, params mqttpackets.ConnectParams, version byte) byte {
	t.Helper()
	conn, ack := rawConnectConn(t, addr, params, version)
	conn.Close()
	return ack.ReasonCode
}

// rawConnectConn is rawConnect that returns the whole CONNACK and leaves the
// connection open; the caller closes it.
func rawConnectConn(t testing.TB, addr string, params mqttpackets.ConnectParams, version byte) (net.Conn, mqttpackets.Packet) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitFor)
	require.NoError(t, err)
	return conn, connectOver(t, conn, params, version)
}

// connectOver sends one CONNECT over conn and returns the CONNACK; conn is
// closed at the test's end.
func connectOver(t testing.TB, conn net.Conn, params mqttpackets.ConnectParams, version byte) mqttpackets.Packet {
	t.Helper()
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(waitFor)))
	params.ProtocolName, params.Clean, params.Keepalive = []byte("MQTT"), true, 30
	pk := mqttpackets.Packet{FixedHeader: mqttpackets.FixedHeader{Type: mqttpackets.Connect}, ProtocolVersion: version, Connect: params}
	var buf bytes.Buffer
	require.NoError(t, pk.ConnectEncode(&buf))
	_, err := conn.Write(buf.Bytes())
	require.NoError(t, err)

	r := bufio.NewReader(conn)
	first, err := r.ReadByte()
	require.NoError(t, err)
	ack := mqttpackets.Packet{ProtocolVersion: version}
	require.NoError(t, ack.FixedHeader.Decode(first))
	require.Equal(t, mqttpackets.Connack, ack.FixedHeader.Type, "CONNACK")
	ack.FixedHeader.Remaining, _, err = mqttpackets.DecodeLength(r)
	require.NoError(t, err)
	body := make([]byte, ack.FixedHeader.Remaining)
	_, err = io.ReadFull(r, body)
	require.NoError(t, err)
	require.NoError(t, ack.ConnackDecode(body))
	require.Zero(t, r.Buffered(), "bytes after the CONNACK")
	return ack
}
