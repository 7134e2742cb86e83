package mqttlean

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/mosquittotest"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// broker is one way to reach a broker under test.
type broker struct {
	name string
	o    Options // Addr, TLS, WebSocket
	echo bool    // the broker echoes /devices/D/events to /devices/D/commands
}

// conformanceBrokers starts the embedded target (mochi: TCP, TLS,
// WebSocket) and Mosquitto 2 (TCP, TLS, WebSocket) on loopback.
func conformanceBrokers(t *testing.T) []broker {
	cert, key, pool := targettest.TLSFiles(t)
	tt := targettest.Start(t, func(c *target.Config) {
		c.TLSAddr, c.TLSCert, c.TLSKey, c.WSAddr = "127.0.0.1:0", cert, key, "127.0.0.1:0"
	})
	mq := mosquittotest.StartWith(t, mosquittotest.Options{WebSocket: true, TLSCert: cert, TLSKey: key})
	tc := func() *tls.Config {
		return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return []broker{
		{"mochi tcp", Options{Addr: tt.Addr()}, true},
		{"mochi tls", Options{Addr: tt.Target().TLSAddr(), TLS: tc()}, true},
		{"mochi ws", Options{Addr: tt.Target().WSAddr(), WebSocket: &WebSocket{Path: "/mqtt"}}, true},
		{"mosquitto tcp", Options{Addr: mq.Addr()}, false},
		{"mosquitto tls", Options{Addr: mq.TLSAddr, TLS: tc()}, false},
		{"mosquitto ws", Options{Addr: mq.WSAddr, WebSocket: &WebSocket{Path: "/mqtt"}}, false},
	}
}

// TestConformance: MQTT 3.1.1 and 5 at every QoS over TCP, TLS and
// WebSocket, on mochi (its echo app answers) and Mosquitto (the device
// subscribes to its own topic): the message comes back, QoS 1 and 2
// publishes complete, and MQTT 5 properties travel end to end.
func TestConformance(t *testing.T) {
	t.Parallel()
	for _, b := range conformanceBrokers(t) {
		for _, version := range []byte{Version311, Version5} {
			for _, qos := range []byte{0, 1, 2} {
				t.Run(fmt.Sprintf("%s v%d qos%d", b.name, version, qos), func(t *testing.T) {
					t.Parallel()
					dev := fmt.Sprintf("C-%d-%d-%s", version, qos, b.name[len(b.name)-3:])
					o := b.o
					o.ClientID, o.Version, o.RequestResponseInfo = dev, version, true
					if o.TLS != nil {
						o.TLS = o.TLS.Clone()
					}
					h := newChanHandler()
					c := dial(t, o, h)
					select {
					case <-h.connected:
					case <-h.closed:
						t.Fatalf("closed before CONNACK: %v", h.why)
					}
					in, out := "/devices/"+dev+"/commands", "/devices/"+dev+"/events"
					if !b.echo {
						in = out
					}
					id, err := c.Subscribe(in, qos)
					require.NoError(t, err)
					require.Equal(t, suback{id, qos}, receive(t, h.subs, "SUBACK"))
					m := &Message{Topic: []byte(out), Payload: []byte("hello"), QoS: qos, Properties: &testProps}
					pid, err := c.PublishMessage(m)
					require.NoError(t, err)
					if qos > 0 {
						require.Equal(t, pid, receive(t, h.acks, "PUBACK or PUBCOMP"))
					}
					require.Equal(t, message{in, "hello"}, receive(t, h.msgs, "the message back"))
					if version == Version5 && !b.echo { // Mosquitto forwards the properties
						require.Equal(t, `1 3600 application/json /devices/D1/replies "\x00\x01\x02\xff" site=berlin site=paris`, <-h.props)
					}
				})
			}
		}
	}
}

// countingCache is a TLS session cache that counts the sessions it
// offers.
type countingCache struct {
	tls.ClientSessionCache
	hits atomic.Int32
}

func (c *countingCache) Get(key string) (*tls.ClientSessionState, bool) {
	s, ok := c.ClientSessionCache.Get(key)
	if ok {
		c.hits.Add(1)
	}
	return s, ok
}

// TestTLSSessionCacheResumes: a reconnect with Options.TLSSessionCache
// offers the first connection's session (over TLS and wss alike).
func TestTLSSessionCacheResumes(t *testing.T) {
	t.Parallel()
	cert, key, pool := targettest.TLSFiles(t)
	tt := targettest.Start(t, func(c *target.Config) { c.TLSAddr, c.TLSCert, c.TLSKey = "127.0.0.1:0", cert, key })
	cache := &countingCache{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i := range 2 {
		h := newChanHandler()
		c := dial(t, Options{Addr: tt.Target().TLSAddr(), TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, TLSSessionCache: cache, ClientID: fmt.Sprintf("D-resume-%d", i)}, h)
		receive(t, h.connected, "CONNACK over TLS")
		echoOnce(t, c, h, fmt.Sprintf("D-resume-%d", i), 1, "resumed")
	}
	require.Equal(t, int32(1), cache.hits.Load(), "the second connection offered the first's session")
}
