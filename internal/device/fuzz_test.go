package device

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"strings"
	"testing"
)

// fuzzKey is a fixed P-256 key (scalar 0x5a…5a), so seeds and committed
// corpus entries stay valid keys. It signs nothing outside these tests.
func fuzzKey(tb testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// keyKinds are the kinds a key parse error may have.
var keyKinds = []error{ErrNotPEM, ErrBadKey, ErrUnsupportedKey}

// isKind reports whether err matches one of kinds.
func isKind(err error, kinds ...error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// leaksBody reports whether msg quotes 16 or more characters of a line of
// a PEM body in src (text after a "-----BEGIN X-----" line, up to its
// "-----END") that appear nowhere else in src: key material must never
// reach an error.
func leaksBody(msg, src string) bool {
	var bodies []string
	rest := src
	for {
		i := strings.Index(rest, "-----BEGIN ")
		if i < 0 {
			break
		}
		rest = rest[i+len("-----BEGIN "):]
		j := strings.Index(rest, "-----")
		if j < 0 {
			break
		}
		rest = rest[j+len("-----"):]
		body := rest
		if k := strings.Index(body, "-----END"); k >= 0 {
			body = body[:k]
		}
		bodies = append(bodies, body)
	}
	outside := src
	for _, b := range bodies {
		outside = strings.Replace(outside, b, "\x00", 1)
	}
	for _, b := range bodies {
		for _, f := range strings.Fields(b) {
			for ; len(f) >= 16; f = f[1:] {
				if w := f[:16]; strings.Contains(msg, w) && !strings.Contains(outside, w) {
					return true
				}
			}
		}
	}
	return false
}

// FuzzParsePrivateKey parses any text as a private key: an error has one of
// the key kinds and quotes no base64 of the input; a key round-trips
// through the PEM ltk writes.
func FuzzParsePrivateKey(f *testing.F) {
	k := fuzzKey(f)
	f.Add(sec1(f, k))
	f.Add(Flatten([]byte(sec1(f, k))))
	f.Add(pkcs8(f, k))
	f.Add("-----BEGIN EC PARAMETERS----- BggqhkjOPQMBBw== -----END EC PARAMETERS----- " + Flatten([]byte(sec1(f, k))))
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	f.Add("-----BEGIN PRIVATE KEY----- MIIB")
	f.Fuzz(func(t *testing.T, s string) {
		key, alg, err := parsePrivateKey(s)
		if err != nil {
			if key != nil || !isKind(err, keyKinds...) {
				t.Fatalf("key %v, error %v (kind?)", key, err)
			}
			if leaksBody(err.Error(), s) {
				t.Fatalf("error %q quotes the key", err)
			}
			return
		}
		if alg != RS256 && alg != ES256 {
			t.Fatalf("alg %q", alg)
		}
		p, err := marshalPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		again, alg2, err := parsePrivateKey(Flatten(p))
		if err != nil || alg2 != alg {
			t.Fatalf("written back: %v, alg %s want %s", err, alg2, alg)
		}
		if !again.(interface{ Equal(crypto.PrivateKey) bool }).Equal(key) {
			t.Fatal("written back: another key")
		}
	})
}

// FuzzDecodePublicKey parses any text as a public key: errors have a key
// kind; a key round-trips through EncodePublicKey.
func FuzzDecodePublicKey(f *testing.F) {
	pub, err := EncodePublicKey(fuzzKey(f).Public())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pub)
	f.Add(strings.ReplaceAll(pub, " ", "\n"))
	f.Add("-----BEGIN PUBLIC KEY----- AAAA -----END PUBLIC KEY-----")
	f.Fuzz(func(t *testing.T, s string) {
		key, alg, err := DecodePublicKey(s)
		if err != nil {
			if key != nil || !isKind(err, keyKinds...) {
				t.Fatalf("key %v, error %v (kind?)", key, err)
			}
			return
		}
		enc, err := EncodePublicKey(key)
		if err != nil {
			t.Fatalf("a key that decodes does not encode: %v", err)
		}
		again, alg2, err := DecodePublicKey(enc)
		if err != nil || alg2 != alg || !again.(interface{ Equal(crypto.PublicKey) bool }).Equal(key) {
			t.Fatalf("written back: %v, alg %s want %s", err, alg2, alg)
		}
	})
}

// FuzzDecodeFleet reads any bytes as a fleet file: an error is a
// *FleetError of a known kind that quotes no key; a fleet re-encodes to a
// file that decodes to the same devices.
func FuzzDecodeFleet(f *testing.F) {
	k := fuzzKey(f)
	row := "LTK00001," + Flatten([]byte(sec1(f, k))) + "\n"
	f.Add([]byte(row))
	f.Add([]byte("id,private_key,site\n" + strings.TrimSuffix(row, "\n") + ",berlin\n"))
	f.Add([]byte(row + row))
	f.Add([]byte("LTK1,\"" + sec1(f, k) + "\"\n"))
	f.Add([]byte("LTK1,not a key\n"))
	f.Add([]byte("id,private_key,a,a\n"))
	f.Add([]byte("\"LTK1,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		devs, cols, err := DecodeFleetColumns(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			var fe *FleetError
			if devs != nil || !errors.As(err, &fe) ||
				!isKind(err, ErrCSV, ErrFields, ErrBadID, ErrDuplicateID, ErrNotPEM, ErrBadKey, ErrUnsupportedKey) {
				t.Fatalf("error %v (a *FleetError of a kind?)", err)
			}
			if isKind(err, keyKinds...) && leaksBody(err.Error(), string(data)) {
				t.Fatalf("error %q quotes a key", err)
			}
			return
		}
		for _, d := range devs {
			if len(d.Values) != len(cols) {
				t.Fatalf("%s: %d values for %d columns", d.ID, len(d.Values), len(cols))
			}
		}
		var b bytes.Buffer
		if err := EncodeFleet(&b, devs); err != nil {
			t.Fatalf("a fleet that decodes does not encode: %v", err)
		}
		again, err := DecodeFleet(&b, "again.csv")
		if err != nil || len(again) != len(devs) {
			t.Fatalf("written back: %v (%d devices, want %d)", err, len(again), len(devs))
		}
		for i, d := range devs {
			if again[i].ID != d.ID || again[i].Alg != d.Alg || !again[i].Key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(d.Key) {
				t.Fatalf("written back: device %d is %s, want %s", i, again[i].ID, d.ID)
			}
		}
	})
}
