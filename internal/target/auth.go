package target

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Reason is why a connection was refused; the values are the bounded label
// set of ltk_target_connects_refused_total.
type Reason string

// Refusal reasons.
const (
	ReasonBadClientID     Reason = "bad_client_id"     // not projects/P/locations/R/registries/G/devices/D of this target
	ReasonUnknownDevice   Reason = "unknown_device"    // D is not in the registry
	ReasonBadSignature    Reason = "bad_signature"     // not signed by D's key with its algorithm (or a wrong back-end token)
	ReasonExpired         Reason = "expired"           // exp is not in the future
	ReasonNotYetValid     Reason = "not_yet_valid"     // iat is further than ClockSkew in the future
	ReasonWrongAudience   Reason = "wrong_audience"    // aud is not the project
	ReasonLifetimeTooLong Reason = "lifetime_too_long" // exp - iat exceeds MaxJWTLifetime
	ReasonMalformedToken  Reason = "malformed_token"   // not a JWT, no iat/exp, or iat/exp not numbers
	ReasonNoPassword      Reason = "no_password"       // no or an empty password (CONNACK "bad user name or password")
	ReasonWillNotAllowed  Reason = "will_not_allowed"  // the Will's topic is one the client may not publish to
	ReasonWillInvalid     Reason = "will_invalid"      // the Will's topic has a wildcard
	ReasonConnectTooLarge Reason = "connect_too_large" // the CONNECT announced more than MaxConnectSize bytes
	ReasonConnectTimeout  Reason = "connect_timeout"   // no whole CONNECT within ConnectTimeout
	// Profile auth (profile_auth.go).
	ReasonNoCertificate     Reason = "no_certificate"             // AuthCert: no client certificate
	ReasonUnknownCA         Reason = "unknown_ca"                 // AuthCert: the certificate does not chain to the CA (or has expired)
	ReasonCNMismatch        Reason = "cn_mismatch"                // AuthCert: the certificate's CN is not the client id
	ReasonCertNotRegistered Reason = "certificate_not_registered" // AuthCert: the certificate is not for the device's registered key
	ReasonBadUsername       Reason = "bad_username"               // AuthSAS: username is not HUB/D/?api-version=…
	ReasonWrongResource     Reason = "wrong_resource"             // AuthSAS: sr is not HUB/devices/D
	ReasonWrongPassword     Reason = "wrong_password"             // AuthDevicePassword: not the device's password
)

// Reasons lists every refusal reason.
var Reasons = []Reason{
	ReasonBadClientID, ReasonUnknownDevice, ReasonBadSignature, ReasonExpired,
	ReasonNotYetValid, ReasonWrongAudience, ReasonLifetimeTooLong, ReasonMalformedToken,
	ReasonNoPassword, ReasonWillNotAllowed, ReasonWillInvalid, ReasonConnectTooLarge, ReasonConnectTimeout,
	ReasonNoCertificate, ReasonUnknownCA, ReasonCNMismatch, ReasonCertNotRegistered,
	ReasonBadUsername, ReasonWrongResource, ReasonWrongPassword,
}

// refusal is an authentication failure with its reason. The message is for
// debug logs only; it never contains the token.
type refusal struct {
	reason Reason
	msg    string
}

func (r *refusal) Error() string { return string(r.reason) + ": " + r.msg }

func refuse(reason Reason, format string, args ...any) error {
	return &refusal{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// deviceID returns the device a client id stands for: the last element of an
// IoT-Core style id, else the whole id.
func deviceID(clientID string) string {
	if _, _, _, d, ok := splitClientID(clientID); ok {
		return d
	}
	return clientID
}

// splitClientID splits projects/P/locations/R/registries/G/devices/D.
func splitClientID(id string) (project, region, registry, device string, ok bool) {
	var parts [8]string
	rest := id
	for i := range parts {
		if i == len(parts)-1 {
			parts[i] = rest
			break
		}
		var found bool
		parts[i], rest, found = strings.Cut(rest, "/")
		if !found {
			return "", "", "", "", false
		}
	}
	if parts[0] != "projects" || parts[2] != "locations" || parts[4] != "registries" || parts[6] != "devices" {
		return "", "", "", "", false
	}
	for _, p := range []string{parts[1], parts[3], parts[5], parts[7]} {
		if p == "" || !validPathElement(p) {
			return "", "", "", "", false
		}
	}
	return parts[1], parts[3], parts[5], parts[7], true
}

// authenticator checks device credentials the way Cloud IoT Core did.
type authenticator struct {
	cfg       *Config
	parser    *jwt.Parser
	clientCAs *x509.CertPool // from cfg.ClientCA; nil without one
	now       func() time.Time
}

func newAuthenticator(cfg *Config) *authenticator {
	var pool *x509.CertPool
	if len(cfg.ClientCA) > 0 {
		pool = x509.NewCertPool()
		pool.AppendCertsFromPEM(cfg.ClientCA) // Validate checked that it holds a certificate
	}
	return &authenticator{
		clientCAs: pool,
		cfg:       cfg,
		// Claims are checked below, to tell the reasons apart.
		parser: jwt.NewParser(jwt.WithoutClaimsValidation()),
		now:    time.Now,
	}
}

// authenticate checks a CONNECT's client id and password. It returns the JWT's
// expiry for devices (zero for back ends and AuthNone).
func (a *authenticator) authenticate(clientID string, password []byte) (time.Time, error) {
	if a.cfg.Auth != AuthNone && len(password) == 0 {
		return time.Time{}, refuse(ReasonNoPassword, "client %q sent no password", clientID)
	}
	if a.isBackend(clientID) {
		return time.Time{}, a.backend(clientID, password)
	}
	if a.cfg.Auth == AuthNone {
		return time.Time{}, nil
	}
	p, r, g, d, ok := splitClientID(clientID)
	if !ok {
		return time.Time{}, refuse(ReasonBadClientID, "client id %q is not projects/P/locations/R/registries/G/devices/D", clientID)
	}
	if p != a.cfg.Project || r != a.cfg.Region || g != a.cfg.Registry {
		return time.Time{}, refuse(ReasonBadClientID, "client id %q is for another registry (this target is projects/%s/locations/%s/registries/%s)",
			clientID, a.cfg.Project, a.cfg.Region, a.cfg.Registry)
	}
	key, ok := a.cfg.Keys.PublicKey(d)
	if !ok {
		return time.Time{}, refuse(ReasonUnknownDevice, "device %q is not registered", d)
	}
	var claims strictClaims
	_, err := a.parser.ParseWithClaims(string(password), &claims, func(t *jwt.Token) (any, error) {
		switch k := key.(type) {
		case *rsa.PublicKey:
			if t.Method != jwt.SigningMethodRS256 {
				return nil, fmt.Errorf("device %q has an RSA key; want RS256, got %v", d, t.Header["alg"])
			}
			return k, nil
		case *ecdsa.PublicKey:
			if t.Method != jwt.SigningMethodES256 {
				return nil, fmt.Errorf("device %q has an EC key; want ES256, got %v", d, t.Header["alg"])
			}
			return k, nil
		default:
			return nil, fmt.Errorf("device %q has an unsupported key type %T", d, key)
		}
	})
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, errClaimNotNumber):
		return time.Time{}, refuse(ReasonMalformedToken, "device %q: password is not a JWT", d)
	case err != nil:
		return time.Time{}, refuse(ReasonBadSignature, "device %q: %v", d, err)
	}
	return a.checkClaims(d, &claims.RegisteredClaims)
}

// errClaimNotNumber refuses a token whose iat or exp is not a JSON number.
var errClaimNotNumber = errors.New("iat and exp must be JSON numbers")

// strictClaims are RegisteredClaims whose iat and exp must be JSON numbers:
// jwt/v5 decodes NumericDate through json.Number, which also takes a string
// such as "9999999999", and RFC 7519 section 2 defines NumericDate as a number.
type strictClaims struct {
	jwt.RegisteredClaims
}

// UnmarshalJSON decodes the claims, refusing a string (or any non-number) iat or exp.
func (c *strictClaims) UnmarshalJSON(b []byte) error {
	var raw struct {
		IssuedAt  json.RawMessage `json:"iat"`
		ExpiresAt json.RawMessage `json:"exp"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, v := range []json.RawMessage{raw.IssuedAt, raw.ExpiresAt} {
		if len(v) > 0 && v[0] != '-' && (v[0] < '0' || v[0] > '9') && string(v) != "null" {
			return errClaimNotNumber
		}
	}
	return json.Unmarshal(b, &c.RegisteredClaims)
}

// checkClaims applies IoT Core's rules to a verified token's claims.
func (a *authenticator) checkClaims(d string, c *jwt.RegisteredClaims) (time.Time, error) {
	if c.ExpiresAt == nil || c.IssuedAt == nil {
		return time.Time{}, refuse(ReasonMalformedToken, "device %q: JWT needs both iat and exp", d)
	}
	now := a.now()
	exp, iat := c.ExpiresAt.Time, c.IssuedAt.Time
	switch {
	case !exp.After(now):
		return time.Time{}, refuse(ReasonExpired, "device %q: JWT expired at %s", d, exp.UTC().Format(time.RFC3339))
	case iat.After(now.Add(ClockSkew)):
		return time.Time{}, refuse(ReasonNotYetValid, "device %q: JWT issued in the future (%s)", d, iat.UTC().Format(time.RFC3339))
	case len(c.Audience) != 1 || c.Audience[0] != a.cfg.Project:
		return time.Time{}, refuse(ReasonWrongAudience, "device %q: JWT aud %q, want %q", d, []string(c.Audience), a.cfg.Project)
	case exp.Sub(iat) > a.cfg.MaxJWTLifetime:
		return time.Time{}, refuse(ReasonLifetimeTooLong, "device %q: JWT lifetime %v exceeds %v", d, exp.Sub(iat), a.cfg.MaxJWTLifetime)
	}
	return exp, nil
}

// backend checks a back-end client's password: its token, unless auth is
// AuthNone.
func (a *authenticator) backend(clientID string, password []byte) error {
	if a.cfg.Auth == AuthNone {
		return nil
	}
	tok := a.cfg.BackendToken
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), password) != 1 {
		return refuse(ReasonBadSignature, "back-end client %q: wrong or no back-end token", clientID)
	}
	return nil
}

func (a *authenticator) isBackend(clientID string) bool {
	return a.cfg.BackendPrefix != "" && strings.HasPrefix(clientID, a.cfg.BackendPrefix)
}
