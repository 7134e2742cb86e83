package awstest

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
)

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
	c, ok := s.cert(w, id)
	if !ok {
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
	c, ok := s.cert(w, id)
	if !ok {
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

// cert returns the device certificate with the given id, answering 404
// when there is none; s.mu is held.
func (s *Server) cert(w http.ResponseWriter, id string) (*Certificate, bool) {
	c, ok := s.certs[id]
	if !ok {
		fail(w, http.StatusNotFound, "ResourceNotFoundException", "The certificate "+id+" does not exist")
	}
	return c, ok
}
