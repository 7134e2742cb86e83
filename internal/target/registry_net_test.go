package target_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
	"github.com/ltk-dev/ltk/internal/target"
)

// TestRunningTargetNoticesRegistryChanges: with the local registry file as
// its KeyStore, a running target refuses a device deleted from the file and
// accepts a re-keyed one with its new key only, within about a second
// (the file is checked at most once a second, on any lookup).
func TestRunningTargetNoticesRegistryChanges(t *testing.T) {
	t.Parallel()
	testKeys(t)
	path := filepath.Join(t.TempDir(), registry.DefaultFile)
	writer, err := registry.OpenLocal(path)
	require.NoError(t, err)
	require.NoError(t, writer.Add([]registry.Entry{
		{ID: "LTK00001", Alg: device.ES256, Public: &ecKey.PublicKey},
		{ID: "LTK00002", Alg: device.ES256, Public: &ecKey.PublicKey},
	}))
	ks, err := registry.OpenLocal(path)
	require.NoError(t, err)
	tt := startJWT(t, func(c *target.Config) { c.Keys = ks })
	p := target.DefaultProject
	connects := func(d string, key any) bool {
		_, _, err := dial(t, tt.BrokerURL(), clientID(p, d), mint(t, jwt.SigningMethodES256, key, claims(p, time.Now(), time.Hour)), nil)
		return err == nil
	}
	require.True(t, connects("LTK00001", ecKey))
	require.True(t, connects("LTK00002", ecKey))

	_, err = writer.Delete([]string{"LTK00001", "LTK00002"})
	require.NoError(t, err)
	require.NoError(t, writer.Add([]registry.Entry{{ID: "LTK00002", Alg: device.ES256, Public: &ecOther.PublicKey}}))

	require.Eventually(t, func() bool { return !connects("LTK00001", ecKey) }, waitFor, 50*time.Millisecond, "deleted device still accepted")
	require.False(t, connects("LTK00002", ecKey), "re-keyed device accepted with its old key")
	require.True(t, connects("LTK00002", ecOther), "re-keyed device refused with its new key")
	reg := tt.Registry()
	require.Positive(t, metric(t, reg, "ltk_target_connects_refused_total", "reason", string(target.ReasonUnknownDevice)))
	require.Equal(t, 1.0, metric(t, reg, "ltk_target_connects_refused_total", "reason", string(target.ReasonBadSignature)))
}
