package device

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"
)

// Alg is the JWT signing algorithm of a device, which also fixes its key type.
type Alg string

// The algorithms a device can sign its JWTs with.
const (
	// RS256 is RSASSA-PKCS1-v1_5 with SHA-256 over an RSA key (2048 bits when
	// ltk makes it). It is the default, as in the original tutorial.
	RS256 Alg = "RS256"
	// ES256 is ECDSA with SHA-256 over an EC P-256 key. Its keys are much
	// faster to generate and its tokens faster to sign.
	ES256 Alg = "ES256"
)

// DefaultAlg is the algorithm of devices made without an explicit choice.
const DefaultAlg = RS256

// Algs lists the supported algorithms.
var Algs = []Alg{RS256, ES256}

// ParseAlg returns the Alg named by s, ignoring case.
func ParseAlg(s string) (Alg, error) {
	for _, a := range Algs {
		if strings.EqualFold(s, string(a)) {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown key algorithm %q (want RS256 or ES256)", s)
}

// String returns the algorithm's JWT name.
func (a Alg) String() string { return string(a) }

// minRSABits is the smallest RSA key ltk accepts, as Cloud IoT Core did.
const minRSABits = 2048

// algOfPublic returns the Alg that goes with a public key, or an error saying
// why the key is not supported, worded to follow "key for ID".
func algOfPublic(pub crypto.PublicKey) (Alg, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "", fmt.Errorf("is an RSA key with no modulus")
		}
		if bits := k.N.BitLen(); bits < minRSABits {
			return "", fmt.Errorf("is an RSA key of %d bits, which is too small (want at least %d)", bits, minRSABits)
		}
		return RS256, nil
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "", fmt.Errorf("is an EC key with no curve")
		}
		if k.Curve != elliptic.P256() {
			return "", fmt.Errorf("is an EC key on curve %s, which is not supported (want P-256 for ES256)", k.Curve.Params().Name)
		}
		return ES256, nil
	default:
		return "", fmt.Errorf("is a %T, which is not supported (want RSA for RS256 or EC P-256 for ES256)", pub)
	}
}

// AlgOf returns the Alg that goes with a public key (*rsa.PublicKey or
// *ecdsa.PublicKey on P-256), or an error saying why the key is not supported.
func AlgOf(pub crypto.PublicKey) (Alg, error) {
	alg, err := algOfPublic(pub)
	if err != nil {
		return "", fmt.Errorf("key %w", err)
	}
	return alg, nil
}
