package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// basicAuth checks HTTP basic auth credentials. It keeps only hashes, and
// compares hashes in constant time, so neither the length nor the content
// of the secret leaks through timing.
type basicAuth struct {
	user, pass [sha256.Size]byte
}

func newBasicAuth(user, pass string) *basicAuth {
	return &basicAuth{user: sha256.Sum256([]byte(user)), pass: sha256.Sum256([]byte(pass))}
}

// ok reports whether r carries the right credentials.
func (a *basicAuth) ok(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	// Both compares always run: & rather than &&.
	return subtle.ConstantTimeCompare(u[:], a.user[:])&subtle.ConstantTimeCompare(p[:], a.pass[:]) == 1
}

// wrap requires the credentials for every request to h.
func (a *basicAuth) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.ok(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="ltk", charset="UTF-8"`)
			writeFailure(w, http.StatusUnauthorized, "authentication required: give the user and password set with --web-auth")
			return
		}
		h.ServeHTTP(w, r)
	})
}
