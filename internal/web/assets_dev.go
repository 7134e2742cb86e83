//go:build dev

package web

import "net/http"

// assetHandler serves the UI from internal/web/ui on disk, so that UI edits
// show on reload without a rebuild. Build with -tags dev from the repository
// root.
func assetHandler() http.Handler {
	return noListings(http.FileServer(http.Dir("internal/web/ui")))
}
