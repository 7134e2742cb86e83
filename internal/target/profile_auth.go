package target

import (
	"crypto"
	"crypto/hmac"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/ltk-dev/ltk/internal/device"
	"github.com/ltk-dev/ltk/internal/registry"
)

// Device auth of the profiles other than IoT Core's: AWS IoT Core's client
// certificates, Azure IoT Hub's SAS tokens and CA-signed X.509 devices, a
// broker's per-device passwords. Each refusal has its Reason; the CONNACK is the one every
// refusal gets (connackCode): "not authorized".

// connect authenticates a CONNECT under the configured auth.
func (a *authenticator) connect(cl *mqtt.Client, pk packets.Packet) (time.Time, error) {
	id, password := cl.ID, pk.Connect.Password
	switch a.cfg.Auth {
	case AuthCert:
		if a.isBackend(id) {
			return time.Time{}, a.backend(id, password)
		}
		return time.Time{}, a.authenticateCert(id, peerCertificates(cl.Net.Conn))
	case AuthSAS:
		if a.isBackend(id) {
			if len(password) == 0 {
				return time.Time{}, refuse(ReasonNoPassword, "client %q sent no password", id)
			}
			return time.Time{}, a.backend(id, password)
		}
		return a.authenticateHub(id, string(pk.Connect.Username), password, cl.Net.Conn)
	case AuthDevicePassword:
		if len(password) == 0 {
			return time.Time{}, refuse(ReasonNoPassword, "client %q sent no password", id)
		}
		if a.isBackend(id) {
			return time.Time{}, a.backend(id, password)
		}
		return time.Time{}, a.authenticatePassword(id, password)
	}
	return a.authenticate(id, password)
}

// peerCertificates returns the client certificates of a TLS connection
// under the gate's wrappers; nil for a plain one.
func peerCertificates(c net.Conn) []*x509.Certificate {
	for {
		switch v := c.(type) {
		case *tls.Conn:
			return v.ConnectionState().PeerCertificates
		case *gatedConn:
			c = v.Conn
		case *guardedConn:
			c = v.Conn
		default:
			return nil
		}
	}
}

// authenticateCert checks a device's client certificate as AWS IoT Core
// (and IoT Hub, for CA-signed devices) does: it chains to the CA, its CN
// is the client id (the thing name, the device id), and it is for the key
// registered for that device.
func (a *authenticator) authenticateCert(id string, chain []*x509.Certificate) error {
	if len(chain) == 0 {
		return refuse(ReasonNoCertificate, "client %q presented no client certificate", id)
	}
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: a.clientCAs, Intermediates: inter, CurrentTime: a.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return refuse(ReasonUnknownCA, "client %q: certificate %q: %v", id, leaf.Subject.CommonName, err)
	}
	if leaf.Subject.CommonName != id {
		return refuse(ReasonCNMismatch, "client id %q differs from its certificate's CN %q", id, leaf.Subject.CommonName)
	}
	key, ok := a.cfg.Keys.PublicKey(id)
	if !ok {
		return refuse(ReasonUnknownDevice, "device %q is not registered", id)
	}
	if k, ok := key.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(leaf.PublicKey) {
		return refuse(ReasonCertNotRegistered, "device %q: the certificate is not for its registered key", id)
	}
	return nil
}

// authenticateHub checks an IoT Hub device as the hub does: the username
// names the hub and the device, and then the device authenticates the way
// its registry entry says: a SAS token signed with its symmetric key when
// the entry holds one (Secrets), else (a CA-signed X.509 device) a client
// certificate that chains to ClientCA, whose CN is the device id, for the
// key Keys holds; its password, if any, is not read. It returns a SAS
// token's expiry (zero for X.509).
func (a *authenticator) authenticateHub(id, username string, password []byte, conn net.Conn) (time.Time, error) {
	hub := a.cfg.Hub
	rest, ok := strings.CutPrefix(username, hub+"/"+id+"/?")
	if !ok || !strings.Contains(rest, "api-version=") {
		return time.Time{}, refuse(ReasonBadUsername, "client %q: username %q is not %s/%s/?api-version=%s", id, username, hub, id, device.SASAPIVersion)
	}
	key, ok := a.cfg.Secrets.Secret(id)
	if ok {
		if len(password) == 0 {
			return time.Time{}, refuse(ReasonNoPassword, "client %q sent no password", id)
		}
		return a.authenticateSAS(id, key, string(password))
	}
	if a.cfg.Keys == nil || a.clientCAs == nil {
		return time.Time{}, refuse(ReasonUnknownDevice, "device %q is not registered", id)
	}
	if _, ok := a.cfg.Keys.PublicKey(id); !ok {
		return time.Time{}, refuse(ReasonUnknownDevice, "device %q is not registered", id)
	}
	return time.Time{}, a.authenticateCert(id, peerCertificates(conn))
}

// authenticateSAS checks an IoT Hub device's SAS token (device.SASToken)
// against its symmetric key (base64) and returns the token's expiry.
func (a *authenticator) authenticateSAS(id, key, token string) (time.Time, error) {
	hub := a.cfg.Hub
	sr, sig, se, ok := splitSAS(token)
	if !ok {
		return time.Time{}, refuse(ReasonMalformedToken, "device %q: password is not SharedAccessSignature sr=…&sig=…&se=…", id)
	}
	secs, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return time.Time{}, refuse(ReasonMalformedToken, "device %q: SAS se %q is not a number of seconds", id, se)
	}
	if res, err := url.QueryUnescape(sr); err != nil || !strings.EqualFold(res, hub+"/devices/"+id) {
		return time.Time{}, refuse(ReasonWrongResource, "device %q: SAS sr %q is not %s/devices/%s", id, sr, hub, id)
	}
	exp := time.Unix(secs, 0)
	if !exp.After(a.now()) {
		return time.Time{}, refuse(ReasonExpired, "device %q: SAS token expired at %s", id, exp.UTC().Format(time.RFC3339))
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	got, err2 := url.QueryUnescape(sig)
	want, err3 := base64.StdEncoding.DecodeString(got)
	if err != nil || err2 != nil || err3 != nil || !hmac.Equal(want, device.SASSignature(raw, sr, se)) {
		return time.Time{}, refuse(ReasonBadSignature, "device %q: SAS signature does not match its key", id)
	}
	return exp, nil
}

// splitSAS returns the fields of a SAS token, as sent (URL-encoded).
func splitSAS(token string) (sr, sig, se string, ok bool) {
	rest, ok := strings.CutPrefix(token, "SharedAccessSignature ")
	if !ok {
		return "", "", "", false
	}
	for f := range strings.SplitSeq(rest, "&") {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "sr":
			sr = v
		case "sig":
			sig = v
		case "se":
			se = v
		}
	}
	return sr, sig, se, sr != "" && sig != "" && se != ""
}

// authenticatePassword checks a device's own password against the hash
// the registry holds.
func (a *authenticator) authenticatePassword(id string, password []byte) error {
	want, ok := a.cfg.Secrets.Secret(id)
	if !ok {
		return refuse(ReasonUnknownDevice, "device %q is not registered", id)
	}
	if subtle.ConstantTimeCompare([]byte(registry.PasswordHash(string(password))), []byte(want)) != 1 {
		return refuse(ReasonWrongPassword, "device %q: wrong password", id)
	}
	return nil
}
