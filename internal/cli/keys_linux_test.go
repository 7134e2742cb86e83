package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the terminal's end (what a program
// reads as its stdin) and the controller's (what a person types into).
func openPTY(t *testing.T) (term, typist *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { ptm.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { pts.Close() })
	return pts, ptm
}

// TestReadKeys: on a terminal, Locust's w/W/s/S keys are read as they are
// pressed (no Enter), other keys are ignored, and the terminal is restored
// afterwards; on anything else no key is read.
func TestReadKeys(t *testing.T) {
	t.Parallel()
	term, typist := openPTY(t)
	require.True(t, isTerminal(term))
	before, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	require.NoError(t, err)
	require.NotZero(t, before.Lflag&unix.ICANON, "a fresh terminal is line-buffered")

	changes, stop := readKeys(t.Context(), &Env{Stdin: term})
	require.NotNil(t, changes)
	_, err = typist.WriteString("wxWsS")
	require.NoError(t, err)
	var got []int
	for range 4 {
		got = append(got, <-changes)
	}
	require.Equal(t, []int{1, 10, -1, -10}, got)
	stop()
	after, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	require.NoError(t, err)
	require.Equal(t, before.Lflag, after.Lflag, "the terminal is restored")

	f, err := os.CreateTemp(t.TempDir(), "stdin")
	require.NoError(t, err)
	defer f.Close()
	require.False(t, isTerminal(f))
	changes, stop = readKeys(t.Context(), &Env{Stdin: f})
	require.Nil(t, changes, "a file is not a keyboard")
	stop()
}
