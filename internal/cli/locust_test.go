package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/cli"
	"github.com/ltk-dev/ltk/internal/cli/clitest"
)

// locustSuffixes are the files --csv PREFIX writes, in Locust and in ltk.
var locustSuffixes = []string{"_stats.csv", "_failures.csv", "_stats_history.csv", "_exceptions.csv"}

// TestCSVMatchesLocust runs real Locust (Debian's python3-locust) headless
// with --csv --csv-full-history on a Locust file whose task records fake
// echo round trips of about 150 ms, and ltk with the same flags against its
// embedded target delaying each echo 150 ms, and compares the files: the
// same headers byte for byte, CRLF line ends, and the same number format
// in every column of the echo receive rows (integers, Python floats, six
// decimals, N/A).
func TestCSVMatchesLocust(t *testing.T) {
	t.Parallel()
	locust, err := exec.LookPath("locust")
	if err != nil {
		t.Skip("locust is not installed, so ltk's CSV files were not compared with Locust's: apt-get install python3-locust")
	}
	locustfile, err := filepath.Abs(filepath.Join("testdata", "locustfile.py"))
	require.NoError(t, err)

	// Locust 2.12 flushes its history every 10 s: 25 s gives two flushes with
	// requests even when a busy machine slows Locust's start (at 12 s, one
	// flush could come before its first request, and the history had no
	// echo receive row).
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	cmd := exec.CommandContext(ctx, locust, "-f", locustfile, "--headless", "-u", "2", "-r", "2", "-t", "25s",
		"--csv", "locust", "--csv-full-history", "--only-summary")
	cmd.Dir = dir
	var locustOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &locustOut, &locustOut
	require.NoError(t, cmd.Start())
	locustDone := make(chan error, 1)
	go func() { locustDone <- cmd.Wait() }()

	e := clitest.NewEnv(t)
	createDevices(t, e, 2)
	code := e.Run("run", "--headless", "-c", "2", "-r", "0", "-t", "5s", "--only-summary", "--target-delay", "150ms",
		"--wait-min", "100ms", "--wait-max", "100ms", "--csv", "ltk", "--csv-full-history")
	require.Equal(t, cli.ExitOK, code, "stderr: %s", e.Stderr())
	require.NoError(t, <-locustDone, "locust: %s", locustOut.String())

	for _, suffix := range locustSuffixes {
		want := readRaw(t, filepath.Join(dir, "locust"+suffix))
		got := readRaw(t, filepath.Join(e.Dir, "ltk"+suffix))
		require.Equal(t, firstLine(want), firstLine(got), "%s: header", suffix)
		for name, b := range map[string][]byte{"locust": want, "ltk": got} {
			require.Equal(t, bytes.Count(b, []byte("\n")), bytes.Count(b, []byte("\r\n")), "%s%s: every line ends in CRLF", name, suffix)
		}
	}
	for _, suffix := range []string{"_stats.csv", "_stats_history.csv"} {
		want := lastRow(t, filepath.Join(dir, "locust"+suffix), "echo receive")
		got := lastRow(t, filepath.Join(e.Dir, "ltk"+suffix), "echo receive")
		require.Equal(t, formats(want), formats(got), "%s: number formats of the echo receive row\nlocust: %v\nltk:    %v", suffix, want, got)
	}
}

func readRaw(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(line)
}

// lastRow returns the last row of the CSV file at path whose Name is name.
func lastRow(t *testing.T, path, name string) []string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(readRaw(t, path))).ReadAll()
	require.NoError(t, err)
	col := 1 // _stats.csv's Name
	if recs[0][0] == "Timestamp" {
		col = 3
	}
	for i := len(recs) - 1; i > 0; i-- {
		if recs[i][col] == name {
			return recs[i]
		}
	}
	t.Fatalf("%s: no row named %q in:\n%s", path, name, readRaw(t, path))
	return nil
}

var (
	intFormat   = regexp.MustCompile(`^-?[0-9]+$`)
	fixed6      = regexp.MustCompile(`^-?[0-9]+\.[0-9]{6}$`)
	floatFormat = regexp.MustCompile(`^-?[0-9]+\.[0-9]+$`)
)

// formats names the number format of each field: "int", "fixed6" (six
// decimals, as f"{x:2f}" writes), "float" (Python's str of a float), the
// field itself for N/A and "", and "text" for the rest.
func formats(rec []string) []string {
	out := make([]string, len(rec))
	for i, f := range rec {
		switch {
		case f == "" || f == "N/A":
			out[i] = f
		case intFormat.MatchString(f):
			out[i] = "int"
		case fixed6.MatchString(f) && (i == 4 || i == 5) && len(rec) == 24: // the history's rates
			out[i] = "fixed6"
		case floatFormat.MatchString(f):
			out[i] = "float"
		default:
			out[i] = "text"
		}
	}
	return out
}
