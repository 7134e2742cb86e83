//go:build !dev

package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// ui holds the browser UI: plain HTML, CSS and JavaScript, and the vendored
// charting library, compiled into the binary so the UI works offline.
//
//go:embed ui
var ui embed.FS

// assetHandler serves the UI's files.
func assetHandler() http.Handler {
	sub, err := fs.Sub(ui, "ui")
	if err != nil {
		panic(err) // "ui" is embedded above; cannot happen
	}
	return noListings(http.FileServerFS(sub))
}
