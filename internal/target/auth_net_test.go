package target_test

import (
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/golang-jwt/jwt/v5"
	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// startJWT starts a target with auth jwt and two registered devices:
// ec-dev (P-256) and rsa-dev (RSA-2048).
func startJWT(t *testing.T, opts ...func(*target.Config)) *targettest.Target {
	t.Helper()
	testKeys(t)
	ks := keys{"ec-dev": &ecKey.PublicKey, "rsa-dev": &rsaKey.PublicKey, "ec-dev-2": &ecOther.PublicKey}
	return targettest.Start(t, append([]func(*target.Config){func(c *target.Config) {
		c.Auth, c.Keys = target.AuthJWT, ks
	}}, opts...)...)
}

func TestJWTAccepted(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	now := time.Now()
	p := target.DefaultProject
	for _, tc := range []struct {
		name, device, token string
	}{
		{"ES256", "ec-dev", mint(t, jwt.SigningMethodES256, ecKey, claims(p, now, time.Hour))},
		{"RS256", "rsa-dev", mint(t, jwt.SigningMethodRS256, rsaKey, claims(p, now, time.Hour))},
		{"lifetime of exactly 24h", "ec-dev", mint(t, jwt.SigningMethodES256, ecKey, claims(p, now, 24*time.Hour))},
		{"iat within the clock skew", "ec-dev", mint(t, jwt.SigningMethodES256, ecKey, claims(p, now.Add(30*time.Second), time.Hour))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := dial(t, tt.BrokerURL(), clientID(p, tc.device), tc.token, nil)
			require.NoError(t, err)
		})
	}
}

func TestJWTRefused(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	now := time.Now()
	p := target.DefaultProject
	es := func(c jwt.Claims) string { return mint(t, jwt.SigningMethodES256, ecKey, c) }
	noExp := claims(p, now, time.Hour)
	noExp.ExpiresAt = nil
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(p, now, time.Hour)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	cases := []struct {
		name, clientID, token string
		reason                target.Reason
	}{
		{"unknown device", clientID(p, "ghost"), es(claims(p, now, time.Hour)), target.ReasonUnknownDevice},
		{"signed with another EC key", clientID(p, "ec-dev"), mint(t, jwt.SigningMethodES256, ecOther, claims(p, now, time.Hour)), target.ReasonBadSignature},
		{"signed with another RSA key", clientID(p, "rsa-dev"), mint(t, jwt.SigningMethodRS256, rsaOther, claims(p, now, time.Hour)), target.ReasonBadSignature},
		{"RS256 for an EC device", clientID(p, "ec-dev"), mint(t, jwt.SigningMethodRS256, rsaKey, claims(p, now, time.Hour)), target.ReasonBadSignature},
		{"HS256", clientID(p, "ec-dev"), mint(t, jwt.SigningMethodHS256, []byte("secret"), claims(p, now, time.Hour)), target.ReasonBadSignature},
		{"alg none", clientID(p, "ec-dev"), none, target.ReasonBadSignature},
		{"expired", clientID(p, "ec-dev"), es(claims(p, now.Add(-2*time.Hour), time.Hour)), target.ReasonExpired},
		{"iat in the future", clientID(p, "ec-dev"), es(claims(p, now.Add(10*time.Minute), time.Hour)), target.ReasonNotYetValid},
		{"wrong audience", clientID(p, "ec-dev"), es(claims("other-project", now, time.Hour)), target.ReasonWrongAudience},
		{"lifetime over 24h", clientID(p, "ec-dev"), es(claims(p, now, 25*time.Hour)), target.ReasonLifetimeTooLong},
		{"client id of another project", clientID("other-project", "ec-dev"), es(claims(p, now, time.Hour)), target.ReasonBadClientID},
		{"plain client id", "ec-dev", es(claims(p, now, time.Hour)), target.ReasonBadClientID},
		{"garbage token", clientID(p, "ec-dev"), "not-a-jwt", target.ReasonMalformedToken},
		{"no exp", clientID(p, "ec-dev"), es(noExp), target.ReasonMalformedToken},
		{"exp as a string", clientID(p, "ec-dev"), mint(t, jwt.SigningMethodES256, ecKey,
			jwt.MapClaims{"iat": now.Unix(), "exp": strconv.FormatInt(now.Add(time.Hour).Unix(), 10), "aud": p}), target.ReasonMalformedToken},
		{"iat as a string", clientID(p, "ec-dev"), mint(t, jwt.SigningMethodES256, ecKey,
			jwt.MapClaims{"iat": strconv.FormatInt(now.Unix(), 10), "exp": now.Add(time.Hour).Unix(), "aud": p}), target.ReasonMalformedToken},
	}
	t.Run("cases", func(t *testing.T) { // returns when its parallel subtests are done
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, code, err := dial(t, tt.BrokerURL(), tc.clientID, tc.token, nil)
				require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
				require.Equal(t, byte(packets.ErrRefusedNotAuthorised), code)
			})
		}
	})
	want := map[target.Reason]float64{}
	for _, tc := range cases {
		want[tc.reason]++
	}
	for _, r := range target.Reasons {
		require.Equal(t, want[r], metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(r)), "reason %s", r)
	}
	require.Zero(t, metric(t, tt.Registry(), "ltk_target_connects_total"))
}

func TestJWTExpiryClosesConnection(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	p := target.DefaultProject
	lost := make(chan error, 1)
	tok := mint(t, jwt.SigningMethodES256, ecKey, claims(p, time.Now(), 2*time.Second))
	c := mustDial(t, tt.BrokerURL(), clientID(p, "ec-dev"), tok, lost)
	receive(t, lost, "connection loss at JWT expiry")
	require.False(t, c.IsConnectionOpen())
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_jwt_expired_disconnects_total"))

	// A device that disconnects first leaves no timer behind to count.
	tok = mint(t, jwt.SigningMethodES256, ecOther, claims(p, time.Now(), 2*time.Second))
	c = mustDial(t, tt.BrokerURL(), clientID(p, "ec-dev-2"), tok, nil)
	c.Disconnect(0)
	require.Eventually(t, func() bool { return metric(t, tt.Registry(), "ltk_target_connections") == 0 }, waitFor, 10*time.Millisecond)
	require.Equal(t, 1.0, metric(t, tt.Registry(), "ltk_target_jwt_expired_disconnects_total"))
}

func TestJWTDeviceEchoRoundTrip(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	p := target.DefaultProject
	reg := tt.Registry()
	c := mustDial(t, tt.BrokerURL(), clientID(p, "rsa-dev"), mint(t, jwt.SigningMethodRS256, rsaKey, claims(p, time.Now(), time.Hour)), nil)
	// mochi sends the CONNACK before it calls the hook that counts the
	// session: the counters follow the connect, they do not precede it.
	require.Eventually(t, func() bool {
		return metric(t, reg, "ltk_target_connects_total") == 1 && metric(t, reg, "ltk_target_connections") == 1
	}, waitFor, 10*time.Millisecond)

	got := make(chan paho.Message, 1)
	require.Equal(t, byte(1), subackCode(t, c, "/devices/rsa-dev/commands/#", func(_ paho.Client, m paho.Message) { got <- m }))
	wait(t, c.Publish("/devices/rsa-dev/events", 1, false, "rsa-dev payload 1"))
	m := receive(t, got, "echo")
	require.Equal(t, "rsa-dev payload 1", string(m.Payload()))
	require.Equal(t, "/devices/rsa-dev/commands", m.Topic())
	require.Equal(t, byte(1), m.Qos())

	// The device can hold the echo before the broker's write returns and the
	// counters after it move: wait for them, they emit no event.
	for _, name := range []string{"ltk_target_messages_received_total", "ltk_target_messages_sent_total",
		"ltk_echo_messages_total", "ltk_echo_execution_seconds"} {
		require.Eventually(t, func() bool { return metric(t, reg, name) == 1.0 }, waitFor, 5*time.Millisecond, name)
	}

	c.Disconnect(100)
	require.Eventually(t, func() bool { return metric(t, reg, "ltk_target_connections") == 0 }, waitFor, 10*time.Millisecond)
}

// TestEmptyPasswordIsBadUserNameOrPassword: a password flag with an empty
// password is answered with a real return code (MQTT 3.1.1: 4, bad user name
// or password; MQTT 5: 0x86), and counted; mochi alone answers 0x82, which
// is no 3.1.1 return code. No password flag at all gets the same answer.
func TestEmptyPasswordIsBadUserNameOrPassword(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	id := clientID(target.DefaultProject, "ec-dev")
	empty := mqttpackets.ConnectParams{ClientIdentifier: id, UsernameFlag: true, Username: []byte("unused"), PasswordFlag: true}
	none := mqttpackets.ConnectParams{ClientIdentifier: id}
	require.Equal(t, byte(4), rawConnect(t, tt.Addr(), empty, 4))
	require.Equal(t, byte(4), rawConnect(t, tt.Addr(), none, 4))
	require.Equal(t, mqttpackets.ErrBadUsernameOrPassword.Code, rawConnect(t, tt.Addr(), empty, 5))
	require.Equal(t, 3.0, metric(t, tt.Registry(), "ltk_target_connects_refused_total", "reason", string(target.ReasonNoPassword)))

	// With auth none an empty password is no password: accepted.
	open := targettest.Start(t)
	require.Zero(t, rawConnect(t, open.Addr(), mqttpackets.ConnectParams{ClientIdentifier: "dev-a", PasswordFlag: true}, 4))
}

// TestRefusalReason: the target remembers why it refused a device until it
// connects (Target.Refusal, which 'ltk run' puts in the devices' failures),
// and tells an MQTT 5 client in the CONNACK's reason string; a 3.1.1 client
// gets the code alone.
func TestRefusalReason(t *testing.T) {
	t.Parallel()
	tt := startJWT(t)
	p := target.DefaultProject
	token := mint(t, jwt.SigningMethodES256, ecKey, claims(p, time.Now(), time.Hour))
	unknown := mqttpackets.ConnectParams{ClientIdentifier: clientID(p, "LTK00003"), PasswordFlag: true, Password: []byte(token)}

	_, ack := rawConnectConn(t, tt.Addr(), unknown, 5)
	require.Equal(t, mqttpackets.ErrNotAuthorized.Code, ack.ReasonCode)
	require.Equal(t, "unknown_device: the device is not registered", ack.Properties.ReasonString)
	r, ok := tt.Target().Refusal("LTK00003")
	require.True(t, ok)
	require.Equal(t, target.ReasonUnknownDevice, r)
	require.Equal(t, "unknown_device: the device is not registered", r.Text())

	require.Equal(t, byte(5), rawConnect(t, tt.Addr(), unknown, 4), "3.1.1: not authorized")

	_, ok = tt.Target().Refusal("ec-dev")
	require.False(t, ok, "never refused")
	bad := mqttpackets.ConnectParams{ClientIdentifier: clientID(p, "ec-dev"), PasswordFlag: true, Password: []byte("not-a-jwt")}
	require.Equal(t, byte(5), rawConnect(t, tt.Addr(), bad, 4))
	r, ok = tt.Target().Refusal("ec-dev")
	require.True(t, ok)
	require.Equal(t, target.ReasonMalformedToken, r)
	_, _, err := dial(t, tt.BrokerURL(), clientID(p, "ec-dev"), token, nil)
	require.NoError(t, err)
	_, ok = tt.Target().Refusal("ec-dev")
	require.False(t, ok, "forgotten once the device connects")
}
