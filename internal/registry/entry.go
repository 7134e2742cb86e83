package registry

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ltk-dev/ltk/internal/device"
)

// Entry is a registered device: its ID and public key, and the secret the
// platform checks its password against, if any.
type Entry struct {
	ID     string
	Alg    device.Alg
	Public crypto.PublicKey // *rsa.PublicKey or *ecdsa.PublicKey (P-256)
	// Secret is what the target checks a device's password with under
	// profiles that have one: the symmetric key (base64) of an azure
	// device, the SHA-256 (hex) of a generic device's password (see
	// PasswordHash). Empty for JWT and certificate devices.
	Secret string
	// Certificate is the X.509 certificate (PEM) of an aws device, which
	// AWS IoT registers; Local does not keep it (the target checks the
	// certificate against ltk's test CA). Empty for other devices.
	Certificate string
}

// PasswordHash is the Secret of a device whose password is pw: SHA-256, hex.
func PasswordHash(pw string) string {
	sum := sha256.Sum256([]byte(pw))
	return hex.EncodeToString(sum[:])
}

// EntryOf returns the registry entry of d.
func EntryOf(d device.Device) Entry {
	return Entry{ID: d.ID, Alg: d.Alg, Public: d.Public()}
}

// EntriesOf returns the registry entries of devs, in order.
func EntriesOf(devs []device.Device) []Entry {
	out := make([]Entry, len(devs))
	for i, d := range devs {
		out[i] = EntryOf(d)
	}
	return out
}

// validate checks that e can be written to a registry.
func (e Entry) validate() error {
	if err := device.ValidateID(e.ID); err != nil {
		return err
	}
	alg, err := device.AlgOf(e.Public)
	if err != nil {
		return fmt.Errorf("device %s: %w", e.ID, err)
	}
	if alg != e.Alg {
		return fmt.Errorf("device %s: alg %q does not match its %s key", e.ID, e.Alg, alg)
	}
	return nil
}

// header is the first row of a registry file.
const header = "id,alg,public_key\n"

// A registry file is CSV with a header and one row per device,
// "id,alg,public key PEM", the PEM a PKIX PUBLIC KEY block flattened onto one
// line, and a fourth field for a device with a Secret:
//
//	id,alg,public_key
//	LTK00001,RS256,-----BEGIN PUBLIC KEY----- MIIBIjAN… -----END PUBLIC KEY-----

// encodeRow appends e's row to b.
func encodeRow(b *bytes.Buffer, e Entry) error {
	if err := e.validate(); err != nil {
		return err
	}
	p, err := device.EncodePublicKey(e.Public)
	if err != nil {
		return fmt.Errorf("device %s: %w", e.ID, err)
	}
	b.WriteString(e.ID + "," + string(e.Alg) + "," + p)
	if e.Secret != "" {
		b.WriteString("," + e.Secret)
	}
	b.WriteByte('\n')
	return nil
}

// encode returns a whole registry file holding entries.
func encode(entries []Entry) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	for _, e := range entries {
		if err := encodeRow(&b, e); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// decode reads a registry file; name is the file's name for errors, which are
// *device.FleetError for bad rows.
func decode(r io.Reader, name string) ([]Entry, error) {
	cr := csv.NewReader(device.WithoutBOM(r))
	cr.FieldsPerRecord = -1
	var entries []Entry
	seen := make(map[string]int)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return entries, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, &device.FleetError{File: name, Line: pe.StartLine,
					Err: device.Problem(device.ErrCSV, "malformed CSV: %v at line %d column %d", pe.Err, pe.Line, pe.Column)}
			}
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if first && strings.EqualFold(strings.TrimSpace(rec[0]), "id") {
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		bad := func(err error) error {
			return &device.FleetError{File: name, Line: line, DeviceID: strings.TrimSpace(rec[0]), Err: err}
		}
		if len(rec) != 3 && len(rec) != 4 {
			return nil, bad(device.Problem(device.ErrFields, "row has %d fields (want 3: id,alg,public key PEM, or 4 with a secret)", len(rec)))
		}
		id := strings.TrimSpace(rec[0])
		if err := device.ValidateID(id); err != nil {
			return nil, bad(device.Problem(device.ErrBadID, "%v", err))
		}
		if prev, dup := seen[id]; dup {
			return nil, bad(device.Problem(device.ErrDuplicateID, "device %s is also on line %d (list each device once)", id, prev))
		}
		seen[id] = line
		alg, err := device.ParseAlg(strings.TrimSpace(rec[1]))
		if err != nil {
			return nil, bad(device.Problem(device.ErrUnsupportedKey, "device %s: %v", id, err))
		}
		pub, keyAlg, err := device.DecodePublicKey(rec[2])
		if err != nil {
			return nil, bad(fmt.Errorf("public key for %s %w", id, err))
		}
		if keyAlg != alg {
			return nil, bad(device.Problem(device.ErrUnsupportedKey, "device %s is listed as %s but its public key is for %s", id, alg, keyAlg))
		}
		e := Entry{ID: id, Alg: alg, Public: pub}
		if len(rec) == 4 {
			e.Secret = strings.TrimSpace(rec[3])
		}
		entries = append(entries, e)
	}
}

// ExistsError is returned by Add for IDs already registered.
type ExistsError struct {
	File string
	IDs  []string // every ID that is already present, in the order given
}

// Error names the file and the first few IDs.
func (e *ExistsError) Error() string {
	const show = 5
	ids := e.IDs
	more := ""
	if len(ids) > show {
		more = fmt.Sprintf(" and %d more", len(ids)-show)
		ids = ids[:show]
	}
	return fmt.Sprintf("%s already holds %s%s; delete them first or pick other IDs", e.File, strings.Join(ids, ", "), more)
}

// registeredOf returns the ids of ids that are in known (sorted): the
// devices a backend's Delete acts on, ignoring the ones it does not have.
func registeredOf(known, ids []string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := slices.BinarySearch(known, id); ok {
			out = append(out, id)
		}
	}
	return out
}

// refuseExisting returns an *ExistsError naming the ids of entries that are
// in known (sorted) or repeated among entries, or nil: the check a
// backend's Add makes before it creates anything.
func refuseExisting(name string, known []string, entries []Entry) error {
	var dups []string
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if _, ok := slices.BinarySearch(known, e.ID); ok || seen[e.ID] {
			dups = append(dups, e.ID)
		}
		seen[e.ID] = true
	}
	if len(dups) > 0 {
		return &ExistsError{File: name, IDs: dups}
	}
	return nil
}
