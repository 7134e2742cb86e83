package target_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestMQTT5RefusalIsNotAuthorized speaks raw MQTT 5 (paho is 3.1.1 only):
// a refused device gets CONNACK reason 0x87, as IoT Core answered.
func TestMQTT5RefusalIsNotAuthorized(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	code := rawConnect(t, tt.Addr(), mqttpackets.ConnectParams{
		ClientIdentifier: clientID(target.DefaultProject, "ec-dev"),
		UsernameFlag:     true, Username: []byte("unused"),
		PasswordFlag: true, Password: []byte("not-a-jwt"),
	}, 5)
	require.Equal(t, mqttpackets.ErrNotAuthorized.Code, code)
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonMalformedToken)))
}

func TestTLSListenerEchoes(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := targettest.TLSFiles(t)
	tt := targettest.Start(t, func(c *target.Config) {
		c.TLSAddr, c.TLSCert, c.TLSKey = "127.0.0.1:0", certFile, keyFile
	})
	addr := tt.Target().TLSAddr()
	require.NotEmpty(t, addr)
	opts := paho.NewClientOptions().AddBroker("ssl://" + addr).SetClientID("dev-tls").SetProtocolVersion(4).
		SetAutoReconnect(false).SetTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	c := paho.NewClient(opts)
	wait(t, c.Connect())
	defer c.Disconnect(0)
	got := make(chan string, 1)
	require.Equal(t, byte(1), subackCode(t, c, "/devices/dev-tls/commands/#", func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }))
	wait(t, c.Publish("/devices/dev-tls/events", 1, false, "over tls"))
	require.Equal(t, "over tls", receive(t, got, "echo over TLS"))
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.MetricsAddr = "127.0.0.1:0" })
	mustDial(t, tt.BrokerURL(), "dev-m", "", nil)
	resp, err := http.Get("http://" + tt.Target().MetricsAddr() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "ltk_target_connects_total 1")
	require.Contains(t, string(body), `ltk_target_connects_refused_total{reason="expired"} 0`)
	require.Contains(t, string(body), "ltk_echo_execution_seconds")
}

func TestNewRefusesBusyAddress(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	_, err := target.New(target.Config{Addr: tt.Addr(), Auth: target.AuthNone}, nil, nil)
	require.ErrorContains(t, err, "--addr")
}

func TestNewFailureLeavesRegistryClean(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	reg := prometheus.NewRegistry()
	_, err := target.New(target.Config{Addr: "127.0.0.1:0", Auth: target.AuthNone, TLSAddr: "127.0.0.1:0", TLSCert: "missing.pem", TLSKey: "missing.pem"}, reg, nil)
	require.ErrorContains(t, err, "missing.pem")
	_, err = target.New(target.Config{Addr: tt.Addr(), Auth: target.AuthNone}, reg, nil)
	require.Error(t, err)
	// The echo app's metrics clash, after the target's own were registered.
	clash := prometheus.NewCounter(prometheus.CounterOpts{Name: "ltk_echo_errors_total", Help: "clash"})
	require.NoError(t, reg.Register(clash))
	_, err = target.New(target.Config{Addr: "127.0.0.1:0", Auth: target.AuthNone}, reg, nil)
	require.ErrorContains(t, err, "register echo metrics")
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		require.Equal(t, "ltk_echo_errors_total", mf.GetName(), "left registered by a failed New")
	}
}

// TestSlowSubscriberDropsAreCounted fills the outbound queue of a subscriber
// that never reads: the target drops what does not fit, and counts it.
func TestSlowSubscriberDropsAreCounted(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.DisableEcho, c.MaxPendingWrites = true, 4 })
	conn, err := net.DialTimeout("tcp", tt.Addr(), waitFor)
	require.NoError(t, err)
	defer conn.Close()
	var buf bytes.Buffer
	connect := mqttpackets.Packet{
		FixedHeader: mqttpackets.FixedHeader{Type: mqttpackets.Connect}, ProtocolVersion: 4,
		Connect: mqttpackets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60, ClientIdentifier: "ltk-echo-slow"},
	}
	require.NoError(t, connect.ConnectEncode(&buf))
	sub := mqttpackets.Packet{
		FixedHeader: mqttpackets.FixedHeader{Type: mqttpackets.Subscribe, Qos: 1}, ProtocolVersion: 4, PacketID: 1,
		Filters: mqttpackets.Subscriptions{{Filter: "/devices/#"}},
	}
	require.NoError(t, sub.SubscribeEncode(&buf))
	_, err = conn.Write(buf.Bytes())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return metric(t, tt.Registry(), "ltk_target_connections") == 1 }, waitFor, 10*time.Millisecond)
	// The subscription is processed in order after CONNECT; publish until drops show.
	d := mustDial(t, tt.BrokerURL(), "dev-1", "", nil)
	payload := make([]byte, 64<<10)
	require.Eventually(t, func() bool {
		for range 16 {
			d.Publish("/devices/dev-1/events", 0, false, payload)
		}
		return metric(t, tt.Registry(), "ltk_target_messages_dropped_total") > 0
	}, waitFor, time.Millisecond, "no drops counted")
}
