package target_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/golang-jwt/jwt/v5"
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
