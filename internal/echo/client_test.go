package echo_test

import (
	"context"
	"crypto"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/echo"
	"github.com/ltk-dev/ltk/internal/syncbuf"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/mosquittotest"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitFor = 10 * time.Second

func noEcho(c *target.Config) { c.DisableEcho = true }

// runClient starts an echo client on url and waits for its first subscription.
func runClient(t *testing.T, cfg echo.ClientConfig, reg prometheus.Registerer) *echo.Client {
	t.Helper()
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = -1
	}
	c, err := echo.NewClient(cfg, reg, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case <-c.Subscribed():
	case err := <-done:
		t.Fatalf("echo client stopped: %v", err)
	case <-time.After(waitFor):
		t.Fatal("echo client did not subscribe")
	}
	return c
}

// device connects a plain device client that sends received commands to got.
func device(t *testing.T, url, id string, got chan<- string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetProtocolVersion(4).
		SetAutoReconnect(false).SetOrderMatters(false))
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(waitFor))
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(0) })
	if got != nil {
		tok = c.Subscribe("/devices/"+id+"/commands/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
		require.True(t, tok.WaitTimeout(waitFor))
		require.NoError(t, tok.Error())
	}
	return c
}

func publish(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	require.True(t, tok.WaitTimeout(waitFor))
	require.NoError(t, tok.Error())
}

func receive(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("no %s within %v", what, waitFor)
		return ""
	}
}

func TestClientEchoesOnEmbeddedTarget(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, noEcho)
	reg := prometheus.NewRegistry()
	c := runClient(t, echo.ClientConfig{BrokerURL: tt.BrokerURL(), SharedGroup: echo.DefaultSharedGroup}, reg)
	require.True(t, strings.HasPrefix(c.ClientID(), "ltk-echo-"))

	got := make(chan string, 1)
	d := device(t, tt.BrokerURL(), "dev-1", got)
	publish(t, d, "/devices/dev-1/events", "dev-1 payload 1")
	require.Equal(t, "dev-1 payload 1", receive(t, got, "echo"))
	// The app counts an echo once its Publish returns, which may be after
	// the echo reached the device.
	require.Eventually(t, func() bool {
		n, err := prometheusCount(reg, "ltk_echo_execution_seconds")
		return err == nil && n == 1 && c.App().Stats() == echo.Stats{Received: 1, Echoed: 1}
	}, waitFor, 10*time.Millisecond, "stats %+v", c.App().Stats())
}

func TestClientResubscribesAfterReconnect(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, noEcho)
	c := runClient(t, echo.ClientConfig{BrokerURL: tt.BrokerURL()}, nil)
	tt.Restart(t)
	// A reconnect attempt that reached the closing broker waits out paho's
	// connect timeout (10 s) before the next one, so allow for it.
	require.Eventually(t, func() bool { return c.Subscriptions() == 2 }, 3*waitFor, 20*time.Millisecond)
	got := make(chan string, 1)
	d := device(t, tt.BrokerURL(), "dev-1", got)
	publish(t, d, "/devices/dev-1/events", "after restart")
	require.Equal(t, "after restart", receive(t, got, "echo after reconnect"))
}

// TestClientsShareLoadOnMosquitto runs two echo apps in one shared group on
// Mosquitto: each echoes some of the events, and together each exactly once.
func TestClientsShareLoadOnMosquitto(t *testing.T) {
	t.Parallel()
	m := mosquittotest.Start(t)
	a := runClient(t, echo.ClientConfig{BrokerURL: m.URL(), SharedGroup: echo.DefaultSharedGroup}, nil)
	b := runClient(t, echo.ClientConfig{BrokerURL: m.URL(), SharedGroup: echo.DefaultSharedGroup}, nil)

	const devices, perDevice = 10, 20
	got := make(chan string, devices*perDevice*2)
	collector := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL()).SetClientID("collector").SetProtocolVersion(4).SetAutoReconnect(false))
	tok := collector.Connect()
	require.True(t, tok.WaitTimeout(waitFor))
	require.NoError(t, tok.Error())
	defer collector.Disconnect(0)
	tok = collector.Subscribe("/devices/+/commands", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	require.True(t, tok.WaitTimeout(waitFor))
	require.NoError(t, tok.Error())

	pub := device(t, m.URL(), "publisher", nil)
	for i := range devices * perDevice {
		publish(t, pub, fmt.Sprintf("/devices/d%d/events", i%devices), fmt.Sprintf("d%d payload %d", i%devices, i))
	}
	seen := map[string]bool{}
	for range devices * perDevice {
		p := receive(t, got, "echo")
		require.False(t, seen[p], "duplicate echo %q", p)
		seen[p] = true
	}
	// Each app counts an echo once its Publish returns, which may be after
	// the echo reached the collector.
	require.Eventually(t, func() bool {
		return a.App().Stats().Echoed+b.App().Stats().Echoed == devices*perDevice
	}, waitFor, 10*time.Millisecond, "echoed %+v %+v", a.App().Stats(), b.App().Stats())
	sa, sb := a.App().Stats(), b.App().Stats()
	require.Positive(t, sa.Echoed, "app a echoed nothing: is the subscription shared?")
	require.Positive(t, sb.Echoed, "app b echoed nothing: is the subscription shared?")
	require.Equal(t, uint64(devices*perDevice), sa.Echoed+sb.Echoed)
	require.Equal(t, sa.Received+sb.Received, sa.Echoed+sb.Echoed)
}

// refuseShared is a mochi hook for a broker without shared subscriptions.
type refuseShared struct{ mqtt.HookBase }

func (refuseShared) ID() string { return "refuse-shared" }
func (refuseShared) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}
func (refuseShared) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }
func (refuseShared) OnACLCheck(_ *mqtt.Client, topic string, _ bool) bool {
	return !strings.HasPrefix(topic, "$share/")
}

func TestClientFallsBackWithoutSharedSubscriptions(t *testing.T) {
	t.Parallel()
	srv := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, srv.AddHook(&refuseShared{}, nil))
	tcp := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	require.NoError(t, srv.AddListener(tcp))
	require.NoError(t, srv.Serve())
	t.Cleanup(func() { _ = srv.Close() })
	url := "tcp://" + tcp.Address()

	c := runClient(t, echo.ClientConfig{BrokerURL: url, SharedGroup: echo.DefaultSharedGroup}, nil)
	require.Equal(t, uint64(1), c.Subscriptions())
	got := make(chan string, 1)
	d := device(t, url, "dev-1", got)
	publish(t, d, "/devices/dev-1/events", "plain")
	require.Equal(t, "plain", receive(t, got, "echo via the plain subscription"))
}

func TestClientRunStopsWhileBrokerIsAway(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	url := tt.BrokerURL()
	tt.Stop() // nothing listens there now
	c, err := echo.NewClient(echo.ClientConfig{BrokerURL: url}, nil, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	require.NoError(t, c.Run(ctx))
}

func TestClientConfigValidate(t *testing.T) {
	t.Parallel()
	for _, cfg := range []echo.ClientConfig{
		{},
		{BrokerURL: "http://host:80"},
		{BrokerURL: "tcp://h:1883", Echo: echo.Config{DropRate: -1}},
		{BrokerURL: "tcp://h:1883", CAFile: "/nonexistent/ca.pem"},
	} {
		_, err := echo.NewClient(cfg, nil, nil, nil)
		require.Error(t, err, "%+v", cfg)
	}
}

func TestClientStatusAndMetricsEndpoint(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, noEcho)
	var status syncbuf.Buffer
	c, err := echo.NewClient(echo.ClientConfig{BrokerURL: tt.BrokerURL(), MetricsAddr: "127.0.0.1:0", StatusInterval: time.Hour},
		prometheus.NewRegistry(), &status, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	<-c.Subscribed()
	body := httpGet(t, "http://"+c.MetricsAddr()+"/metrics")
	require.Contains(t, body, "ltk_echo_messages_total 0")
	cancel()
	require.NoError(t, <-done)
	require.Contains(t, status.String(), "ltk echo: ")
	require.Contains(t, status.String(), "echoed 0")
}

// noKeys is a key store that knows no device.
type noKeys struct{}

func (noKeys) PublicKey(string) (crypto.PublicKey, bool) { return nil, false }

// TestClientSaysWhyTheTargetRefusesIt runs the echo app against a JWT target
// without its back-end token, as 'ltk target --echo=false' + 'ltk echo' did:
// the status line and the log say that the login was refused and which flags
// fix it, instead of "not connected" for ever.
func TestClientSaysWhyTheTargetRefusesIt(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, noEcho, func(c *target.Config) { c.Auth, c.Keys, c.BackendToken = target.AuthJWT, noKeys{}, "T" })
	for _, tc := range []struct{ name, password, want string }{
		{"no password", "", "it sent no password"},
		{"wrong password", "not-T", "the password given with --password is not the one it wants"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var status, logs syncbuf.Buffer
			c, err := echo.NewClient(echo.ClientConfig{BrokerURL: tt.BrokerURL(), Password: tc.password, StatusInterval: 5 * time.Millisecond},
				nil, &status, slog.New(slog.NewTextHandler(&logs, nil)))
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			require.Eventually(t, func() bool { return c.Refusal() != nil }, waitFor, 5*time.Millisecond)
			cancel()
			require.NoError(t, <-done)
			require.ErrorContains(t, c.Refusal(), tc.want)
			require.ErrorContains(t, c.Refusal(), "--backend-token T and pass --password T")
			require.Contains(t, logs.String(), "the broker refused the login")
			require.Contains(t, status.String(), "ltk echo: not connected (the broker refused the login (CONNACK")
		})
	}
}
