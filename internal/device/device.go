package device

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
)

// Device is one simulated device: its ID and private key.
//
// Its String, GoString and LogValue forms show the ID and Alg only, never the
// key, so a Device may be printed or logged.
type Device struct {
	ID  string
	Key crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey (P-256)
	Alg Alg           // follows from Key
	// Values are the device's extra devicelist.csv columns, in the order
	// of the header that names them; nil when the file has none.
	Values []string
}

// String returns "ID (Alg)".
func (d Device) String() string { return d.ID + " (" + string(d.Alg) + ")" }

// GoString keeps %#v from printing the key.
func (d Device) GoString() string {
	return fmt.Sprintf("device.Device{ID:%q, Alg:%q}", d.ID, d.Alg)
}

// LogValue makes slog log the ID and Alg only.
func (d Device) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", d.ID), slog.String("alg", string(d.Alg)))
}

// Public returns the device's public key.
func (d Device) Public() crypto.PublicKey { return d.Key.Public() }

// rsaBits is the size of the RSA keys ltk generates.
const rsaBits = 2048

// Generate makes a new device with a fresh key for alg: RSA-2048 for RS256,
// EC P-256 for ES256.
func Generate(id string, alg Alg) (Device, error) {
	if err := ValidateID(id); err != nil {
		return Device{}, err
	}
	var key crypto.Signer
	var err error
	switch alg {
	case RS256:
		key, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return Device{}, fmt.Errorf("generate key for %s: unknown algorithm %q (want RS256 or ES256)", id, alg)
	}
	if err != nil {
		return Device{}, fmt.Errorf("generate %s key for %s: %w", alg, id, err)
	}
	return Device{ID: id, Key: key, Alg: alg}, nil
}

// GenerateAll makes one device per id, in order, generating keys on up to
// GOMAXPROCS goroutines. progress, if not nil, is called (from those
// goroutines, possibly concurrently) after each device is made. When ctx ends
// first, GenerateAll returns ctx's error after the keys in progress finish.
func GenerateAll(ctx context.Context, ids []string, alg Alg, progress func()) ([]Device, error) {
	for _, id := range ids {
		if err := ValidateID(id); err != nil {
			return nil, err
		}
	}
	if _, err := ParseAlg(string(alg)); err != nil || alg == "" {
		return nil, fmt.Errorf("generate devices: unknown algorithm %q (want RS256 or ES256)", alg)
	}
	devs := make([]Device, len(ids))
	var (
		next     atomic.Int64
		mu       sync.Mutex // Guards firstErr.
		firstErr error
		wg       sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), len(ids))
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				d, err := Generate(ids[i], alg)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					next.Store(int64(len(ids))) // stop the others
					return
				}
				devs[i] = d
				if progress != nil {
					progress()
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return devs, nil
}

// FormatID returns the ID of device number n: prefix followed by n padded with
// zeros to width digits. FormatID("LTK", 5, 1) is "LTK00001".
func FormatID(prefix string, width, n int) string {
	return fmt.Sprintf("%s%0*d", prefix, width, n)
}

// MaxIDLen is the longest device ID ltk accepts, as Cloud IoT Core did.
const MaxIDLen = 128

// ValidateID reports whether id can name a device: 1 to 128 characters, a
// letter first, then letters, digits, '-', '.', '_' or '~'. These are Cloud IoT
// Core's rules less '+' and '%', which cannot stand in an MQTT topic name.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("device ID is empty")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("device ID %.20q… is %d characters long (at most %d)", id, len(id), MaxIDLen)
	}
	for i, c := range id {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return fmt.Errorf("device ID %q must start with a letter", id)
		}
		if !letter && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_' && c != '~' {
			return fmt.Errorf("device ID %q has the character %q (use letters, digits, '-', '.', '_' or '~')", id, c)
		}
	}
	return nil
}
