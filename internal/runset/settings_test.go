package runset_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/runset"
)

func valid() runset.Settings {
	return runset.Settings{
		Broker: "tcp://127.0.0.1:1883", Auth: runset.AuthNone, ClientIDFormat: runset.ClientIDPlain,
		Project: "p", Region: "r", Registry: "g", Behavior: "echo", QoS: 1,
		WaitMin: time.Second, WaitMax: time.Second,
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*runset.Settings)
		want   string
	}{
		{"no broker", func(s *runset.Settings) { s.Broker = "" }, "no broker URL"},
		{"auth", func(s *runset.Settings) { s.Auth = "oauth" }, `auth "oauth" is not one of jwt, password, none`},
		{"client id format", func(s *runset.Settings) { s.ClientIDFormat = "x" }, `client id format "x" is not one of iotcore, plain`},
		{"qos 2", func(s *runset.Settings) { s.QoS = 2 }, "QoS 2 is not supported: use 0 or 1"},
		{"wait range", func(s *runset.Settings) { s.WaitMax = 0 }, "wait 1s..0s is not a range: make 0 ≤ min ≤ max"},
		{"negative wait", func(s *runset.Settings) { s.WaitMin = -time.Second }, "wait -1s..1s is not a range"},
		{"payload", func(s *runset.Settings) { s.PayloadSize = -1 }, "payload size -1 is negative: use 0 for the natural size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := valid()
			tc.change(&s)
			require.ErrorContains(t, s.Validate(), tc.want)
		})
	}
	s := valid()
	require.NoError(t, s.Validate())
	s.QoS, s.WaitMin, s.WaitMax, s.PayloadSize = 0, 0, 0, 0
	require.NoError(t, s.Validate(), "QoS 0, no wait and the natural size are settings too")
}

func TestClientID(t *testing.T) {
	t.Parallel()
	s := valid()
	require.Equal(t, "LTK00001", s.ClientID("LTK00001"))
	s.ClientIDFormat = runset.ClientIDIoTCore
	require.Equal(t, "projects/p/locations/r/registries/g/devices/LTK00001", s.ClientID("LTK00001"))
}

func TestTLSConfig(t *testing.T) {
	t.Parallel()
	s := valid()
	cfg, err := s.TLSConfig()
	require.NoError(t, err)
	require.Nil(t, cfg, "the system roots")

	s.Insecure = true
	cfg, err = s.TLSConfig()
	require.NoError(t, err)
	require.True(t, cfg.InsecureSkipVerify)

	s.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(s.CAFile, []byte("not a certificate"), 0o600))
	_, err = s.TLSConfig()
	require.ErrorContains(t, err, "holds no PEM certificate: give --ca a PEM file")
	s.CAPEM = []byte("sent")
	_, err = s.TLSConfig()
	require.ErrorContains(t, err, "CA bundle (sent by the master)")
}
