package registry

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/stretchr/testify/require"
)

// ecEntries returns n ES256 entries LTK{from}… with fresh keys.
func ecEntries(t testing.TB, from, n int) []Entry {
	t.Helper()
	out := make([]Entry, n)
	for i := range out {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		out[i] = Entry{ID: device.FormatID("LTK", 5, from+i), Alg: device.ES256, Public: &k.PublicKey}
	}
	return out
}

func TestLocalAddReopenDelete(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.csv")
	l, err := OpenLocal(path)
	require.NoError(t, err)
	require.Empty(t, l.IDs(), "a missing file is an empty registry")
	_, err = os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist, "opening creates nothing")

	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	entries := append(ecEntries(t, 1, 3), Entry{ID: "LTK00004", Alg: device.RS256, Public: &rk.PublicKey})
	require.NoError(t, l.Add(entries))
	require.Equal(t, []string{"LTK00001", "LTK00002", "LTK00003", "LTK00004"}, l.IDs())

	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Equal(t, "id,alg,public_key", lines[0])
	require.Len(t, lines, 5)
	require.Regexp(t, `^LTK00001,ES256,-----BEGIN PUBLIC KEY----- \S+ \S+ -----END PUBLIC KEY-----$`, lines[1])
	require.True(t, strings.HasPrefix(lines[4], "LTK00004,RS256,-----BEGIN PUBLIC KEY----- MIIB"))
	require.NotContains(t, string(data), "PRIVATE")

	re, err := OpenLocal(path)
	require.NoError(t, err)
	require.Equal(t, l.IDs(), re.IDs())
	for _, e := range entries {
		k, ok := re.PublicKey(e.ID)
		require.True(t, ok, e.ID)
		require.True(t, e.Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k), e.ID)
	}

	more := ecEntries(t, 5, 2)
	require.NoError(t, re.Add(more))
	require.True(t, strings.HasPrefix(mustRead(t, path), string(data)), "Add appends, keeping the file's bytes")

	n, err := re.Delete([]string{"LTK00002", "LTK00005", "NOPE"})
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{"LTK00001", "LTK00003", "LTK00004", "LTK00006"}, re.IDs())
	_, ok := re.PublicKey("LTK00002")
	require.False(t, ok)

	n, err = re.Delete([]string{"NOPE"})
	require.NoError(t, err)
	require.Zero(t, n)

	n, err = re.DeleteAll()
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.Empty(t, re.IDs())
	require.Equal(t, "id,alg,public_key\n", mustRead(t, path))

	again, err := OpenLocal(path)
	require.NoError(t, err)
	require.Empty(t, again.IDs())
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestLocalRefusesDuplicates(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.csv")
	l, err := OpenLocal(path)
	require.NoError(t, err)
	require.NoError(t, l.Add(ecEntries(t, 1, 10)))
	before := mustRead(t, path)

	// Another process's Local, opened before the first Add, still sees the file.
	stale, err := OpenLocal(path)
	require.NoError(t, err)
	err = stale.Add(ecEntries(t, 3, 8))
	var ee *ExistsError
	require.ErrorAs(t, err, &ee)
	require.Len(t, ee.IDs, 8)
	require.EqualError(t, err, path+" already holds LTK00003, LTK00004, LTK00005, LTK00006, LTK00007 and 3 more; delete them first or pick other IDs")
	require.Equal(t, before, mustRead(t, path), "nothing written")

	twice := ecEntries(t, 20, 1)
	err = l.Add(append(twice, twice...))
	require.ErrorAs(t, err, &ee)
	require.Equal(t, []string{"LTK00020"}, ee.IDs)

	bad := ecEntries(t, 30, 1)
	bad[0].Alg = device.RS256
	require.ErrorContains(t, l.Add(bad), "does not match")
	require.Equal(t, before, mustRead(t, path))
}

func TestLocalReloadsOnMiss(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.csv")
	target, err := OpenLocal(path) // the embedded target's view, opened before any device exists
	require.NoError(t, err)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	target.now = func() time.Time { return time.Unix(0, clock.Load()) }

	writer, err := OpenLocal(path) // `ltk devices create` in another process
	require.NoError(t, err)
	require.NoError(t, writer.Add(ecEntries(t, 1, 2)))

	_, ok := target.PublicKey("LTK00001")
	require.True(t, ok, "a miss rereads the changed file")
	_, ok = target.PublicKey("LTK00002")
	require.True(t, ok)

	require.NoError(t, writer.Add(ecEntries(t, 3, 1)))
	_, ok = target.PublicKey("UNKNOWN")
	require.False(t, ok)
	clock.Add(int64(500 * time.Millisecond))
	_, ok = target.PublicKey("LTK00003")
	require.False(t, ok, "at most one reload per second")
	clock.Add(int64(600 * time.Millisecond))
	_, ok = target.PublicKey("LTK00003")
	require.True(t, ok, "reloaded after a second")

	// A file that stops parsing keeps the last good registry.
	clock.Add(int64(2 * time.Second))
	require.NoError(t, os.WriteFile(path, []byte("id,alg,public_key\nLTK00009,RS256,garbage\n"), 0o644))
	_, ok = target.PublicKey("LTK00009")
	require.False(t, ok)
	_, ok = target.PublicKey("LTK00001")
	require.True(t, ok)

	// A deleted file empties the registry on the next miss.
	clock.Add(int64(2 * time.Second))
	require.NoError(t, os.Remove(path))
	_, ok = target.PublicKey("LTK00042")
	require.False(t, ok)
	require.Empty(t, target.IDs())
}

// TestLocalNoticesDeletedAndRekeyed: a hit also looks at the file (at most
// once a second), so a running target refuses a deleted device and accepts a
// re-keyed one with its new key.
func TestLocalNoticesDeletedAndRekeyed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.csv")
	writer, err := OpenLocal(path)
	require.NoError(t, err)
	first := ecEntries(t, 1, 2)
	require.NoError(t, writer.Add(first))
	target, err := OpenLocal(path)
	require.NoError(t, err)
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	target.now = func() time.Time { return time.Unix(0, clock.Load()) }
	for _, e := range first {
		_, ok := target.PublicKey(e.ID)
		require.True(t, ok, e.ID)
	}

	_, err = writer.Delete([]string{"LTK00001", "LTK00002"})
	require.NoError(t, err)
	rekeyed := ecEntries(t, 2, 1)
	require.NoError(t, writer.Add(rekeyed))
	_, ok := target.PublicKey("LTK00001")
	require.True(t, ok, "within a second of the last check the snapshot stands")

	clock.Add(int64(1100 * time.Millisecond))
	_, ok = target.PublicKey("LTK00001")
	require.False(t, ok, "deleted device still known")
	k, ok := target.PublicKey("LTK00002")
	require.True(t, ok)
	require.True(t, rekeyed[0].Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(k), "re-keyed device has its old key")
}

func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "registry.csv")
	target, err := OpenLocal(path)
	require.NoError(t, err)
	writer, err := OpenLocal(path)
	require.NoError(t, err)
	var clock atomic.Int64
	target.now = func() time.Time { return time.Unix(0, clock.Add(int64(100*time.Millisecond))) }

	done := make(chan struct{})
	var wg sync.WaitGroup
	var found atomic.Int64
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if _, ok := target.PublicKey(device.FormatID("LTK", 5, 1+(i+g)%20)); ok {
					found.Add(1)
				}
				_ = target.IDs()
			}
		})
	}
	for i := range 10 {
		require.NoError(t, writer.Add(ecEntries(t, 1+2*i, 2)))
	}
	require.Eventually(t, func() bool {
		_, ok := target.PublicKey("LTK00020")
		return ok && found.Load() > 0 // the readers ran concurrently with the writes
	}, 10*time.Second, time.Millisecond, "the target sees the last device added")
	close(done)
	wg.Wait()
	require.Positive(t, found.Load())
	require.Len(t, target.IDs(), 20)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	good := ecEntries(t, 1, 2)
	data, err := encode(good)
	require.NoError(t, err)
	row2 := strings.Split(string(data), "\n")[2]
	pem2 := strings.SplitN(row2, ",", 3)[2]
	tests := []struct {
		name string
		file string
		line int
		kind error
		msg  string
	}{
		{"fields", string(data) + "LTK00003,ES256\n", 4, device.ErrFields, "row has 2 fields (want 3"},
		{"bad id", string(data) + "LTK 3,ES256," + pem2 + "\n", 4, device.ErrBadID, "character ' '"},
		{"duplicate", string(data) + "LTK00001,ES256," + pem2 + "\n", 4, device.ErrDuplicateID, "device LTK00001 is also on line 2"},
		{"bad alg", string(data) + "LTK00003,HS256," + pem2 + "\n", 4, device.ErrUnsupportedKey, `unknown key algorithm "HS256"`},
		{"alg mismatch", string(data) + "LTK00003,RS256," + pem2 + "\n", 4, device.ErrUnsupportedKey, "listed as RS256 but its public key is for ES256"},
		{"not PEM", string(data) + "LTK00003,ES256,xyz\n", 4, device.ErrNotPEM, "public key for LTK00003 is not PEM"},
		{"bare quote", string(data) + "LTK\"3,ES256,x\n", 4, device.ErrCSV, "malformed CSV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "registry.csv")
			require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o644))
			_, err := OpenLocal(path, WithName("registry.csv"))
			var fe *device.FleetError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.line, fe.Line)
			require.ErrorIs(t, err, tc.kind)
			require.ErrorContains(t, err, fmt.Sprintf("registry.csv line %d: ", tc.line))
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

// BenchmarkPublicKeyHit is the target's lookup of a known device.
func BenchmarkPublicKeyHit(b *testing.B) {
	path := filepath.Join(b.TempDir(), "registry.csv")
	l, err := OpenLocal(path)
	require.NoError(b, err)
	require.NoError(b, l.Add(ecEntries(b, 1, 100)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := l.PublicKey("LTK00050"); !ok {
			b.Fatal("miss")
		}
	}
}

// TestDecodeSavedByASpreadsheet: a registry file that starts with a UTF-8
// byte order mark (as spreadsheet programs save CSV) reads as written.
func TestDecodeSavedByASpreadsheet(t *testing.T) {
	t.Parallel()
	data, err := encode(ecEntries(t, 1, 2))
	require.NoError(t, err)
	entries, err := decode(bytes.NewReader(append([]byte("\uFEFF"), data...)), "registry.csv")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	require.Equal(t, "LTK00001", entries[0].ID)
}
