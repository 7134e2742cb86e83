package cli

import (
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
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
