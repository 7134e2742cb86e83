package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestScriptsFindLTK: the tutorial's scripts run with LTK unset, taking
// bin/ltk of their checkout, else ltk on PATH, and say what to do when
// there is neither.
func TestScriptsFindLTK(t *testing.T) {
	t.Parallel()
	checkout := t.TempDir() // a copy of scripts/, so that the real checkout's bin/ltk does not count
	scripts := filepath.Join(checkout, "scripts")
	require.NoError(t, os.MkdirAll(scripts, 0o755))
	for _, name := range []string{"ltk.sh", "createDevices.sh"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "scripts", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(scripts, name), b, 0o755))
	}
	onPath := t.TempDir()
	require.NoError(t, os.Symlink(ltkBin, filepath.Join(onPath, "ltk")))
	bash, err := exec.LookPath("bash")
	require.NoError(t, err)
	create := func(path string) (string, error) {
		dir := t.TempDir()
		cmd := exec.Command(bash, filepath.Join(scripts, "createDevices.sh"), "1", "3", "--alg", "ES256", "--quiet")
		cmd.Dir, cmd.Env = dir, []string{"PATH=" + path, "HOME=" + dir} // no LTK
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), err
		}
		list, err := os.ReadFile(filepath.Join(dir, "devicelist.csv"))
		require.NoError(t, err)
		require.Equal(t, 3, strings.Count(string(list), "LTK0000"), "three devices: %s", list)
		return string(out), nil
	}
	system := filepath.Dir(bash) + ":/usr/bin:/bin" // dirname, command
	out, err := create(system)
	require.Error(t, err, "neither bin/ltk nor ltk on PATH")
	require.Contains(t, out, "ltk not found: run 'make build' (bin/ltk) or 'make install' (ltk on PATH)")

	out, err = create(onPath + ":" + system)
	require.NoError(t, err, "ltk on PATH: %s", out)

	require.NoError(t, os.MkdirAll(filepath.Join(checkout, "bin"), 0o755))
	require.NoError(t, os.Symlink(ltkBin, filepath.Join(checkout, "bin", "ltk")))
	out, err = create(system)
	require.NoError(t, err, "bin/ltk of the checkout: %s", out)
}
