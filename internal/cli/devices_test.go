package cli_test

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
)

// fleetFiles returns the contents of devicelist.csv and registry.csv ("" if missing).
func fleetFiles(t *testing.T, e *clitest.Env) (devs, reg string) {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(e.Dir, name))
		if os.IsNotExist(err) {
			return ""
		}
		require.NoError(t, err)
		return string(b)
	}
	return read("devicelist.csv"), read("registry.csv")
}

// run runs ltk and requires the exit code, showing stderr when it differs.
func run(t *testing.T, e *clitest.Env, code cli.ExitCode, args ...string) {
	t.Helper()
	e.Reset()
	require.Equal(t, code, e.Run(args...), "ltk %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), e.Stdout(), e.Stderr())
}

// requireConsistent checks that both files hold exactly ids, with matching keys.
func requireConsistent(t *testing.T, e *clitest.Env, alg device.Alg, ids ...string) {
	t.Helper()
	devs, err := device.ReadFleet(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	reg, err := registry.OpenLocal(filepath.Join(e.Dir, "registry.csv"))
	require.NoError(t, err)
	var got []string
	for _, d := range devs {
		got = append(got, d.ID)
		require.Equal(t, alg, d.Alg, d.ID)
		pub, ok := reg.PublicKey(d.ID)
		require.True(t, ok, "%s registered", d.ID)
		require.True(t, d.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub), "%s keys match", d.ID)
	}
	require.Equal(t, ids, got)
	require.ElementsMatch(t, ids, reg.IDs())
}

func TestDevicesCreate(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--alg", "es256")
	require.Equal(t, "Created 3 devices LTK00001…LTK00003 (ES256): devicelist.csv now holds 3 devices.\n", e.Stdout())
	require.Empty(t, e.Stderr(), "no progress bar for 3 quick keys")
	requireConsistent(t, e, device.ES256, "LTK00001", "LTK00002", "LTK00003")

	for name, mode := range map[string]os.FileMode{"devicelist.csv": 0o600, "registry.csv": 0o644} {
		fi, err := os.Stat(filepath.Join(e.Dir, name))
		require.NoError(t, err)
		require.Equal(t, mode, fi.Mode().Perm(), name)
	}
	devs, reg := fleetFiles(t, e)
	require.Regexp(t, `^(LTK0000[123],-----BEGIN EC PRIVATE KEY----- [A-Za-z0-9+/= ]+ -----END EC PRIVATE KEY-----\n){3}$`, devs)
	require.NotContains(t, reg, "PRIVATE")
	entries, err := os.ReadDir(e.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary files left")
}

func TestDevicesCreateRSA(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "7", "7")
	require.Equal(t, "Created 1 device LTK00007 (RS256): devicelist.csv now holds 1 device.\n", e.Stdout())
	requireConsistent(t, e, device.RS256, "LTK00007")
	devs, _ := fleetFiles(t, e)
	require.True(t, strings.HasPrefix(devs, "LTK00007,-----BEGIN RSA PRIVATE KEY----- MIIE"), "PKCS#1, flattened, as the tutorial")
}

func TestDevicesCreateIsAdditive(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256")
	before, _ := fleetFiles(t, e)
	run(t, e, cli.ExitOK, "devices", "create", "3", "4", "--alg", "ES256")
	require.Contains(t, e.Stdout(), "devicelist.csv now holds 4 devices.")
	after, _ := fleetFiles(t, e)
	require.True(t, strings.HasPrefix(after, before), "existing rows kept byte for byte")
	requireConsistent(t, e, device.ES256, "LTK00001", "LTK00002", "LTK00003", "LTK00004")
}

func TestDevicesCreateRefusesOverlap(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "3", "--alg", "ES256")
	devs, reg := fleetFiles(t, e)

	run(t, e, cli.ExitError, "devices", "create", "3", "6", "--alg", "ES256")
	require.Equal(t, "ltk: LTK00003 already exists in devicelist.csv; create a range after LTK00003 (ltk devices create 4 7) or delete first\n", e.Stderr())
	run(t, e, cli.ExitError, "devices", "create", "1", "10", "--alg", "ES256")
	require.Contains(t, e.Stderr(), "LTK00001 and 2 more already exist in devicelist.csv; create a range after LTK00003 (ltk devices create 4 13)")
	d2, r2 := fleetFiles(t, e)
	require.Equal(t, devs, d2)
	require.Equal(t, reg, r2)

	// A device registered by hand, with no private key, blocks its id too.
	local, err := registry.OpenLocal(filepath.Join(e.Dir, "registry.csv"))
	require.NoError(t, err)
	d, err := device.Generate("LTK00010", device.ES256)
	require.NoError(t, err)
	require.NoError(t, local.Add([]registry.Entry{registry.EntryOf(d)}))
	devs, reg = fleetFiles(t, e)
	run(t, e, cli.ExitError, "devices", "create", "8", "12", "--alg", "ES256")
	require.Contains(t, e.Stderr(), "LTK00010 already exists in registry.csv; create a range after LTK00010 (ltk devices create 11 15)")
	d2, r2 = fleetFiles(t, e)
	require.Equal(t, devs, d2)
	require.Equal(t, reg, r2)
}

func TestDevicesDelete(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "5", "--alg", "ES256")
	run(t, e, cli.ExitOK, "devices", "delete", "2", "3")
	require.Equal(t, "Deleted 2 devices from devicelist.csv and 2 from registry.csv; devicelist.csv now holds 3 devices.\n", e.Stdout())
	requireConsistent(t, e, device.ES256, "LTK00001", "LTK00004", "LTK00005")
	fi, err := os.Stat(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	run(t, e, cli.ExitOK, "devices", "delete", "2", "3")
	require.Equal(t, "No devices LTK00002…LTK00003 in devicelist.csv or registry.csv; nothing deleted.\n", e.Stdout())

	run(t, e, cli.ExitOK, "devices", "delete", "--all")
	require.Equal(t, "Deleted 3 devices from devicelist.csv and 3 from registry.csv; devicelist.csv now holds 0 devices.\n", e.Stdout())
	requireConsistent(t, e, device.ES256)

	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256")
	requireConsistent(t, e, device.ES256, "LTK00001", "LTK00002")
}

func TestDevicesList(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "list")
	require.Equal(t, "No devices in devicelist.csv or registry.csv. Make some: ltk devices create 1 100\n", e.Stdout())

	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256")
	// One device in devicelist.csv only, one in the registry only.
	unreg, err := device.Generate("LTK00003", device.ES256)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(e.Dir, "devicelist.csv"))
	require.NoError(t, err)
	data, err = device.AppendFleet(data, []device.Device{unreg})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(e.Dir, "devicelist.csv"), data, 0o600))
	local, err := registry.OpenLocal(filepath.Join(e.Dir, "registry.csv"))
	require.NoError(t, err)
	orphan, err := device.Generate("LTK00009", device.ES256)
	require.NoError(t, err)
	require.NoError(t, local.Add([]registry.Entry{registry.EntryOf(orphan)}))

	run(t, e, cli.ExitOK, "devices", "list")
	require.Equal(t, `ID        ALG    REGISTERED
LTK00001  ES256  yes
LTK00002  ES256  yes
LTK00003  ES256  no
LTK00009  -      yes, but no private key in devicelist.csv
Total: 3 devices in devicelist.csv, 3 registered in registry.csv.
Not registered: 1 device, which cannot connect to the embedded target (delete and create them again).
Registered without a private key: 1 device (delete them to tidy up).
`, e.Stdout())

	run(t, e, cli.ExitOK, "devices", "list", "--json")
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(e.Stdout()), &rows))
	require.Len(t, rows, 4)
	require.Equal(t, map[string]any{"id": "LTK00003", "alg": "ES256", "profile": "iotcore", "registered": false, "private_key": true}, rows[2])
	require.Equal(t, map[string]any{"id": "LTK00009", "registered": true, "private_key": false}, rows[3])
}

func TestDevicesMalformedDeviceList(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "1", "--alg", "ES256")
	path := filepath.Join(e.Dir, "devicelist.csv")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("LTK00002,not a key\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	devs, reg := fleetFiles(t, e)

	for _, args := range [][]string{
		{"devices", "create", "3", "4", "--alg", "ES256"},
		{"devices", "delete", "1", "1"},
		{"devices", "delete", "--all"},
		{"devices", "list"},
	} {
		run(t, e, cli.ExitError, args...)
		require.Contains(t, e.Stderr(), "ltk: devicelist.csv line 2: private key for LTK00002 is not PEM (want PKCS#1, SEC1 or PKCS#8)\nhint: fix or remove that row", args)
		d2, r2 := fleetFiles(t, e)
		require.Equal(t, devs, d2, "devicelist.csv unchanged by %v", args)
		require.Equal(t, reg, r2, "registry.csv unchanged by %v", args)
	}
}

func TestDevicesUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"create"}, "want FROM and TO device numbers"},
		{[]string{"create", "1"}, "want FROM and TO device numbers"},
		{[]string{"create", "1", "2", "3"}, "got 3 arguments"},
		{[]string{"create", "a", "3"}, `FROM "a": want a positive whole number`},
		{[]string{"create", "0", "3"}, `FROM "0": want a positive whole number`},
		{[]string{"create", "1", "-3"}, "unknown shorthand flag"},
		{[]string{"create", "5", "3"}, "FROM 5 is after TO 3"},
		{[]string{"create", "1", "100000"}, "TO 100000 does not fit in 5 digits (the largest id is LTK99999)"},
		{[]string{"create", "1", "3", "--alg", "HS256"}, `--alg: unknown key algorithm "HS256" (want RS256 or ES256)`},
		{[]string{"create", "1", "3", "--prefix", "9X"}, `--prefix "9X" cannot start a device id`},
		{[]string{"create", "1", "3", "--prefix", "a/b"}, `--prefix "a/b" cannot start a device id`},
		{[]string{"create", "1", "3", "--width", "0"}, "--width 0: want 1 to 9 digits"},
		{[]string{"delete"}, "or --all"},
		{[]string{"delete", "--all", "1", "2"}, "--all deletes every device and takes no FROM TO"},
		{[]string{"delete", "3", "1"}, "FROM 3 is after TO 1"},
		{[]string{"list", "x"}, `takes no arguments; got "x"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" for ltk devices`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			e := clitest.NewEnv(t)
			run(t, e, cli.ExitUsage, append([]string{"devices"}, tc.args...)...)
			require.Contains(t, e.Stderr(), tc.msg)
			devs, reg := fleetFiles(t, e)
			require.Empty(t, devs+reg, "nothing written")
		})
	}
}

func TestDevicesCreateCancelled(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256")
	devs, reg := fleetFiles(t, e)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	e.Reset()
	require.Equal(t, cli.ExitInterrupted, e.RunContext(ctx, "devices", "create", "3", "200", "--alg", "ES256"))
	require.Contains(t, e.Stderr(), "interrupted: no devices created (0 of 198 keys were made and dropped); devicelist.csv and registry.csv are unchanged")
	d2, r2 := fleetFiles(t, e)
	require.Equal(t, devs, d2)
	require.Equal(t, reg, r2)
}

// TestDevicesCreateCtrlC: Ctrl-C (the process's first interrupt, as
// Env.Signals reports it) stops create with exit code 130 and says that
// nothing was written.
func TestDevicesCreateCtrlC(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256")
	devs, reg := fleetFiles(t, e)
	e.Signals = func(parent context.Context) (context.Context, <-chan struct{}, func()) {
		ctx, cancel := context.WithCancel(parent)
		cancel() // Ctrl-C as the keys are being made
		return ctx, nil, cancel
	}
	e.Reset()
	require.Equal(t, cli.ExitInterrupted, e.Run("devices", "create", "3", "200", "--alg", "ES256", "--quiet"))
	require.Contains(t, e.Stderr(), "interrupted: no devices created")
	require.Contains(t, e.Stderr(), "devicelist.csv and registry.csv are unchanged")
	d2, r2 := fleetFiles(t, e)
	require.Equal(t, devs, d2)
	require.Equal(t, reg, r2)
}

// TestDevicesCreateRefusesHugeRange: a range beyond what one command holds
// in memory is refused at once, with ranges to use instead.
func TestDevicesCreateRefusesHugeRange(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.Equal(t, cli.ExitUsage, e.Run("devices", "create", "1", "999999999", "--width", "9"))
	require.Contains(t, e.Stderr(), "999999999 devices in one command is more than the 100000 ltk makes at once")
	require.Contains(t, e.Stderr(), "ltk devices create 1 100000, then 100001 200000")
	require.NoFileExists(t, filepath.Join(e.Dir, "devicelist.csv"))
	e.Reset()
	require.Equal(t, cli.ExitUsage, e.Run("devices", "create", "5", "100005", "--width", "6"))
	require.Contains(t, e.Stderr(), "100001 devices")
}

// TestDevicesWarnsReadableList: a device list whose mode lets group or
// others read it gets a warning with the chmod to run; a 0600 one none.
func TestDevicesWarnsReadableList(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "1", "--alg", "ES256")
	require.NotContains(t, e.Stderr(), "warning")
	path := filepath.Join(e.Dir, "devicelist.csv")
	for mode, who := range map[os.FileMode]string{0o644: "its group and others", 0o640: "its group", 0o604: "others"} {
		require.NoError(t, os.Chmod(path, mode))
		e.Reset()
		run(t, e, cli.ExitOK, "devices", "list")
		require.Contains(t, e.Stderr(), fmt.Sprintf("warning: devicelist.csv holds private keys, but its mode %04o lets %s read it: chmod 600 devicelist.csv", mode, who))
	}
	require.NoError(t, os.Chmod(path, 0o600))
	e.Reset()
	run(t, e, cli.ExitOK, "devices", "list")
	require.NotContains(t, e.Stderr(), "warning")
}

func TestDevicesCreateRestoresListWhenRegistryFails(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "2", "--alg", "ES256")
	devs, _ := fleetFiles(t, e)
	// A registry in a directory that does not exist reads as empty, and cannot be written.
	run(t, e, cli.ExitError, "devices", "create", "3", "4", "--alg", "ES256", "--registry-file", "missing/registry.csv")
	require.Contains(t, e.Stderr(), "update registry")
	require.Contains(t, e.Stderr(), "(devicelist.csv left as it was)")
	d2, _ := fleetFiles(t, e)
	require.Equal(t, devs, d2)

	// Same on a first create, when there was no devicelist.csv before.
	e2 := clitest.NewEnv(t)
	run(t, e2, cli.ExitError, "devices", "create", "1", "2", "--alg", "ES256", "--registry-file", "missing/registry.csv")
	_, err := os.Stat(filepath.Join(e2.Dir, "devicelist.csv"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestDevicesFilesUnderRoot(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	require.NoError(t, os.Mkdir(filepath.Join(e.Dir, "fleet"), 0o755))
	e.Vars["LTK_ROOT"] = "fleet"
	e.Vars["LTK_DEVICES_FILE"] = "devs.csv"
	run(t, e, cli.ExitOK, "devices", "create", "1", "1", "--alg", "ES256")
	require.Equal(t, "Created 1 device LTK00001 (ES256): fleet/devs.csv now holds 1 device.\n", e.Stdout())
	for _, name := range []string{"fleet/devs.csv", "fleet/registry.csv"} {
		_, err := os.Stat(filepath.Join(e.Dir, name))
		require.NoError(t, err, name)
	}
	run(t, e, cli.ExitOK, "devices", "list")
	require.Contains(t, e.Stdout(), "Total: 1 device in fleet/devs.csv, 1 registered in fleet/registry.csv.")
}

func TestDevicesCreateProgress(t *testing.T) {
	t.Parallel()
	e := clitest.NewEnv(t)
	run(t, e, cli.ExitOK, "devices", "create", "1", "60", "--alg", "ES256", "--prefix", "dev-", "--width", "3")
	// stderr is no terminal here: one plain line, no '\r' frames of a bar.
	require.Equal(t, "Making ES256 keys for 60 devices…\n", e.Stderr())
	require.Contains(t, e.Stdout(), "Created 60 devices dev-001…dev-060 (ES256)")

	run(t, e, cli.ExitOK, "devices", "create", "61", "120", "--alg", "ES256", "--prefix", "dev-", "--width", "3", "--quiet")
	require.Empty(t, e.Stderr())
	run(t, e, cli.ExitOK, "devices", "delete", "50", "100", "--prefix", "dev-", "--width", "3")
	require.Contains(t, e.Stdout(), "Deleted 51 devices")
}
