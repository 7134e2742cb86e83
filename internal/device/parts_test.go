package device

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitPartsReadsBack(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		data  string
		max   int
		parts []string
	}{
		"fits":         {"a,1\nb,2\n", 100, []string{"a,1\nb,2\n"}},
		"empty":        {"", 10, []string{""}},
		"at line ends": {"a,1\nb,2\nc,3\n", 9, []string{"a,1\nb,2\n", "c,3\n"}},
		"long line":    {"abcdefgh\nx\n", 4, []string{"abcd", "efgh", "\nx\n"}},
		"no last end":  {"a,1\nb,2", 5, []string{"a,1\n", "b,2"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			parts := SplitParts([]byte(tc.data), tc.max)
			var got []string
			dir := t.TempDir()
			for i, p := range parts {
				require.LessOrEqual(t, len(p), tc.max)
				got = append(got, string(p))
				require.NoError(t, os.WriteFile(filepath.Join(dir, PartName("list.csv", i)), p, 0o600))
			}
			require.Equal(t, tc.parts, got)
			require.NoError(t, os.Mkdir(filepath.Join(dir, "..data"), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(dir, ".hidden"), []byte("not a part"), 0o600))
			back, err := ReadParts(dir)
			require.NoError(t, err)
			require.Equal(t, tc.data, string(back))
		})
	}
}

func TestPartNamesSortInOrder(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("row\n"), 12)
	dir := t.TempDir()
	for i, p := range SplitParts(data, 4) { // 12 parts: name, name.00001 … name.00011
		require.NoError(t, os.WriteFile(filepath.Join(dir, PartName("d.csv", i)), append([]byte{byte('a' + i)}, p...), 0o600))
	}
	back, err := ReadParts(dir)
	require.NoError(t, err)
	for i := range 12 {
		require.Equal(t, byte('a'+i), back[i*5], "part %d in place", i)
	}
}
