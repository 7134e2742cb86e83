package device

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A file too big for one Kubernetes object (a device list of a million
// devices is about 250 MB) travels as parts: SplitParts cuts it into pieces
// of at most a given size, each becomes its own Secret or ConfigMap, and the
// pod that mounts them all into one directory reads them back in order with
// ReadParts. The cut needs no knowledge of CSV: the parts, concatenated in
// name order, are the file again byte for byte.

// SplitParts cuts data into pieces of at most size bytes (size ≥ 1), each
// ending at a line end where the piece has one, so that a part on its own is
// whole rows. A line longer than size is cut inside. Empty data gives one
// empty part. The parts share data's backing array.
func SplitParts(data []byte, size int) [][]byte {
	size = max(size, 1)
	if len(data) <= size {
		return [][]byte{data}
	}
	var parts [][]byte
	for len(data) > size {
		cut := bytes.LastIndexByte(data[:size], '\n') + 1
		if cut == 0 {
			cut = size // one line longer than a part
		}
		parts = append(parts, data[:cut:cut])
		data = data[cut:]
	}
	if len(data) > 0 {
		parts = append(parts, data)
	}
	return parts
}

// PartName is the file name of part i of a file called name, as ReadParts
// orders them: name itself for the first part, then name.00001, name.00002…
// (sorted by name, the parts keep their order up to 99,999 of them).
func PartName(name string, i int) string {
	if i == 0 {
		return name
	}
	return fmt.Sprintf("%s.%05d", name, i)
}

// ReadParts reads the file at path, or, when path is a directory, the
// concatenation of the regular files in it (symbolic links followed) in name
// order, skipping names that start with a dot: Kubernetes keeps its own
// bookkeeping (..data, ..2026_01_02…) there. A Secret or ConfigMap volume
// holding the parts of SplitParts, named by PartName, reads back as the
// file that was split.
func ReadParts(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return os.ReadFile(path)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var b bytes.Buffer
	for _, n := range names {
		p := filepath.Join(path, n)
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue // a subdirectory, or a link to one
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		_, err = b.ReadFrom(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return b.Bytes(), nil
}
