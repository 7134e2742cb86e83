package mosquittotest_test

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target/mosquittotest"
)

func TestStartServesMQTT(t *testing.T) {
	t.Parallel()
	m := mosquittotest.Start(t)
	c := paho.NewClient(paho.NewClientOptions().AddBroker(m.URL()).SetClientID("probe").SetAutoReconnect(false))
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	got := make(chan string, 1)
	tok = c.Subscribe("/devices/d/events", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	require.True(t, tok.WaitTimeout(5*time.Second))
	require.NoError(t, tok.Error())
	require.True(t, c.Publish("/devices/d/events", 1, false, "hi").WaitTimeout(5*time.Second))
	select {
	case p := <-got:
		require.Equal(t, "hi", p)
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
	}
	c.Disconnect(0)
}
