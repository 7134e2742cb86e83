package target

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ltk-dev/ltk/internal/device"
)

// fuzzSecrets is a SecretStore of one azure device.
type fuzzSecrets map[string]string

func (s fuzzSecrets) Secret(d string) (string, bool) { v, ok := s[d]; return v, ok }

// FuzzAuthenticateSAS feeds arbitrary usernames and passwords to the SAS
// check of device "dev" of hub "h.azure-devices.net". Whatever it refuses
// must be a *refusal; whatever it accepts must name the hub and device and
// carry the signature that device.SASToken makes for its sr and se with
// the device's key, with se after the clock.
func FuzzAuthenticateSAS(f *testing.F) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	const hub, id = "h.azure-devices.net", "dev"
	good, err := device.SASToken(hub, id, key, fuzzNow.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	user := device.SASUsername(hub, id)
	f.Add(user, good)
	f.Add(user, strings.Replace(good, "sig=", "sig=A", 1))
	f.Add(user, "SharedAccessSignature sr=&sig=&se=")
	f.Add("h.azure-devices.net/dev/?", "SharedAccessSignature sr=h.azure-devices.net%2Fdevices%2Fdev&sig=%%&se=99999999999999999999")
	cfg := &Config{Auth: AuthSAS, Hub: hub, Secrets: fuzzSecrets{id: key}}
	a := newAuthenticator(cfg)
	a.now = func() time.Time { return fuzzNow }
	f.Fuzz(func(t *testing.T, username, token string) {
		exp, err := a.authenticateSAS(id, username, token)
		if err != nil {
			var r *refusal
			if !errors.As(err, &r) {
				t.Fatalf("refused without a reason: %v", err)
			}
			return
		}
		if !exp.After(fuzzNow) {
			t.Fatalf("accepted a token expired at %v", exp)
		}
		// An independent check of what was accepted: the fields as sent,
		// the resource, the expiry and an HMAC of the device's key.
		sr, sig, se, ok := splitSAS(token)
		res, err1 := url.QueryUnescape(sr)
		raw, err2 := url.QueryUnescape(sig)
		got, err3 := base64.StdEncoding.DecodeString(raw)
		k, _ := base64.StdEncoding.DecodeString(key)
		m := hmac.New(sha256.New, k)
		m.Write([]byte(sr + "\n" + se))
		if !ok || err1 != nil || err2 != nil || err3 != nil || !strings.EqualFold(res, hub+"/devices/"+id) ||
			!sameSecond(se, exp) || !hmac.Equal(got, m.Sum(nil)) || !strings.HasPrefix(username, hub+"/"+id+"/?") {
			t.Fatalf("accepted username %q and token %q", username, token)
		}
	})
}

// sameSecond reports whether se is exp in Unix seconds.
func sameSecond(se string, exp time.Time) bool {
	n, err := strconv.ParseInt(se, 10, 64)
	return err == nil && n == exp.Unix()
}
