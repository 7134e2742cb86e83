package device

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// A fleet file (devicelist.csv) has one row per device, "id,private key PEM",
// with the PEM flattened onto one line (Flatten) as the tutorial wrote it:
//
//	LTK00001,-----BEGIN RSA PRIVATE KEY----- MIIEow… … -----END RSA PRIVATE KEY-----
//
// Reading also accepts a header row "id,private_key", blank lines, CRLF line
// ends, and a normal multi-line PEM inside a quoted field; keys may be PKCS#1
// RSA, SEC1 EC or PKCS#8 (RSA or EC P-256). Writing uses PKCS#1 for RSA and
// SEC1 for EC, flattened, with no header. The file holds private keys: write
// it 0600 (WriteFileAtomic).
//
// A header row may name extra columns after the key, per-device values a
// scenario reads by name ("id,private_key,site,floor"); a row may leave
// trailing extra columns out (they are empty), and Device.Values holds them
// in the header's order.

// ReadFleet reads the fleet file at path. Its errors name the file and line
// (see FleetError); a missing file is an error that wraps fs.ErrNotExist.
func ReadFleet(path string) ([]Device, error) {
	devs, _, err := ReadFleetColumns(path)
	return devs, err
}

// ReadFleetColumns is ReadFleet that also returns the names of the extra
// columns the file's header names (see DecodeFleetColumns). path may also be
// a directory holding the file's parts (ReadParts), as ltk setup mounts a
// device list too big for one Secret.
func ReadFleetColumns(path string) ([]Device, []string, error) {
	data, err := ReadParts(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read device list: %w (make devices with: ltk devices create 1 100)", err)
	}
	return DecodeFleetColumns(bytes.NewReader(data), path)
}

// fleetRow is a row of a fleet file whose key is not parsed yet.
type fleetRow struct {
	line   int
	id     string
	key    string
	values []string // the extra columns' values, nil when there are none
}

// DecodeFleet reads a fleet file from r; name is the file's name for errors.
// Keys are parsed in parallel on GOMAXPROCS goroutines; the devices keep the
// file's order. The first problem, by line, is returned as a *FleetError.
func DecodeFleet(r io.Reader, name string) ([]Device, error) {
	devs, _, err := DecodeFleetColumns(r, name)
	return devs, err
}

// DecodeFleetColumns is DecodeFleet that also returns the names of the
// extra columns its header row gives (nil without any); each device's
// Values follow them.
func DecodeFleetColumns(r io.Reader, name string) ([]Device, []string, error) {
	rows, columns, err := scanFleet(r, name)
	if err != nil {
		return nil, nil, err
	}
	devs := make([]Device, len(rows))
	errs := make([]error, len(rows))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(rows)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(rows); i = int(next.Add(1) - 1) {
				row := rows[i]
				key, alg, err := parsePrivateKey(row.key)
				if err != nil {
					errs[i] = &FleetError{File: name, Line: row.line, DeviceID: row.id,
						Err: prefixed("private key for "+row.id+" ", err)}
					continue
				}
				devs[i] = Device{ID: row.id, Key: key, Alg: alg, Values: row.values}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return devs, columns, nil
}

// scanFleet splits a fleet file into rows and checks everything but the keys.
func scanFleet(r io.Reader, name string) ([]fleetRow, []string, error) {
	cr := csv.NewReader(WithoutBOM(r))
	cr.FieldsPerRecord = -1
	var (
		rows    []fleetRow
		columns []string
	)
	seen := make(map[string]int)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, columns, nil
		}
		if err != nil {
			return nil, nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if first && isHeader(rec) {
			if columns, err = extraColumns(rec); err != nil {
				return nil, nil, &FleetError{File: name, Line: line, Err: err}
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a line of blanks
		}
		if len(rec) < 2 || len(rec) > 2+len(columns) {
			want := "want 2: id,private key PEM; name extra columns in a header row such as id,private_key,site"
			if len(columns) > 0 {
				want = fmt.Sprintf("want 2 to %d: id,private_key,%s", 2+len(columns), strings.Join(columns, ","))
			}
			return nil, nil, &FleetError{File: name, Line: line,
				Err: problem(ErrFields, "row has %d fields (%s)", len(rec), want)}
		}
		id := strings.TrimSpace(rec[0])
		if err := ValidateID(id); err != nil {
			return nil, nil, &FleetError{File: name, Line: line, DeviceID: id, Err: problem(ErrBadID, "%v", err)}
		}
		if prev, dup := seen[id]; dup {
			return nil, nil, &FleetError{File: name, Line: line, DeviceID: id,
				Err: problem(ErrDuplicateID, "device %s is also on line %d (list each device once)", id, prev)}
		}
		seen[id] = line
		row := fleetRow{line: line, id: id, key: rec[1]}
		if len(columns) > 0 {
			row.values = make([]string, len(columns))
			copy(row.values, rec[2:])
		}
		rows = append(rows, row)
	}
}

// extraColumns returns the names of a header row's columns after the key:
// each a name a scenario can use (letters, digits, '_', not starting with a
// digit), and each once.
func extraColumns(header []string) ([]string, error) {
	if len(header) <= 2 {
		return nil, nil
	}
	cols := make([]string, 0, len(header)-2)
	for i, h := range header[2:] {
		c := strings.TrimSpace(h)
		if !columnName.MatchString(c) {
			return nil, problem(ErrFields, "header column %d %q is not a name: use letters, digits and '_', starting with a letter", i+3, c)
		}
		if slices.Contains(cols, c) {
			return nil, problem(ErrFields, "header names column %q twice", c)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// columnName is what an extra column's header must look like.
var columnName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// isHeader reports whether a first row is a header such as "id,private_key".
func isHeader(rec []string) bool {
	switch strings.ToLower(strings.TrimSpace(rec[0])) {
	case "id", "device_id", "deviceid", "device id", "device":
		return true
	}
	return false
}

// csvError turns an encoding/csv error into a FleetError.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	msg := fmt.Sprintf("malformed CSV: %v at line %d column %d", pe.Err, pe.Line, pe.Column)
	if errors.Is(pe.Err, csv.ErrQuote) {
		msg += " (a quoted field is not closed: file truncated?)"
	}
	return &FleetError{File: name, Line: pe.StartLine, Err: problem(ErrCSV, "%s", msg)}
}

// EncodeRow writes d as one fleet-file row: "id,flattened PEM\n".
func EncodeRow(w io.Writer, d Device) error {
	if err := ValidateID(d.ID); err != nil {
		return err
	}
	p, err := marshalPrivateKey(d.Key)
	if err != nil {
		return fmt.Errorf("encode key of %s: %w", d.ID, err)
	}
	_, err = io.WriteString(w, d.ID+","+Flatten(p)+"\n")
	return err
}

// EncodeFleet writes devs as fleet-file rows, in order, without a header.
func EncodeFleet(w io.Writer, devs []Device) error {
	bw := bufio.NewWriter(w)
	for _, d := range devs {
		if err := EncodeRow(bw, d); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// AppendFleet returns the fleet file data with devs' rows appended. data is
// kept byte for byte; a newline is added first if its last line lacks one.
func AppendFleet(data []byte, devs []Device) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(data) + len(devs)*1700)
	b.Write(data)
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	if err := EncodeFleet(&b, devs); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// bom is the UTF-8 byte order mark that spreadsheet programs write at the
// start of the CSV files they save.
var bom = []byte("\uFEFF")

// WithoutBOM returns r past a leading UTF-8 byte order mark, so that a
// device list or registry saved by a spreadsheet reads as written.
func WithoutBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, _ := br.Peek(len(bom)); bytes.Equal(b, bom) {
		_, _ = br.Discard(len(bom))
	}
	return br
}
