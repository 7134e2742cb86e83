package targettest_test

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ltk-dev/ltk/internal/target/targettest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func connect(t *testing.T, url, id string, lost chan<- error) paho.Client {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(id).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second)
	if lost != nil {
		opts.SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err })
	}
	c := paho.NewClient(opts)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(5*time.Second), "connect timed out")
	require.NoError(t, tok.Error())
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func TestStartEchoes(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	c := connect(t, tt.BrokerURL(), "dev-1", nil)
	got := make(chan string, 1)
	tok := c.Subscribe("/devices/dev-1/commands/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	tok = c.Publish("/devices/dev-1/events", 1, false, "ping")
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	select {
	case p := <-got:
		require.Equal(t, "ping", p)
	case <-time.After(5 * time.Second):
		t.Fatal("no echo within 5s")
	}
}

func TestStopAndRestart(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	addr := tt.Addr()
	lost := make(chan error, 1)
	connect(t, tt.BrokerURL(), "dev-1", lost)
	tt.Stop()
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("client not disconnected by Stop")
	}
	tt.Stop() // idempotent
	tt.Restart(t)
	require.Equal(t, addr, tt.Addr())
	require.Equal(t, addr, tt.Target().Addr())
	connect(t, tt.BrokerURL(), "dev-1", nil)
}
