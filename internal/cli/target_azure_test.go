package cli_test

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/runset"
)

// TestTargetAzureTakesSASAndX509Devices: ltk target --profile azure serves
// the list's SAS devices on its TCP listener and, once the test CA exists,
// its CA-signed X.509 devices on its TLS listener; each echoes on IoT
// Hub's topics.
func TestTargetAzureTakesSASAndX509Devices(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "1", "1", "--profile", "azure", "-q"), e.Stderr())
	require.Equal(t, cli.ExitOK, e.Run("devices", "create", "2", "2", "--profile", "azure", "--auth", "x509", "-q"), e.Stderr())
	e.Reset()
	ready := regexp.MustCompile(`MQTT over TLS on (127\.0\.0\.1:\d+)`)
	tlsAddr := startCommand(t, e, ready, e.Stdout, "target", "--profile", "azure", "--addr", "127.0.0.1:0", "--tls-addr", "127.0.0.1:0", "--metrics-addr", "")
	addr := mqttOn.FindStringSubmatch(e.Stdout())[1]
	require.Contains(t, e.Stdout(), "(profile azure, auth sas,")

	devs, cols, err := device.ReadFleetColumns(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	hub := runset.DefaultAzureHub
	key, ok := device.Column(cols, devs[0].Values, device.ColumnSymmetricKey)
	require.True(t, ok)
	token, err := device.SASToken(hub, "LTK00001", key, time.Now().Add(time.Hour))
	require.NoError(t, err)
	sas := paho.NewClientOptions().AddBroker("tcp://" + addr).SetPassword(token)
	hubRoundTrip(t, sas, "LTK00001")

	pem, ok := device.Column(cols, devs[1].Values, device.ColumnCertificate)
	require.True(t, ok)
	cert, err := device.TLSCertificate(devs[1], pem)
	require.NoError(t, err)
	ca, err := device.ReadCA(filepath.Join(e.Dir, "ltk-ca.pem"), filepath.Join(e.Dir, "ltk-ca-key.pem"))
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	x := paho.NewClientOptions().AddBroker("ssl://" + tlsAddr).
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12})
	hubRoundTrip(t, x, "LTK00002")
}

// hubRoundTrip connects device id with opts as an IoT Hub device (client
// id id, the hub's username), publishes an event and waits for its echo.
func hubRoundTrip(t *testing.T, opts *paho.ClientOptions, id string) {
	t.Helper()
	got := make(chan string, 1)
	c := paho.NewClient(opts.SetClientID(id).SetUsername(device.SASUsername(runset.DefaultAzureHub, id)).
		SetProtocolVersion(4).SetAutoReconnect(false))
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(mqttWait))
	require.NoError(t, tok.Error(), id)
	t.Cleanup(func() { c.Disconnect(0) })
	tok = c.Subscribe("devices/"+id+"/messages/devicebound/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	require.True(t, tok.WaitTimeout(mqttWait))
	require.NoError(t, tok.Error())
	payload := id + " payload 1"
	tok = c.Publish("devices/"+id+"/messages/events/", 1, false, payload)
	require.True(t, tok.WaitTimeout(mqttWait))
	require.NoError(t, tok.Error())
	select {
	case p := <-got:
		require.Equal(t, payload, p)
	case <-time.After(mqttWait):
		t.Fatalf("no echo for %s", id)
	}
}
