// Package scenarios holds the example scenario files ltk ships, embedded in
// the binary: `ltk scenario example` lists them and `ltk scenario example
// NAME` prints one, as a commented starting point.
package scenarios

import (
	"embed"
	"io/fs"
	"slices"
	"strings"
)

//go:embed *.yaml
var files embed.FS

// Names returns the examples' names (their file names without .yaml), sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Get returns the text of the example named name, and false if there is
// none.
func Get(name string) ([]byte, bool) {
	if !slices.Contains(Names(), name) {
		return nil, false
	}
	b, err := files.ReadFile(name + ".yaml")
	return b, err == nil
}
