package device

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// flatten joins PEM lines with spaces, as the tutorial's scripts stored keys.
func flatten(p string) string { return strings.Join(strings.Fields(p), " ") }

func TestFleetRoundTrip(t *testing.T) {
	t.Parallel()
	devs := []Device{
		{ID: "LTK00001", Key: testRSAKey(), Alg: RS256},
		{ID: "LTK00002", Key: newECKey(t, elliptic.P256()), Alg: ES256},
	}
	var buf bytes.Buffer
	require.NoError(t, EncodeFleet(&buf, devs))

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, 2, "one line per device")
	require.True(t, strings.HasPrefix(lines[0], "LTK00001,-----BEGIN RSA PRIVATE KEY----- MII"), "PKCS#1, flattened")
	require.True(t, strings.HasSuffix(lines[0], " -----END RSA PRIVATE KEY-----"))
	require.True(t, strings.HasPrefix(lines[1], "LTK00002,-----BEGIN EC PRIVATE KEY----- "), "SEC1, flattened")
	require.True(t, strings.HasSuffix(lines[1], " -----END EC PRIVATE KEY-----"))

	got, err := DecodeFleet(&buf, "devicelist.csv")
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i := range devs {
		require.Equal(t, devs[i].ID, got[i].ID)
		require.Equal(t, devs[i].Alg, got[i].Alg)
		require.True(t, devs[i].Key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(got[i].Key), "key of %s", devs[i].ID)
	}
}

func TestDecodeFleetFormats(t *testing.T) {
	t.Parallel()
	rsaKey := testRSAKey()
	ecKey := newECKey(t, elliptic.P256())
	ecParams := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
	quote := func(s string) string { return `"` + s + `"` }
	tests := []struct {
		name string
		file string
		want []Alg
	}{
		{"tutorial flattened PKCS#1 with trailing space", "LTK00001," + flatten(pkcs1(rsaKey)) + " \n", []Alg{RS256}},
		{"no final newline", "LTK00001," + flatten(pkcs1(rsaKey)), []Alg{RS256}},
		{"multi-line PEM in quoted field", "LTK00001," + quote(pkcs1(rsaKey)) + "\nLTK00002," + quote(sec1(t, ecKey)) + "\n", []Alg{RS256, ES256}},
		{"CRLF", "LTK00001," + flatten(pkcs1(rsaKey)) + "\r\nLTK00002," + quote(strings.ReplaceAll(sec1(t, ecKey), "\n", "\r\n")) + "\r\n", []Alg{RS256, ES256}},
		{"PKCS#8 RSA and EC", "LTK00001," + flatten(pkcs8(t, rsaKey)) + "\nLTK00002," + flatten(pkcs8(t, ecKey)) + "\n", []Alg{RS256, ES256}},
		{"SEC1 after EC PARAMETERS", "LTK00001," + flatten(ecParams+sec1(t, ecKey)) + "\n", []Alg{ES256}},
		{"header and blank lines", "id,private_key\n\nLTK00001," + flatten(sec1(t, ecKey)) + "\n\n   \nLTK00002," + flatten(pkcs1(rsaKey)) + "\n\n", []Alg{ES256, RS256}},
		{"empty file", "", nil},
		{"header only", "id,private_key\r\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			devs, err := DecodeFleet(strings.NewReader(tc.file), "devicelist.csv")
			require.NoError(t, err)
			require.Len(t, devs, len(tc.want))
			for i, d := range devs {
				require.Equal(t, FormatID("LTK", 5, i+1), d.ID)
				require.Equal(t, tc.want[i], d.Alg)
				pub := d.Key.Public()
				if d.Alg == RS256 {
					require.True(t, rsaKey.PublicKey.Equal(pub))
				} else {
					require.True(t, ecKey.PublicKey.Equal(pub))
				}
			}
		})
	}
}

func TestDecodeFleetErrors(t *testing.T) {
	t.Parallel()
	rsaPEM := flatten(pkcs1(testRSAKey()))
	ecPEM := flatten(sec1(t, newECKey(t, elliptic.P256())))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	good := "LTK00001," + ecPEM + "\n"
	notDER := "-----BEGIN RSA PRIVATE KEY----- " + base64.StdEncoding.EncodeToString([]byte("this is not DER at all")) + " -----END RSA PRIVATE KEY-----"

	tests := []struct {
		name string
		file string
		line int
		kind error
		msg  string
	}{
		{"three fields", good + "LTK00002," + ecPEM + ",extra\n", 2, ErrFields, "row has 3 fields (want 2"},
		{"one field", good + "\nLTK00002\n", 3, ErrFields, "has 1 fields"},
		{"empty id", good + "," + ecPEM + "\n", 2, ErrBadID, "device ID is empty"},
		{"id with slash", good + "LTK/2," + ecPEM + "\n", 2, ErrBadID, `has the character '/'`},
		{"id with plus", good + "LTK+2," + ecPEM + "\n", 2, ErrBadID, `has the character '+'`},
		{"id starting with digit", good + "2LTK," + ecPEM + "\n", 2, ErrBadID, "must start with a letter"},
		{"duplicate id", good + "LTK00002," + ecPEM + "\n\nLTK00001," + ecPEM + "\n", 4, ErrDuplicateID, "device LTK00001 is also on line 1"},
		{"not PEM", good + "LTK00007,hello\n", 2, ErrNotPEM, "private key for LTK00007 is not PEM (want PKCS#1, SEC1 or PKCS#8)"},
		{"public key PEM", good + "LTK00002,-----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----\n", 2, ErrNotPEM, `private key for LTK00002 is a "PUBLIC KEY" PEM block, not a private key`},
		{"DER does not parse", good + "LTK00002," + notDER + "\n", 2, ErrBadKey, "private key for LTK00002 is RSA PRIVATE KEY PEM that does not parse"},
		{"bad base64", good + "LTK00002,-----BEGIN EC PRIVATE KEY----- M!!! -----END EC PRIVATE KEY-----\n", 2, ErrBadKey, "is not valid base64"},
		{"EC P-384", good + "LTK00002," + flatten(sec1(t, newECKey(t, elliptic.P384()))) + "\n", 2, ErrUnsupportedKey, "is an EC key on curve P-384, which is not supported"},
		{"Ed25519", good + "LTK00002," + flatten(pkcs8(t, edKey)) + "\n", 2, ErrUnsupportedKey, "ed25519"},
		{"RSA-1024", good + "LTK00002," + flatten(pkcs1(small)) + "\n", 2, ErrUnsupportedKey, "is an RSA key of 1024 bits, which is too small"},
		{"encrypted PEM", good + "LTK00002,\"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\"\n", 2, ErrBadKey, "encrypted keys are not supported"},
		{"two keys", good + "LTK00002," + ecPEM + " " + ecPEM + "\n", 2, ErrBadKey, "private key for LTK00002 holds 2 PEM key blocks"},
		{"truncated in key", good + "LTK00002," + rsaPEM[:300], 2, ErrBadKey, "private key for LTK00002 has a PEM block \"RSA PRIVATE KEY\" with no END line (file truncated?)"},
		{"BEGIN line without its dashes", good + "LTK00002," + strings.Replace(ecPEM, "PRIVATE KEY-----", "PRIVATE KEY", 1) + "\n", 2, ErrBadKey, "private key for LTK00002 has a PEM block with no END line (file truncated?)"},
		{"truncated in BEGIN line", good + "LTK00002,-----BEGIN RSA PRIV", 2, ErrBadKey, "has a PEM BEGIN line that is cut short (file truncated?)"},
		{"unterminated quote", good + "LTK00002,\"" + pkcs1(testRSAKey())[:200], 2, ErrCSV, "file truncated?"},
		{"bare quote", good + "LTK\"00002," + ecPEM + "\n", 2, ErrCSV, `bare " in non-quoted-field`},
		{"more fields than the header names", "id,private_key,site\n" + good + "LTK00002," + ecPEM + ",a,b\n", 3, ErrFields, "row has 4 fields (want 2 to 3: id,private_key,site)"},
		{"header column not a name", "id,private_key,the site\n" + good, 1, ErrFields, `header column 3 "the site" is not a name`},
		{"header column twice", "id,private_key,site,site\n" + good, 1, ErrFields, `header names column "site" twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeFleet(strings.NewReader(tc.file), "devicelist.csv")
			require.Error(t, err)
			var fe *FleetError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, "devicelist.csv", fe.File)
			require.Equal(t, tc.line, fe.Line, "line in %q", err)
			require.ErrorIs(t, err, tc.kind)
			require.Contains(t, err.Error(), tc.msg)
			require.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("devicelist.csv line %d: ", tc.line)), err.Error())
			require.NotContains(t, err.Error(), "MII", "key material in the error")
			require.NotContains(t, err.Error(), rsaPEM[40:60])
			require.NotContains(t, err.Error(), ecPEM[40:60])
		})
	}
}

func TestDecodeFleetExtraColumns(t *testing.T) {
	t.Parallel()
	ecPEM := flatten(sec1(t, newECKey(t, elliptic.P256())))
	file := "id,private_key,site,floor\r\n" +
		"LTK00001," + ecPEM + ",berlin,3\r\n" +
		"LTK00002," + ecPEM + ",paris\r\n" + // floor left out: empty
		"LTK00003," + ecPEM + "\r\n" // appended by ltk devices create: no values
	devs, cols, err := DecodeFleetColumns(strings.NewReader(file), "devicelist.csv")
	require.NoError(t, err)
	require.Equal(t, []string{"site", "floor"}, cols)
	require.Len(t, devs, 3)
	require.Equal(t, []string{"berlin", "3"}, devs[0].Values)
	require.Equal(t, []string{"paris", ""}, devs[1].Values)
	require.Equal(t, []string{"", ""}, devs[2].Values)

	devs, cols, err = DecodeFleetColumns(strings.NewReader("LTK00001,"+ecPEM+"\n"), "devicelist.csv")
	require.NoError(t, err)
	require.Nil(t, cols)
	require.Nil(t, devs[0].Values, "no header, no values")
}

// TestFleetSavedByASpreadsheet: a device list that starts with a UTF-8 byte
// order mark (as spreadsheet programs save CSV) reads as written, with or
// without a header, and devices appended to it keep its header.
func TestFleetSavedByASpreadsheet(t *testing.T) {
	t.Parallel()
	ecPEM := flatten(sec1(t, newECKey(t, elliptic.P256())))
	devs, err := DecodeFleet(strings.NewReader("\uFEFFLTK00001,"+ecPEM+"\r\n"), "devicelist.csv")
	require.NoError(t, err)
	require.Equal(t, "LTK00001", devs[0].ID)

	file := "\uFEFFid,private_key,site\r\nLTK00001," + ecPEM + ",berlin\r\n"
	devs, cols, err := DecodeFleetColumns(strings.NewReader(file), "devicelist.csv")
	require.NoError(t, err)
	require.Equal(t, []string{"site"}, cols)
	require.Equal(t, []string{"berlin"}, devs[0].Values)

	d, err := Generate("LTK00002", ES256)
	require.NoError(t, err)
	d.Values = []string{"paris"}
	out, err := AppendFleetColumns([]byte(file), []Device{d}, []string{"site"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(out), "id,private_key,site\n"), "one header, at the top:\n%.80s", out)
	devs, cols, err = DecodeFleetColumns(bytes.NewReader(out), "devicelist.csv")
	require.NoError(t, err)
	require.Equal(t, []string{"site"}, cols)
	require.Len(t, devs, 2)
	require.Equal(t, []string{"paris"}, devs[1].Values)
}

func TestDecodeFleetManyKeepsOrder(t *testing.T) {
	t.Parallel()
	const n = 2000
	rsaPEM := flatten(pkcs1(testRSAKey()))
	ecPEM := flatten(sec1(t, newECKey(t, elliptic.P256())))
	var b strings.Builder
	for i := 1; i <= n; i++ {
		key := ecPEM
		if i%7 == 0 {
			key = rsaPEM
		}
		fmt.Fprintf(&b, "%s,%s\n", FormatID("LTK", 5, i), key)
	}
	devs, err := DecodeFleet(strings.NewReader(b.String()), "devicelist.csv")
	require.NoError(t, err)
	require.Len(t, devs, n)
	for i, d := range devs {
		require.Equal(t, FormatID("LTK", 5, i+1), d.ID)
		require.Equal(t, map[bool]Alg{true: RS256, false: ES256}[(i+1)%7 == 0], d.Alg)
	}

	// With many rows bad, the error is the first by line, whichever goroutine saw it.
	bad := strings.Replace(b.String(), "LTK01500,"+ecPEM, "LTK01500,nope", 1)
	bad = strings.Replace(bad, "LTK01900,"+ecPEM, "LTK01900,nope", 1)
	_, err = DecodeFleet(strings.NewReader(bad), "devicelist.csv")
	require.EqualError(t, err, "devicelist.csv line 1500: private key for LTK01500 is not PEM (want PKCS#1, SEC1 or PKCS#8)")
}

func TestReadFleet(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := ReadFleet(filepath.Join(dir, "devicelist.csv"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.Contains(t, err.Error(), "ltk devices create")

	path := filepath.Join(dir, "devicelist.csv")
	d, err := Generate("LTK00001", ES256)
	require.NoError(t, err)
	data, err := AppendFleet(nil, []Device{d})
	require.NoError(t, err)
	require.NoError(t, WriteFileAtomic(path, data, 0o600))
	devs, err := ReadFleet(path)
	require.NoError(t, err)
	require.Equal(t, []string{"LTK00001"}, []string{devs[0].ID})

	require.NoError(t, os.WriteFile(path, []byte("LTK00001,x\n"), 0o600))
	_, err = ReadFleet(path)
	require.ErrorContains(t, err, path+" line 1: private key for LTK00001 is not PEM")
}

func TestAppendFleetKeepsBytes(t *testing.T) {
	t.Parallel()
	d, err := Generate("LTK00003", ES256)
	require.NoError(t, err)
	for _, old := range []string{"", "id,private_key\r\nLTK00001,whatever\r\n", "LTK00001,no newline"} {
		out, err := AppendFleet([]byte(old), []Device{d})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(out), old), "old content kept byte for byte")
		rest := strings.TrimPrefix(string(out), old)
		if old != "" && !strings.HasSuffix(old, "\n") {
			require.True(t, strings.HasPrefix(rest, "\n"))
		}
		require.True(t, strings.HasPrefix(strings.TrimPrefix(rest, "\n"), "LTK00003,-----BEGIN EC PRIVATE KEY----- "))
		require.True(t, strings.HasSuffix(rest, "-----END EC PRIVATE KEY-----\n"))
	}
}

func TestWriteFileAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "devicelist.csv")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))
	require.NoError(t, WriteFileAtomic(path, []byte("new"), 0o600))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "new", string(got))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")

	err = WriteFileAtomic(filepath.Join(dir, "missing", "x.csv"), []byte("x"), 0o600)
	require.Error(t, err)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

// BenchmarkDecodeFleet10k parses a devicelist.csv of 10,000 RSA devices.
func BenchmarkDecodeFleet10k(b *testing.B) {
	rsaPEM := flatten(pkcs1(testRSAKey()))
	var buf strings.Builder
	for i := 1; i <= 10000; i++ {
		fmt.Fprintf(&buf, "%s,%s\n", FormatID("LTK", 5, i), rsaPEM)
	}
	data := buf.String()
	b.ReportAllocs()
	for b.Loop() {
		devs, err := DecodeFleet(strings.NewReader(data), "devicelist.csv")
		if err != nil || len(devs) != 10000 {
			b.Fatal(len(devs), err)
		}
	}
}
