// Package awstest is an in-process fake of AWS IoT's control-plane API
// (REST-JSON, as aws-sdk-go-v2's service/iot speaks it) for tests: things,
// certificates (with and without a CA), CA certificates, policies and
// their attachments. It checks that every call is signed with SigV4 by the
// configured access key (not the signature itself).
package awstest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
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

var thingName = regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`)

func (s *Server) createThing(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("thingName")
	var in struct {
		AttributePayload struct {
			Attributes map[string]string `json:"attributes"`
		} `json:"attributePayload"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "CreateThing", name) {
		return
	}
	if !thingName.MatchString(name) {
		fail(w, http.StatusBadRequest, "InvalidRequestException", "thingName "+name+" does not match "+thingName.String())
		return
	}
	if t, ok := s.things[name]; ok && !mapsEqual(t.Attributes, in.AttributePayload.Attributes) {
		fail(w, http.StatusConflict, "ResourceAlreadyExistsException", "Thing "+name+" already exists with different tags", "resourceId", name, "resourceArn", s.arn("thing", name))
		return
	} else if !ok {
		s.things[name] = &Thing{Attributes: in.AttributePayload.Attributes}
	}
	reply(w, http.StatusOK, map[string]string{"thingName": name, "thingArn": s.arn("thing", name), "thingId": name})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func (s *Server) deleteThing(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("thingName")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "DeleteThing", name) {
		return
	}
	if t, ok := s.things[name]; ok && len(t.Principals) > 0 {
		fail(w, http.StatusBadRequest, "InvalidRequestException", "Cannot delete thing which has attached principals")
		return
	}
	delete(s.things, name) // deleting a thing that does not exist succeeds
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) listThings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("maxResults"))
	if err != nil || limit <= 0 || limit > 250 {
		limit = 50
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n, t := range s.things {
		if an := q.Get("attributeName"); an != "" && t.Attributes[an] != q.Get("attributeValue") {
			continue
		}
		if n > q.Get("nextToken") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	out := struct {
		Things    []map[string]any `json:"things"`
		NextToken string           `json:"nextToken,omitempty"`
	}{Things: []map[string]any{}}
	for _, n := range names[:min(limit, len(names))] {
		out.Things = append(out.Things, map[string]any{"thingName": n, "thingArn": s.arn("thing", n), "attributes": s.things[n].Attributes, "version": 1})
	}
	if len(names) > limit {
		out.NextToken = names[limit-1]
	}
	reply(w, http.StatusOK, out)
}

// principal is a certificate by the ARN in the x-amzn-principal header
// (or a body's target); s.mu is held.
func (s *Server) principal(w http.ResponseWriter, arn string) (*Certificate, bool) {
	for _, c := range s.certs {
		if c.ARN == arn {
			return c, true
		}
	}
	fail(w, http.StatusNotFound, "ResourceNotFoundException", "The certificate given in the principal does not exist: "+arn)
	return nil, false
}

func (s *Server) attachThingPrincipal(w http.ResponseWriter, r *http.Request) {
	name, arn := r.PathValue("thingName"), r.Header.Get("X-Amzn-Principal")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "AttachThingPrincipal", name) {
		return
	}
	t, ok := s.things[name]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Thing "+name+" cannot be found.")
		return
	}
	if _, ok := s.principal(w, arn); !ok {
		return
	}
	if !slices.Contains(t.Principals, arn) {
		t.Principals = append(t.Principals, arn)
	}
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) detachThingPrincipal(w http.ResponseWriter, r *http.Request) {
	name, arn := r.PathValue("thingName"), r.Header.Get("X-Amzn-Principal")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.things[name]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Thing "+name+" cannot be found.")
		return
	}
	t.Principals = slices.DeleteFunc(t.Principals, func(p string) bool { return p == arn })
	if id, ok := strings.CutPrefix(arn, s.arn("cert", "")); ok && s.lag > 0 {
		s.detached[id] = s.lag
	}
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) listThingPrincipals(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("thingName")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.things[name]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Thing "+name+" cannot be found.")
		return
	}
	reply(w, http.StatusOK, map[string]any{"principals": append([]string{}, t.Principals...)})
}

// parseCert parses one PEM certificate field, answering 400 when it is not.
func parseCert(w http.ResponseWriter, field, s string) (*x509.Certificate, bool) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		fail(w, http.StatusBadRequest, "CertificateValidationException", field+" is not a PEM certificate")
		return nil, false
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		fail(w, http.StatusBadRequest, "CertificateValidationException", field+": "+err.Error())
		return nil, false
	}
	return c, true
}

// certID is AWS's certificate id: the SHA-256 of its DER, hex.
func certID(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// registerCertificate serves RegisterCertificateWithoutCA and (with a
// caCertificatePem, which must be a registered, active CA that signed the
// certificate) RegisterCertificate.
func (s *Server) registerCertificate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CertificatePem   string `json:"certificatePem"`
		CACertificatePem string `json:"caCertificatePem"`
		Status           string `json:"status"`
	}
	if !decode(w, r, &in) {
		return
	}
	cert, ok := parseCert(w, "certificatePem", in.CertificatePem)
	if !ok {
		return
	}
	withCA := strings.HasSuffix(r.URL.Path, "/register")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing(w, "RegisterCertificate", cert.Subject.CommonName) {
		return
	}
	c := &Certificate{ID: certID(cert), PEM: in.CertificatePem, Status: in.Status}
	if c.Status == "" {
		c.Status = "INACTIVE"
	}
	if withCA {
		ca, ok := parseCert(w, "caCertificatePem", in.CACertificatePem)
		if !ok {
			return
		}
		reg, ok := s.cas[certID(ca)]
		if !ok || reg.Status != "ACTIVE" {
			fail(w, http.StatusNotFound, "ResourceNotFoundException", "The CA certificate is not registered or not active")
			return
		}
		if err := cert.CheckSignatureFrom(ca); err != nil {
			fail(w, http.StatusBadRequest, "CertificateValidationException", "The certificate is not signed by the CA: "+err.Error())
			return
		}
		c.CAID = reg.ID
	}
	if _, ok := s.certs[c.ID]; ok {
		fail(w, http.StatusConflict, "ResourceAlreadyExistsException", "The certificate is already provisioned or registered", "resourceId", c.ID, "resourceArn", s.arn("cert", c.ID))
		return
	}
	c.ARN = s.arn("cert", c.ID)
	s.certs[c.ID] = c
	reply(w, http.StatusOK, map[string]string{"certificateArn": c.ARN, "certificateId": c.ID})
}

func (s *Server) updateCertificate(w http.ResponseWriter, r *http.Request) {
	id, status := r.PathValue("certificateId"), r.URL.Query().Get("newStatus")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[id]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "The certificate "+id+" does not exist")
		return
	}
	c.Status = status
	w.WriteHeader(http.StatusOK)
}

// deleteCertificate refuses, as AWS does, an active certificate and one
// that a thing or a policy is attached to.
func (s *Server) deleteCertificate(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("certificateId")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[id]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "The certificate "+id+" does not exist")
		return
	}
	if c.Status == "ACTIVE" {
		fail(w, http.StatusNotAcceptable, "CertificateStateException", "Certificate must be deactivated before deletion")
		return
	}
	if s.detached[id] > 0 {
		s.detached[id]--
		fail(w, http.StatusConflict, "DeleteConflictException", "Things must be detached before deletion")
		return
	}
	for _, t := range s.things {
		if slices.Contains(t.Principals, c.ARN) {
			fail(w, http.StatusConflict, "DeleteConflictException", "Things must be detached before deletion")
			return
		}
	}
	for p, targets := range s.targets {
		if slices.Contains(targets, c.ARN) {
			fail(w, http.StatusConflict, "DeleteConflictException", "Policy "+p+" must be detached before deletion")
			return
		}
	}
	delete(s.certs, id)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) registrationCode(w http.ResponseWriter, _ *http.Request) {
	reply(w, http.StatusOK, map[string]string{"registrationCode": s.code})
}

// registerCA checks the verification certificate: signed by the CA, for
// the registration code.
func (s *Server) registerCA(w http.ResponseWriter, r *http.Request) {
	var in struct {
		CACertificate           string `json:"caCertificate"`
		VerificationCertificate string `json:"verificationCertificate"`
	}
	if !decode(w, r, &in) {
		return
	}
	ca, ok := parseCert(w, "caCertificate", in.CACertificate)
	if !ok {
		return
	}
	v, ok := parseCert(w, "verificationCertificate", in.VerificationCertificate)
	if !ok {
		return
	}
	if err := v.CheckSignatureFrom(ca); err != nil || v.Subject.CommonName != s.code {
		fail(w, http.StatusBadRequest, "CertificateValidationException", "The verification certificate is not signed by the CA for the registration code")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := certID(ca)
	if _, ok := s.cas[id]; ok {
		fail(w, http.StatusConflict, "ResourceAlreadyExistsException", "The CA certificate is already registered", "resourceId", id, "resourceArn", s.arn("cacert", id))
		return
	}
	status := "INACTIVE"
	if r.URL.Query().Get("setAsActive") == "true" {
		status = "ACTIVE"
	}
	s.cas[id] = &Certificate{ID: id, ARN: s.arn("cacert", id), PEM: in.CACertificate, Status: status}
	reply(w, http.StatusOK, map[string]string{"certificateArn": s.cas[id].ARN, "certificateId": id})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("policyName")
	s.mu.Lock()
	defer s.mu.Unlock()
	doc, ok := s.policies[name]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Policy not found")
		return
	}
	reply(w, http.StatusOK, map[string]string{"policyName": name, "policyArn": s.arn("policy", name), "policyDocument": doc})
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("policyName")
	var in struct {
		PolicyDocument string `json:"policyDocument"`
	}
	if !decode(w, r, &in) {
		return
	}
	if !json.Valid([]byte(in.PolicyDocument)) {
		fail(w, http.StatusBadRequest, "MalformedPolicyException", "The policy document is not JSON")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[name]; ok {
		fail(w, http.StatusConflict, "ResourceAlreadyExistsException", "Policy cannot be created - name already exists", "resourceId", name, "resourceArn", s.arn("policy", name))
		return
	}
	s.policies[name] = in.PolicyDocument
	reply(w, http.StatusOK, map[string]string{"policyName": name, "policyArn": s.arn("policy", name), "policyDocument": in.PolicyDocument, "policyVersionId": "1"})
}

// target reads the body's target and the path's policy, which must exist;
// s.mu is held.
func (s *Server) target(w http.ResponseWriter, r *http.Request) (policy, target string, ok bool) {
	var in struct {
		Target string `json:"target"`
	}
	if !decode(w, r, &in) {
		return "", "", false
	}
	policy = r.PathValue("policyName")
	if _, ok := s.policies[policy]; !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "Policy "+policy+" not found")
		return "", "", false
	}
	return policy, in.Target, true
}

func (s *Server) attachPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	policy, target, ok := s.target(w, r)
	if !ok {
		return
	}
	if _, ok := s.principal(w, target); !ok {
		return
	}
	if !slices.Contains(s.targets[policy], target) {
		s.targets[policy] = append(s.targets[policy], target)
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) detachPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	policy, target, ok := s.target(w, r)
	if !ok {
		return
	}
	s.targets[policy] = slices.DeleteFunc(s.targets[policy], func(t string) bool { return t == target })
	w.WriteHeader(http.StatusOK)
}

func (s *Server) listAttachedPolicies(w http.ResponseWriter, r *http.Request) {
	target := r.PathValue("target")
	s.mu.Lock()
	defer s.mu.Unlock()
	policies := []map[string]string{}
	for p, targets := range s.targets {
		if slices.Contains(targets, target) {
			policies = append(policies, map[string]string{"policyName": p, "policyArn": s.arn("policy", p)})
		}
	}
	reply(w, http.StatusOK, map[string]any{"policies": policies})
}
