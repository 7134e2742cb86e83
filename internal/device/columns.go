package device

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
)

// Credential columns of devicelist.csv that profiles other than IoT Core's
// read (a header row names them; see ReadFleetColumns).
const (
	ColumnCertificate  = "certificate"   // aws: the device's X.509 certificate, PEM flattened
	ColumnSymmetricKey = "symmetric_key" // azure: the device's symmetric key, base64
	ColumnUsername     = "username"      // generic: the device's MQTT username
	ColumnPassword     = "password"      // generic: the device's MQTT password
)

// Column returns the value of column name of a device whose values follow
// columns, and whether the file names that column and the row fills it.
func Column(columns []string, values []string, name string) (string, bool) {
	i := slices.Index(columns, name)
	if i < 0 || i >= len(values) || values[i] == "" {
		return "", false
	}
	return values[i], true
}

// AppendFleetColumns returns the fleet file data with devs' rows appended,
// each device's Values following columns. The file's header is kept or
// made so that it names every one of columns: a file without one gets
// "id,private_key,COLUMNS" first, and a header lacking some gets them at
// its end; other rows are kept byte for byte (a row may leave out trailing
// columns). Without columns it is AppendFleet.
func AppendFleetColumns(data []byte, devs []Device, columns []string) ([]byte, error) {
	if len(columns) == 0 {
		return AppendFleet(data, devs)
	}
	have, rest, err := splitHeader(data)
	if err != nil {
		return nil, err
	}
	all := slices.Clone(have)
	for _, c := range columns {
		if !slices.Contains(all, c) {
			all = append(all, c)
		}
	}
	var b bytes.Buffer
	b.WriteString("id,private_key," + strings.Join(all, ",") + "\n")
	b.Write(rest)
	if len(rest) > 0 && rest[len(rest)-1] != '\n' {
		b.WriteByte('\n')
	}
	at := make([]int, len(columns))
	for k, c := range columns {
		at[k] = slices.Index(all, c)
	}
	w := csv.NewWriter(&b)
	for _, d := range devs {
		key, err := marshalPrivateKey(d.Key)
		if err != nil {
			return nil, fmt.Errorf("encode key of %s: %w", d.ID, err)
		}
		row := make([]string, 2+len(all))
		row[0], row[1] = d.ID, Flatten(key)
		for k, v := range d.Values {
			row[2+at[k]] = v
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// splitHeader returns the extra columns a fleet file's header names and the
// data after the header line (all of data when it has no header).
func splitHeader(data []byte) ([]string, []byte, error) {
	data = bytes.TrimPrefix(data, bom)
	line, rest, _ := bytes.Cut(data, []byte("\n"))
	rec, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil || !isHeader(rec) {
		return nil, data, nil //nolint:nilerr // not a header: the data is all rows
	}
	cols, err := extraColumns(rec)
	return cols, rest, err
}
