package web

import (
	"net/http"
	"strings"
)

// noListings serves h's files but no directory listings: a path ending in a
// slash, other than the root (the UI's index.html), is not found.
func noListings(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
