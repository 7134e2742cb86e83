package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/registry"
	results "github.com/ltk-dev/ltk/internal/report"
)

// TestRunClosesTheStoreWhenTheTargetCannotStart: a test that fails after
// the results store was opened (here the embedded target cannot read its
// registry) closes the store and records no run, since no test started.
func TestRunClosesTheStoreWhenTheTargetCannotStart(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	createDevices(t, e, 2)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, registry.DefaultFile), // a key that is none: unreadable as a registry
		[]byte("id,alg,public_key\nLTK00001,ES256,not a key\n"), 0o644))

	code := e.Run("run", "--headless", "-c", "2", "-r", "0", "-t", "1s")
	require.Equal(t, cli.ExitError, code, "stdout: %s\nstderr: %s", e.Stdout(), e.Stderr())
	require.Contains(t, e.Stderr(), "registry")

	db := filepath.Join(e.Dir, results.DefaultPath)
	require.NoFileExists(t, db+"-wal", "the store was closed (SQLite removes its log when the last connection closes)")
	st, err := results.OpenExisting(db)
	require.NoError(t, err)
	defer st.Close()
	runs, err := st.Runs(t.Context())
	require.NoError(t, err)
	require.Empty(t, runs, "no test ran: no run to become --run last")
}
