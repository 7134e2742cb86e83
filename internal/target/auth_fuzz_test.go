package target

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzNow is the fuzzed authenticator's clock; the committed seeds
// (testdata/fuzz/FuzzAuthenticate) are valid around it.
var fuzzNow = time.Unix(1_800_000_000, 0)

// fuzzECKey is a fixed P-256 key (scalar 1..32), so committed seed tokens
// keep valid signatures. It signs nothing outside this test.
func fuzzECKey(tb testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), bytes.Repeat([]byte{0x5a}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// FuzzAuthenticate feeds arbitrary passwords to the JWT check of devices
// "ec-dev" (ES256) and "rsa-dev" (RS256). Whatever it accepts must also pass
// an independent strict parse with the device's key (alg, signature, aud,
// numeric iat and exp, lifetime); whatever it refuses must be a *refusal.
func FuzzAuthenticate(f *testing.F) {
	ec := fuzzECKey(f)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	cfg := Config{Keys: fuzzKeys{"ec-dev": &ec.PublicKey, "rsa-dev": &rsaKey.PublicKey}}
	cfg.setDefaults()
	a := newAuthenticator(&cfg)
	a.now = func() time.Time { return fuzzNow }

	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	now := fuzzNow.Unix()
	good := jwt.MapClaims{"iat": now, "exp": now + 3600, "aud": DefaultProject}
	id := func(d string) string {
		return "projects/" + DefaultProject + "/locations/" + DefaultRegion + "/registries/" + DefaultRegistry + "/devices/" + d
	}
	if _, err := a.authenticate(id("ec-dev"), []byte(sign(jwt.SigningMethodES256, ec, good))); err != nil {
		f.Fatalf("the good seed is refused, so the oracle below would never run: %v", err)
	}
	f.Add(sign(jwt.SigningMethodES256, ec, good), false)
	f.Add(sign(jwt.SigningMethodRS256, rsaKey, good), true)
	f.Add(sign(jwt.SigningMethodES256, ec, jwt.MapClaims{"iat": now, "exp": "1800003600", "aud": DefaultProject}), false)
	f.Add(sign(jwt.SigningMethodHS256, []byte("k"), good), false)
	f.Add("", false)
	f.Add("a.b.c", true)

	f.Fuzz(func(t *testing.T, password string, useRSA bool) {
		d, key := "ec-dev", any(&ec.PublicKey)
		method := jwt.SigningMethod(jwt.SigningMethodES256)
		if useRSA {
			d, key, method = "rsa-dev", &rsaKey.PublicKey, jwt.SigningMethodRS256
		}
		exp, err := a.authenticate(id(d), []byte(password))
		if err != nil {
			var r *refusal
			if !errors.As(err, &r) {
				t.Fatalf("refusal %v is not a *refusal", err)
			}
			return
		}
		// An independent oracle: jwt's own validation, with MapClaims (a
		// string iat or exp is an invalid type there).
		c := jwt.MapClaims{}
		_, perr := jwt.NewParser(
			jwt.WithValidMethods([]string{method.Alg()}), jwt.WithAudience(DefaultProject),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(func() time.Time { return fuzzNow }),
			jwt.WithLeeway(ClockSkew),
		).ParseWithClaims(password, c, func(*jwt.Token) (any, error) { return key, nil })
		if perr != nil {
			t.Fatalf("accepted a token a strict parse refuses: %v", perr)
		}
		cexp, _ := c.GetExpirationTime()
		ciat, _ := c.GetIssuedAt()
		if ciat == nil || !exp.Equal(cexp.Time) || !exp.After(fuzzNow) || exp.Sub(ciat.Time) > DefaultMaxJWTLifetime {
			t.Fatalf("accepted exp %v (iat %v) at %v", exp, ciat, fuzzNow)
		}
	})
}

type fuzzKeys map[string]crypto.PublicKey

func (k fuzzKeys) PublicKey(d string) (crypto.PublicKey, bool) { v, ok := k[d]; return v, ok }
