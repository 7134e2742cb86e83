package target_test

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

func TestACLDeviceCannotSubscribeToOthers(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t)
	a := mustDial(t, tt.BrokerURL(), "dev-a", "", nil)
	ignore := func(paho.Client, paho.Message) {}
	for _, f := range []string{
		"/devices/dev-b/commands/#", "/devices/dev-b/commands", "/devices/dev-b/config",
		"/devices/+/commands/#", "#", "/devices/dev-a/events", "$share/g//devices/dev-a/commands/#",
	} {
		require.Equal(t, byte(0x80), subackCode(t, a, f, ignore), "filter %s", f)
	}
	for _, f := range []string{"/devices/dev-a/commands/#", "/devices/dev-a/commands", "/devices/dev-a/commands/sub", "/devices/dev-a/config"} {
		require.Equal(t, byte(1), subackCode(t, a, f, ignore), "filter %s", f)
	}
}

// TestACLDeviceCannotPublishForOthers observes a back-end subscriber: the
// broker handles a client's publishes in order, so when A's allowed marker
// arrives, A's forbidden publish before it would have arrived already.
func TestACLDeviceCannotPublishForOthers(t *testing.T) {
	t.Parallel()
	tt := targettest.Start(t, func(c *target.Config) { c.DisableEcho = true })
	seen := make(chan string, 10)
	obs := mustDial(t, tt.BrokerURL(), "ltk-echo-observer", "", nil)
	require.Equal(t, byte(1), subackCode(t, obs, "/devices/#", func(_ paho.Client, m paho.Message) { seen <- m.Topic() }))

	a := mustDial(t, tt.BrokerURL(), "dev-a", "", nil)
	wait(t, a.Publish("/devices/dev-b/events", 0, false, "forged"))
	wait(t, a.Publish("/devices/dev-a/commands", 0, false, "forged"))
	wait(t, a.Publish("/devices/dev-a/state", 0, false, "ok"))
	wait(t, a.Publish("/devices/dev-a/events/sub", 0, false, "ok"))
	require.Equal(t, "/devices/dev-a/state", receive(t, seen, "state"))
	require.Equal(t, "/devices/dev-a/events/sub", receive(t, seen, "event"))

	// A forbidden QoS 1 publish ends the connection (MQTT 3.1.1 has no negative PUBACK).
	lost := make(chan error, 1)
	b := mustDial(t, tt.BrokerURL(), "dev-b", "", lost)
	b.Publish("/devices/dev-a/events", 1, false, "forged")
	receive(t, lost, "disconnect after a forbidden QoS 1 publish")
	select {
	case topic := <-seen:
		t.Fatalf("forbidden publish delivered on %s", topic)
	default:
	}
}

func TestACLWithIoTCoreClientID(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	p := target.DefaultProject
	c := mustDial(t, tt.BrokerURL(), clientID(p, "ec-dev"), mint(t, jwt.SigningMethodES256, ecKey, claims(p, time.Now(), time.Hour)), nil)
	ignore := func(paho.Client, paho.Message) {}
	require.Equal(t, byte(1), subackCode(t, c, "/devices/ec-dev/commands/#", ignore))
	require.Equal(t, byte(0x80), subackCode(t, c, "/devices/rsa-dev/commands/#", ignore))
}

func TestBackendNeedsTokenWithJWT(t *testing.T) {
	t.Parallel()
	tt := startJWT(t, func(c *target.Config) { c.BackendToken = "s3cret" })
	_, code, err := dial(t, tt.BrokerURL(), "ltk-echo-1", "wrong", nil)
	require.Error(t, err)
	require.Equal(t, byte(5), code)
	c := mustDial(t, tt.BrokerURL(), "ltk-echo-2", "s3cret", nil)
	require.Equal(t, byte(1), subackCode(t, c, "$share/ltk-echo//devices/+/events/#", func(paho.Client, paho.Message) {}))
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonBadSignature)))
}
