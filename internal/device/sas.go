package device

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Azure IoT Hub's device credentials: a symmetric key per device, from
// which a device mints shared access signature (SAS) tokens
//
//	SharedAccessSignature sr={URL-encoded resource URI}&sig={signature}&se={expiry}
//
// where the resource URI is HUB/devices/D, expiry is in seconds since the
// Unix epoch and the signature is the URL-encoded base64 of HMAC-SHA256,
// keyed with the base64-decoded device key, over the URL-encoded resource
// URI, a newline and the expiry. Over MQTT the token is the password, the
// username HUB/D/?api-version=2021-04-12 and the client id D.

// SASAPIVersion is the IoT Hub API version devices name in their username.
const SASAPIVersion = "2021-04-12"

// symmetricKeyBytes is the size of the symmetric keys ltk makes (IoT Hub's
// own are 32 bytes, 44 base64 characters).
const symmetricKeyBytes = 32

// NewSymmetricKey returns a fresh device key, base64 encoded as IoT Hub
// shows and takes them.
func NewSymmetricKey() string {
	b := make([]byte, symmetricKeyBytes)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// SASResource returns the URL-encoded resource URI of device d on hub.
func SASResource(hub, d string) string { return url.QueryEscape(hub + "/devices/" + d) }

// SASUsername returns device d's MQTT username on hub.
func SASUsername(hub, d string) string { return hub + "/" + d + "/?api-version=" + SASAPIVersion }

// SASSignature returns the raw HMAC-SHA256 signature of an encoded resource
// URI and an expiry (decimal seconds) with key (raw bytes).
func SASSignature(key []byte, resource, expiry string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(resource + "\n" + expiry))
	return m.Sum(nil)
}

// SASToken returns a SAS token of device d on hub that expires at exp,
// signed with key (base64, as NewSymmetricKey makes).
func SASToken(hub, d, key string, exp time.Time) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) == 0 {
		return "", fmt.Errorf("symmetric key of %s is not base64: give the key IoT Hub shows (44 characters ending in '=')", d)
	}
	sr, se := SASResource(hub, d), strconv.FormatInt(exp.Unix(), 10)
	sig := base64.StdEncoding.EncodeToString(SASSignature(raw, sr, se))
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(sig) + "&se=" + se, nil
}

// SASSource mints a device's SAS tokens, each valid for its ttl: the
// password of a device on Azure IoT Hub, re-minted before it expires (the
// device reconnects ahead of expiry, as with JWTs). It is safe for
// concurrent use.
type SASSource struct {
	hub, id, key string
	ttl          time.Duration
}

// NewSASSource returns the token source of device d on hub with key
// (base64); zero ttl means DefaultTokenTTL.
func NewSASSource(hub, d, key string, ttl time.Duration) (*SASSource, error) {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if _, err := SASToken(hub, d, key, time.Now()); err != nil {
		return nil, err
	}
	return &SASSource{hub: hub, id: d, key: key, ttl: ttl}, nil
}

// Password returns a fresh token valid from now for the source's ttl.
func (s *SASSource) Password(now time.Time) (string, time.Time, error) {
	exp := now.Add(s.ttl).Truncate(time.Second)
	tok, err := SASToken(s.hub, s.id, s.key, exp)
	return tok, exp, err
}
