package cli

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDotenv(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      []dotenvVar
		errLine   int // 0: no error
	}{
		{"bare", "A=1\n# c\n\nB = two words # note\n", []dotenvVar{{"A", "1", 1}, {"B", "two words", 4}}, 0},
		{"export and empty", "export LTK_ROOT=\n", []dotenvVar{{"LTK_ROOT", "", 1}}, 0},
		{"hash in value", "A=x#y\n", []dotenvVar{{"A", "x#y", 1}}, 0},
		{"quotes", "A='x # y'\nB=\"l1\\nl2 \\\"q\\\"\"\n", []dotenvVar{{"A", "x # y", 1}, {"B", "l1\nl2 \"q\"", 2}}, 0},
		{"multi-line", "A=\"l1\nl2\"\nB=3", []dotenvVar{{"A", "l1\nl2", 1}, {"B", "3", 3}}, 0},
		{"bom and crlf", "\uFEFFLTK_WIDTH=4\r\nB=5\r\n", []dotenvVar{{"LTK_WIDTH", "4", 1}, {"B", "5", 2}}, 0},
		{"no equals at the end", "A=1\nLTK_CLUSTER_TOKEN", nil, 2},
		{"no equals", "A=1\nsecret-token-value\nB=2\n", nil, 2},
		{"unterminated", "A=1\nB='secret\nC=hunter2\n", nil, 2},
		{"after quote", "A=\"x\" y\n", nil, 1},
		{"bad key", "1A=x\n", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDotenv(".env", []byte(tc.src))
			if tc.errLine == 0 {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var de *dotenvError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.errLine, de.Line)
			require.Nil(t, got)
		})
	}
}

// FuzzDotenv parses any bytes as .env: it must not panic, an error must
// quote none of the file's text (only its name, line and what is wrong),
// and what parses must parse again the same once written back quoted.
func FuzzDotenv(f *testing.F) {
	for _, s := range []string{
		"A=1\n", "export B='x y'\n", "C=\"a\\nb\"\n", "\uFEFFD=4\r\n", "E\n", "F='open\n", "# c\n\nG = h # i\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		vars, err := parseDotenv("x.env", src)
		if err != nil {
			var de *dotenvError
			if !errors.As(err, &de) || vars != nil || de.Line < 1 {
				t.Fatalf("error %v with %d vars", err, len(vars))
			}
			if strings.Count(string(src), "\n")+1 < de.Line {
				t.Fatalf("line %d past the end", de.Line)
			}
			switch de.What {
			case errNoEquals, errBadKey, errAfterQuote, errOpenDouble, errOpenSingle:
			default:
				t.Fatalf("error %q is not one of the fixed texts", err)
			}
			return
		}
		if unquotable(vars) {
			return // single quotes cannot hold these values as they are
		}
		var b strings.Builder
		for _, v := range vars {
			if !validEnvKey(v.Key) {
				t.Fatalf("key %q", v.Key)
			}
			b.WriteString(v.Key + "='" + v.Value + "'\n")
		}
		again, err := parseDotenv("y.env", []byte(b.String()))
		if err != nil {
			t.Fatalf("written back: %v", err)
		}
		if len(again) != len(vars) {
			t.Fatalf("written back: %d vars, want %d", len(again), len(vars))
		}
		for i := range vars {
			if again[i].Key != vars[i].Key || again[i].Value != vars[i].Value {
				t.Fatalf("written back: %q=%q, want %q=%q", again[i].Key, again[i].Value, vars[i].Key, vars[i].Value)
			}
		}
	})
}

// unquotable reports whether a value of vars holds a single quote or a
// carriage return (read as a line end), which 'quotes' cannot keep.
func unquotable(vars []dotenvVar) bool {
	for _, v := range vars {
		if strings.ContainsAny(v.Value, "'\r") {
			return true
		}
	}
	return false
}

// TestSampleEnvKeysKnown: every variable .sample.env documents, commented
// out or not, is one ltk reads, so a copied .env gets no typo warning.
func TestSampleEnvKeysKnown(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", ".sample.env"))
	require.NoError(t, err)
	uncommented := regexp.MustCompile(`(?m)^# (LTK_[A-Z0-9_]+=)`).ReplaceAll(data, []byte("$1"))
	vars, err := parseDotenv(".sample.env", uncommented)
	require.NoError(t, err)
	require.Greater(t, len(vars), 20)
	known := knownEnvKeys(NewRootCmd(&Env{Getenv: func(string) (string, bool) { return "", false }}))
	for _, v := range vars {
		require.Contains(t, known, v.Key, ".sample.env line %d", v.Line)
	}
}
