// Package awstest is an in-process fake of AWS IoT's control-plane API
// (REST-JSON, as aws-sdk-go-v2's service/iot speaks it) for tests: things,
// certificates (with and without a CA), CA certificates, policies and
// their attachments. It checks that every call is signed with SigV4 by the
// configured access key (not the signature itself).
package awstest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Account is the account id in the fake's ARNs.
const Account = "123456789012"

// Thing is a thing as the fake holds it.
type Thing struct {
	Attributes map[string]string
	Principals []string // certificate ARNs
}

// Certificate is a device or CA certificate as the fake holds it.
type Certificate struct {
	ID, ARN, PEM string
	Status       string // ACTIVE, INACTIVE
	CAID         string // the CA a device certificate was registered under; empty = none
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	srv           *httptest.Server
	keyID, region string
	code          string // the registration code

	mu       sync.Mutex // Guards the fields below.
	things   map[string]*Thing
	certs    map[string]*Certificate // by id
	cas      map[string]*Certificate // by id
	policies map[string]string       // name: document
	targets  map[string][]string     // policy name: attached certificate ARNs
	fail     map[string]bool         // "Operation thingName" calls that fail
	lag      int                     // deletions refused after a detachment
	detached map[string]int          // certificate id: deletions still refused
}

// Start serves a fake AWS IoT for region that accepts calls signed by
// keyID, until t ends.
func Start(t testing.TB, keyID, region string) *Server {
	t.Helper()
	s := &Server{
		keyID: keyID, region: region, code: rand.Text(),
		things: map[string]*Thing{}, certs: map[string]*Certificate{}, cas: map[string]*Certificate{},
		policies: map[string]string{}, targets: map[string][]string{}, fail: map[string]bool{},
		detached: map[string]int{},
	}
	mux := http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /things":                           s.listThings,
		"POST /things/{thingName}":              s.createThing,
		"DELETE /things/{thingName}":            s.deleteThing,
		"GET /things/{thingName}/principals":    s.listThingPrincipals,
		"PUT /things/{thingName}/principals":    s.attachThingPrincipal,
		"DELETE /things/{thingName}/principals": s.detachThingPrincipal,
		"POST /certificate/register-no-ca":      s.registerCertificate,
		"POST /certificate/register":            s.registerCertificate,
		"PUT /certificates/{certificateId}":     s.updateCertificate,
		"DELETE /certificates/{certificateId}":  s.deleteCertificate,
		"GET /registrationcode":                 s.registrationCode,
		"POST /cacertificate":                   s.registerCA,
		"GET /policies/{policyName}":            s.getPolicy,
		"POST /policies/{policyName}":           s.createPolicy,
		"PUT /target-policies/{policyName}":     s.attachPolicy,
		"POST /target-policies/{policyName}":    s.detachPolicy,
		"POST /attached-policies/{target}":      s.listAttachedPolicies,
	} {
		mux.Handle(pattern, h)
	}
	s.srv = httptest.NewServer(s.authorize(mux))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the API's base URL, for the SDK's BaseEndpoint.
func (s *Server) URL() string { return s.srv.URL }

// Fail makes calls of operation (CreateThing, AttachThingPrincipal, …)
// for thing fail with InvalidRequestException.
func (s *Server) Fail(operation, thing string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[operation+" "+thing] = true
}

// LagDetach makes the next n deletions of a certificate detached from a
// thing fail with DeleteConflictException, as AWS refuses them until the
// asynchronous detachment has propagated.
func (s *Server) LagDetach(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lag = n
}

// Things returns a copy of the things by name.
func (s *Server) Things() map[string]Thing {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Thing{}
	for n, t := range s.things {
		out[n] = Thing{Attributes: t.Attributes, Principals: slices.Clone(t.Principals)}
	}
	return out
}

// AddThing creates a thing, as another user of the account would.
func (s *Server) AddThing(name string, attributes map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.things[name] = &Thing{Attributes: attributes}
}

// Certificate returns the device certificate with the given ARN.
func (s *Server) Certificate(arn string) (Certificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.certs {
		if c.ARN == arn {
			return *c, true
		}
	}
	return Certificate{}, false
}

// Certificates returns how many device certificates are registered.
func (s *Server) Certificates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.certs)
}

// CAs returns the registered CA certificates.
func (s *Server) CAs() []Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Certificate
	for _, c := range s.cas {
		out = append(out, *c)
	}
	return out
}

// Policy returns the document of a policy.
func (s *Server) Policy(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.policies[name]
	return doc, ok
}

// AddPolicy creates a policy, as an account's administrator would.
func (s *Server) AddPolicy(name, doc string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[name] = doc
}

// Targets returns the certificate ARNs a policy is attached to.
func (s *Server) Targets(policy string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.targets[policy])
}

// authorize refuses calls not signed with SigV4 by the fake's key for its
// region and the iot service, as AWS refuses an unknown key, and any call
// that carries a private key, which must never leave the machine.
func (s *Server) authorize(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			fail(w, http.StatusBadRequest, "InvalidRequestException", "read the body: "+err.Error())
			return
		}
		if bytes.Contains(body, []byte("PRIVATE KEY")) {
			fail(w, http.StatusBadRequest, "InvalidRequestException", "awstest: the request carries a private key")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		auth := r.Header.Get("Authorization")
		scope, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 Credential=")
		want := s.keyID + "/" + r.Header.Get("X-Amz-Date")[:min(8, len(r.Header.Get("X-Amz-Date")))] + "/" + s.region + "/iot/aws4_request,"
		switch {
		case !ok || !strings.Contains(auth, "Signature=") || r.Header.Get("X-Amz-Date") == "":
			fail(w, http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		case !strings.HasPrefix(scope, want):
			fail(w, http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid.")
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// fail writes an AWS error: its type in X-Amzn-ErrorType, its message in the body.
func fail(w http.ResponseWriter, status int, code, msg string, extra ...string) {
	body := map[string]string{"message": msg}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	w.Header().Set("X-Amzn-ErrorType", code)
	reply(w, status, body)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v, answering 400 when it is not.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		fail(w, http.StatusBadRequest, "InvalidRequestException", "body: "+err.Error())
		return false
	}
	return true
}

// failing reports (and answers) an injected failure; s.mu is held.
func (s *Server) failing(w http.ResponseWriter, operation, thing string) bool {
	if s.fail[operation+" "+thing] {
		fail(w, http.StatusBadRequest, "InvalidRequestException", operation+" of "+thing+" fails (injected)")
		return true
	}
	return false
}

func (s *Server) arn(kind, name string) string {
	return "arn:aws:iot:" + s.region + ":" + Account + ":" + kind + "/" + name
}
