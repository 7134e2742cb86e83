package target

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/ltk-dev/ltk/internal/echo"
)

type noKeys struct{}

func (noKeys) PublicKey(string) (crypto.PublicKey, bool) { return nil, false }

func TestCheckClaimsBoundaries(t *testing.T) {
	t.Parallel()
	cfg := Config{Keys: noKeys{}}
	cfg.setDefaults()
	now := time.Unix(1_800_000_000, 0)
	a := newAuthenticator(&cfg)
	a.now = func() time.Time { return now }
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	aud := jwt.ClaimStrings{DefaultProject}
	for _, tc := range []struct {
		name   string
		c      jwt.RegisteredClaims
		reason Reason // "" = accepted
	}{
		{"fresh", jwt.RegisteredClaims{IssuedAt: at(0), ExpiresAt: at(time.Hour), Audience: aud}, ""},
		{"exp now", jwt.RegisteredClaims{IssuedAt: at(-time.Hour), ExpiresAt: at(0), Audience: aud}, ReasonExpired},
		{"iat at the skew limit", jwt.RegisteredClaims{IssuedAt: at(ClockSkew), ExpiresAt: at(time.Hour), Audience: aud}, ""},
		{"iat past the skew", jwt.RegisteredClaims{IssuedAt: at(ClockSkew + time.Second), ExpiresAt: at(time.Hour), Audience: aud}, ReasonNotYetValid},
		{"two audiences", jwt.RegisteredClaims{IssuedAt: at(0), ExpiresAt: at(time.Hour), Audience: jwt.ClaimStrings{DefaultProject, "x"}}, ReasonWrongAudience},
		{"no audience", jwt.RegisteredClaims{IssuedAt: at(0), ExpiresAt: at(time.Hour)}, ReasonWrongAudience},
		{"24h", jwt.RegisteredClaims{IssuedAt: at(-time.Hour), ExpiresAt: at(23 * time.Hour), Audience: aud}, ""},
		{"24h+1s", jwt.RegisteredClaims{IssuedAt: at(-time.Hour), ExpiresAt: at(23*time.Hour + time.Second), Audience: aud}, ReasonLifetimeTooLong},
		{"no iat", jwt.RegisteredClaims{ExpiresAt: at(time.Hour), Audience: aud}, ReasonMalformedToken},
	} {
		_, err := a.checkClaims("d", &tc.c)
		if tc.reason == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		var r *refusal
		require.ErrorAs(t, err, &r, tc.name)
		require.Equal(t, tc.reason, r.reason, tc.name)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := func() Config { c := Config{Keys: noKeys{}}; c.setDefaults(); return c }
	c := valid()
	require.NoError(t, c.Validate())
	require.Equal(t, DefaultAddr, c.Addr)
	require.Equal(t, AuthJWT, c.Auth)
	for name, breakIt := range map[string]func(*Config){
		"jwt without keys":   func(c *Config) { c.Keys = nil },
		"unknown auth":       func(c *Config) { c.Auth = "basic" },
		"tls without a cert": func(c *Config) { c.TLSAddr = ":8883" },
		"project with slash": func(c *Config) { c.Project = "a/b" },
		"negative lifetime":  func(c *Config) { c.MaxJWTLifetime = -time.Second },
		"no pending writes":  func(c *Config) { c.MaxPendingWrites = -1 },
		"bad echo":           func(c *Config) { c.Echo = echo.Config{DropRate: 2} },
		"sas with a CA, no TLS listener": func(c *Config) {
			c.Auth, c.Secrets, c.ClientCA = AuthSAS, noSecrets{}, []byte("-----BEGIN CERTIFICATE-----")
		},
		"sas with a CA bundle of no certificate": func(c *Config) {
			c.Auth, c.Secrets, c.ClientCA, c.TLSAddr, c.TLSCertificate = AuthSAS, noSecrets{}, []byte("not PEM"), ":8883", &tls.Certificate{}
		},
	} {
		c := valid()
		breakIt(&c)
		require.Error(t, c.Validate(), name)
	}
	c = Config{Auth: AuthNone}
	c.setDefaults()
	require.NoError(t, c.Validate(), "auth none needs no keys")
	c = Config{Auth: AuthSAS, Secrets: noSecrets{}}
	c.setDefaults()
	require.NoError(t, c.Validate(), "sas without a CA needs no keys and no TLS")
}

// noSecrets is a SecretStore that holds none.
type noSecrets struct{}

func (noSecrets) Secret(string) (string, bool) { return "", false }

// BenchmarkAuthenticate is the cost of one device CONNECT check: RS256
// verification is cheap, ES256 (P-256) a little dearer.
func BenchmarkAuthenticate(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256"} {
		b.Run(alg, func(b *testing.B) {
			priv, pub, method := benchKey(b, alg)
			cfg := Config{Keys: oneKey{pub}}
			cfg.setDefaults()
			a := newAuthenticator(&cfg)
			now := time.Now()
			tok, err := jwt.NewWithClaims(method, jwt.RegisteredClaims{
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
				Audience: jwt.ClaimStrings{DefaultProject},
			}).SignedString(priv)
			if err != nil {
				b.Fatal(err)
			}
			id := "projects/" + DefaultProject + "/locations/" + DefaultRegion + "/registries/" + DefaultRegistry + "/devices/d"
			pw := []byte(tok)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.authenticate(id, pw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type oneKey struct{ k crypto.PublicKey }

func (o oneKey) PublicKey(string) (crypto.PublicKey, bool) { return o.k, true }

func benchKey(b *testing.B, alg string) (crypto.Signer, crypto.PublicKey, jwt.SigningMethod) {
	b.Helper()
	if alg == "ES256" {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		return k, &k.PublicKey, jwt.SigningMethodES256
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	return k, &k.PublicKey, jwt.SigningMethodRS256
}
