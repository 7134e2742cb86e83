package device

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

// decodeClaims returns a token's claims as raw JSON values after checking its
// signature with d's public key.
func verify(t *testing.T, d Device, token string) map[string]json.RawMessage {
	t.Helper()
	tok, err := jwt.Parse(token, func(tok *jwt.Token) (any, error) { return d.Public(), nil },
		jwt.WithValidMethods([]string{string(d.Alg)}), jwt.WithoutClaimsValidation())
	require.NoError(t, err)
	require.True(t, tok.Valid)
	require.Equal(t, string(d.Alg), tok.Header["alg"])
	seg, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	require.NoError(t, err)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(seg, &raw))
	return raw
}

func TestMint(t *testing.T) {
	t.Parallel()
	devs := []Device{
		{ID: "LTK00001", Key: testRSAKey(), Alg: RS256},
		{ID: "LTK00002", Key: newECKey(t, elliptic.P256()), Alg: ES256},
	}
	iat := time.Date(2026, 11, 25, 20, 0, 0, 700_000_000, time.UTC)
	for _, d := range devs {
		t.Run(string(d.Alg), func(t *testing.T) {
			t.Parallel()
			tok, err := Mint(d, "my-project", iat, 20*time.Minute)
			require.NoError(t, err)
			claims := verify(t, d, tok)
			require.Equal(t, map[string]json.RawMessage{
				"iat": json.RawMessage("1795636800"),
				"exp": json.RawMessage("1795638000"),
				"aud": json.RawMessage(`"my-project"`), // a string, not an array
			}, claims)
		})
	}
}

func TestMintTTL(t *testing.T) {
	t.Parallel()
	d := Device{ID: "LTK00001", Key: newECKey(t, elliptic.P256()), Alg: ES256}
	for _, ttl := range []time.Duration{0, -time.Minute, 999 * time.Millisecond, 24*time.Hour + time.Second} {
		_, err := Mint(d, "p", time.Now(), ttl)
		require.ErrorContains(t, err, "want 1s to 24h", ttl)
	}
	for _, ttl := range []time.Duration{time.Second, 24 * time.Hour} {
		_, err := Mint(d, "p", time.Now(), ttl)
		require.NoError(t, err)
	}
	_, err := Mint(Device{ID: "X1"}, "p", time.Now(), time.Hour)
	require.ErrorContains(t, err, "not supported")
}

func TestJWTSource(t *testing.T) {
	t.Parallel()
	d := Device{ID: "LTK00001", Key: newECKey(t, elliptic.P256()), Alg: ES256}
	s := NewJWTSource(d, "proj", 0)
	require.Equal(t, DefaultTokenTTL, s.TTL())
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	tok1, exp1, err := s.Password(t0)
	require.NoError(t, err)
	require.Equal(t, t0.Add(time.Hour), exp1)
	require.JSONEq(t, "1767225600", string(verify(t, d, tok1)["iat"]))

	// Reused until 6 minutes (ttl/10) before exp.
	tok2, exp2, err := s.Password(t0.Add(53*time.Minute + 59*time.Second))
	require.NoError(t, err)
	require.Equal(t, tok1, tok2)
	require.Equal(t, exp1, exp2)

	tok3, exp3, err := s.Password(t0.Add(54 * time.Minute))
	require.NoError(t, err)
	require.NotEqual(t, tok1, tok3)
	require.Equal(t, t0.Add(114*time.Minute), exp3)

	bad := NewJWTSource(d, "proj", 25*time.Hour)
	_, _, err = bad.Password(t0)
	require.ErrorContains(t, err, "want 1s to 24h")
}

func TestRenewMargin(t *testing.T) {
	t.Parallel()
	for ttl, want := range map[time.Duration]time.Duration{
		time.Hour:       6 * time.Minute,
		24 * time.Hour:  144 * time.Minute,
		5 * time.Minute: time.Minute,
		time.Minute:     30 * time.Second,
		time.Second:     500 * time.Millisecond,
	} {
		require.Equal(t, want, renewMargin(ttl), ttl)
	}
}

func TestJWTSourceConcurrent(t *testing.T) {
	t.Parallel()
	d := Device{ID: "LTK00001", Key: newECKey(t, elliptic.P256()), Alg: ES256}
	s := NewJWTSource(d, "proj", 10*time.Minute)
	t0 := time.Now()
	var wg sync.WaitGroup
	tokens := make([][]string, 8)
	for g := range tokens {
		wg.Go(func() {
			for i := range 200 {
				now := t0.Add(time.Duration(i) * time.Second) // renews at 9 min = 540 s: never here
				tok, exp, err := s.Password(now)
				if err != nil || !exp.After(now) {
					t.Errorf("Password(%v) = exp %v, %v", now, exp, err)
					return
				}
				tokens[g] = append(tokens[g], tok)
			}
		})
	}
	wg.Wait()
	first := tokens[0][0]
	for _, ts := range tokens {
		for _, tok := range ts {
			require.Equal(t, first, tok, "concurrent misses mint once")
		}
	}
}

func TestJWTSourceHitAllocs(t *testing.T) {
	d := Device{ID: "LTK00001", Key: newECKey(t, elliptic.P256()), Alg: ES256}
	s := NewJWTSource(d, "proj", time.Hour)
	now := time.Now()
	_, _, err := s.Password(now)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, _, err := s.Password(now); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

func BenchmarkJWTSourceHit(b *testing.B) {
	d := Device{ID: "LTK00001", Key: newECKey(b, elliptic.P256()), Alg: ES256}
	s := NewJWTSource(d, "proj", time.Hour)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Password(now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMintES256(b *testing.B) {
	d := Device{ID: "LTK00001", Key: newECKey(b, elliptic.P256()), Alg: ES256}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Mint(d, "proj", now, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMintRS256(b *testing.B) {
	d := Device{ID: "LTK00001", Key: testRSAKey(), Alg: RS256}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Mint(d, "proj", now, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
