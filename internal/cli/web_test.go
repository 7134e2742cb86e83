package cli

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/master"
	"github.com/ltk-dev/ltk/internal/web"
)

func TestWebFlags(t *testing.T) {
	t.Parallel()
	var f webFlags
	fs := pflag.NewFlagSet("master", pflag.ContinueOnError)
	addWebFlags(fs, &f)
	require.Equal(t, "0.0.0.0:8089", f.webConfig().Addr, "Locust's default")

	require.NoError(t, fs.Parse([]string{"--web-host", "::1", "--web-port", "9000", "--web-auth", "admin:pw"}))
	cfg := f.webConfig()
	require.Equal(t, "[::1]:9000", cfg.Addr)
	require.Equal(t, "admin:pw", cfg.Auth)
}

// TestMasterStatesAreWebStates: the UI shows the master's state as it is,
// so each must be the web state of the same name.
func TestMasterStatesAreWebStates(t *testing.T) {
	t.Parallel()
	for m, w := range map[master.State]web.State{
		master.StateReady: web.StateReady, master.StateSpawning: web.StateSpawning, master.StateRunning: web.StateRunning,
		master.StateStopping: web.StateStopping, master.StateStopped: web.StateStopped,
	} {
		require.Equal(t, w, web.State(m))
	}
}
