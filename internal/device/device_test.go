package device

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseAlg(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Alg{"RS256": RS256, "rs256": RS256, "Es256": ES256, "ES256": ES256} {
		got, err := ParseAlg(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	for _, in := range []string{"", "HS256", "ES384", "RS 256"} {
		_, err := ParseAlg(in)
		require.ErrorContains(t, err, "want RS256 or ES256", in)
	}
}

func TestFormatID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "LTK00001", FormatID("LTK", 5, 1))
	require.Equal(t, "LTK00100", FormatID("LTK", 5, 100))
	require.Equal(t, "dev-042", FormatID("dev-", 3, 42))
	require.Equal(t, "LTK123456", FormatID("LTK", 5, 123456), "wider numbers are not cut")
}

func TestValidateID(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"LTK00001", "a", "dev-1.2_3~x", strings.Repeat("a", 128)} {
		require.NoError(t, ValidateID(ok), ok)
	}
	for bad, msg := range map[string]string{
		"":                       "empty",
		"1LTK":                   "must start with a letter",
		"-LTK":                   "must start with a letter",
		"LTK 1":                  "character ' '",
		"LTK/1":                  "character '/'",
		"LTK#1":                  "character '#'",
		"LTK+1":                  "character '+'",
		"LTK,1":                  "character ','",
		"LTKé":                   "character 'é'",
		strings.Repeat("a", 129): "129 characters long",
	} {
		require.ErrorContains(t, ValidateID(bad), msg, bad)
	}
}

func TestDeviceNeverPrintsKey(t *testing.T) {
	t.Parallel()
	d, err := Generate("LTK00001", ES256)
	require.NoError(t, err)
	raw, err := d.Key.(*ecdsa.PrivateKey).Bytes()
	require.NoError(t, err)
	secret := new(big.Int).SetBytes(raw).String() // the scalar as %v prints a *big.Int
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("device", "dev", d)
	for _, s := range []string{
		fmt.Sprint(d), fmt.Sprintf("%v %+v %s", d, d, d), fmt.Sprintf("%#v", d), logged.String(),
		fmt.Sprint([]Device{d}), fmt.Sprintf("%+v", struct{ D Device }{d}),
	} {
		require.NotContains(t, s, secret)
		require.Contains(t, s, "LTK00001")
	}
	require.Equal(t, "LTK00001 (ES256)", d.String())
	require.Contains(t, logged.String(), "dev.id=LTK00001 dev.alg=ES256")
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	d, err := Generate("LTK00001", RS256)
	require.NoError(t, err)
	require.Equal(t, 2048, d.Key.(*rsa.PrivateKey).N.BitLen())
	require.Equal(t, RS256, d.Alg)

	d, err = Generate("LTK00002", ES256)
	require.NoError(t, err)
	require.Equal(t, elliptic.P256(), d.Key.(*ecdsa.PrivateKey).Curve)
	alg, err := AlgOf(d.Public())
	require.NoError(t, err)
	require.Equal(t, ES256, alg)

	_, err = Generate("LTK00003", "HS256")
	require.ErrorContains(t, err, "unknown algorithm")
	_, err = Generate("bad id", ES256)
	require.ErrorContains(t, err, "character ' '")
}

func TestGenerateAll(t *testing.T) {
	t.Parallel()
	ids := []string{"A1", "A2", "A3", "A4", "A5", "A6", "A7"}
	var calls atomic.Int64
	devs, err := GenerateAll(t.Context(), ids, ES256, func() { calls.Add(1) })
	require.NoError(t, err)
	require.Len(t, devs, len(ids))
	for i, d := range devs {
		require.Equal(t, ids[i], d.ID)
		require.Equal(t, ES256, d.Alg)
		require.NotNil(t, d.Key)
	}
	require.Equal(t, int64(len(ids)), calls.Load())

	_, err = GenerateAll(t.Context(), []string{"A1", "9"}, ES256, nil)
	require.ErrorContains(t, err, "must start with a letter")
	_, err = GenerateAll(t.Context(), ids, "", nil)
	require.ErrorContains(t, err, "unknown algorithm")
}

func TestGenerateAllCancelled(t *testing.T) {
	t.Parallel()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = FormatID("LTK", 5, i+1)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var made atomic.Int64
	devs, err := GenerateAll(ctx, ids, ES256, func() {
		if made.Add(1) == 3 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Nil(t, devs)
	require.Less(t, made.Load(), int64(len(ids)), "generation stopped early")
}
