package swarm_test

import (
	"crypto"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/echo"
	"github.com/ltk-dev/ltk/internal/runtest"
	"github.com/ltk-dev/ltk/internal/sim"
	"github.com/ltk-dev/ltk/internal/target"
	"github.com/ltk-dev/ltk/internal/target/mosquittotest"
	"github.com/ltk-dev/ltk/internal/target/targettest"
)

// backendToken is the embedded target's back-end token in these tests.
const backendToken = "scenario-test-backend-token"

// scenarioBroker is a broker a scenario's fleet runs against, and how its
// clients authenticate there.
type scenarioBroker struct {
	url string
	// jwt: devices connect IoT-Core style, with JWTs from their keys, and
	// back ends with backendToken; otherwise everyone connects anonymously
	// with plain client ids.
	jwt bool
}

// brokerKinds are the brokers every example runs on.
var brokerKinds = []string{"embedded", "mosquitto"}

// startBroker starts the broker kind for the fleet devs. On the embedded
// target devices authenticate with JWTs and back ends with backendToken;
// its echo app runs when echoApp is set. Mosquitto allows anonymous
// clients; with echoApp an `ltk echo` client answers there, and startBroker
// returns once it subscribed.
func startBroker(t *testing.T, kind string, devs []device.Device, echoApp bool) *scenarioBroker {
	t.Helper()
	switch kind {
	case "embedded":
		keys := keyStore{}
		for _, d := range devs {
			keys[d.ID] = d.Public()
		}
		tt := targettest.Start(t, func(c *target.Config) {
			c.Auth, c.Keys, c.BackendToken, c.DisableEcho = target.AuthJWT, keys, backendToken, !echoApp
		})
		return &scenarioBroker{url: tt.BrokerURL(), jwt: true}
	case "mosquitto":
		m := mosquittotest.Start(t)
		if echoApp {
			c, err := echo.NewClient(echo.ClientConfig{BrokerURL: m.URL(), StatusInterval: -1}, nil, nil, nil)
			require.NoError(t, err)
			runtest.Start(t, "echo client", c.Run, waitLimit)
			select {
			case <-c.Subscribed():
			case <-time.After(waitLimit):
				t.Fatalf("the echo client did not subscribe within %v", waitLimit)
			}
		}
		return &scenarioBroker{url: m.URL()}
	}
	t.Fatalf("unknown broker %q", kind)
	return nil
}

// keyStore is the embedded target's registry of the test's devices.
type keyStore map[string]crypto.PublicKey

func (k keyStore) PublicKey(id string) (crypto.PublicKey, bool) { p, ok := k[id]; return p, ok }

// testDevices makes n devices with EC keys, LTK00000 onwards.
func testDevices(t *testing.T, n int) []device.Device {
	t.Helper()
	devs := make([]device.Device, n)
	for i := range devs {
		d, err := device.Generate(fmt.Sprintf("LTK%05d", i), device.ES256)
		require.NoError(t, err)
		devs[i] = d
	}
	return devs
}

// configure fills c's identity and credentials for b: a back end gets the
// back-end password, a device its IoT-Core client id and JWTs on the
// embedded target.
func (b *scenarioBroker) configure(c *sim.Config, d device.Device) {
	c.Broker, c.DeviceID = b.url, d.ID
	if !b.jwt {
		return
	}
	if c.Program != nil && c.Program.Backend {
		c.BackendPassword = backendToken
		return
	}
	c.ClientID = "projects/" + target.DefaultProject + "/locations/" + target.DefaultRegion + "/registries/" + target.DefaultRegistry + "/devices/" + d.ID
	c.Credentials = device.NewJWTSource(d, target.DefaultProject, time.Hour)
}
