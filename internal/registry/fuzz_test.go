package registry

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"testing"

	"github.com/ltk-dev/ltk/internal/device"
)

// FuzzDecode reads any bytes as a registry file: an error is a
// *device.FleetError of a known kind; entries re-encode to a file that
// decodes to the same entries.
func FuzzDecode(f *testing.F) {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		f.Fatal(err)
	}
	good, err := encode([]Entry{{ID: "LTK00001", Alg: device.ES256, Public: k.Public()}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(append(good, bytes.TrimPrefix(good, []byte(header))...))
	f.Add(bytes.Replace(good, []byte("ES256"), []byte("RS256"), 1))
	f.Add([]byte("id,alg,public_key\nLTK1,ES256,nope\n"))
	f.Add([]byte("LTK1,ES256\n"))
	f.Add([]byte("\"LTK1,ES256,x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decode(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			var fe *device.FleetError
			if entries != nil || !errors.As(err, &fe) || !kindOf(err) {
				t.Fatalf("error %v (a *FleetError of a kind?)", err)
			}
			return
		}
		enc, err := encode(entries)
		if err != nil {
			t.Fatalf("entries that decode do not encode: %v", err)
		}
		again, err := decode(bytes.NewReader(enc), "again.csv")
		if err != nil || len(again) != len(entries) {
			t.Fatalf("written back: %v (%d entries, want %d)", err, len(again), len(entries))
		}
		for i, e := range entries {
			if again[i].ID != e.ID || again[i].Alg != e.Alg ||
				!again[i].Public.(interface{ Equal(crypto.PublicKey) bool }).Equal(e.Public) {
				t.Fatalf("written back: entry %d is %s, want %s", i, again[i].ID, e.ID)
			}
		}
	})
}

// kindOf reports whether err matches one of device's fleet problem kinds.
func kindOf(err error) bool {
	for _, k := range []error{device.ErrCSV, device.ErrFields, device.ErrBadID, device.ErrDuplicateID,
		device.ErrNotPEM, device.ErrBadKey, device.ErrUnsupportedKey} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}
