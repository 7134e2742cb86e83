package device

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token lifetimes. Cloud IoT Core refused device JWTs valid for more than a day.
const (
	DefaultTokenTTL = 60 * time.Minute
	MaxTokenTTL     = 24 * time.Hour
	MinTokenTTL     = time.Second
)

// ValidateTTL reports whether ttl can be the lifetime of a device JWT: from
// MinTokenTTL to MaxTokenTTL. Lifetimes are counted in whole seconds.
func ValidateTTL(ttl time.Duration) error {
	if ttl < MinTokenTTL || ttl > MaxTokenTTL {
		return fmt.Errorf("token lifetime %v is out of range (want 1s to 24h, as Cloud IoT Core allowed)", ttl)
	}
	return nil
}

// claims is the claim set of a Cloud IoT Core device JWT: exactly iat, exp and
// aud, with aud a single string (the project ID), not an array.
type claims struct {
	IssuedAt  int64  `json:"iat"`
	ExpiresAt int64  `json:"exp"`
	Audience  string `json:"aud"`
}

var _ jwt.Claims = claims{}

func (c claims) GetExpirationTime() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.ExpiresAt, 0)), nil
}
func (c claims) GetIssuedAt() (*jwt.NumericDate, error) {
	return jwt.NewNumericDate(time.Unix(c.IssuedAt, 0)), nil
}
func (c claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }
func (c claims) GetIssuer() (string, error)              { return "", nil }
func (c claims) GetSubject() (string, error)             { return "", nil }
func (c claims) GetAudience() (jwt.ClaimStrings, error)  { return jwt.ClaimStrings{c.Audience}, nil }

// Mint returns a JWT for d, as a Cloud IoT Core device sends it as its MQTT
// password: claims {iat, exp, aud} with iat the given time (in whole seconds),
// exp iat+ttl and aud the audience (the project ID), signed RS256 or ES256 with
// d's key.
func Mint(d Device, audience string, iat time.Time, ttl time.Duration) (string, error) {
	if err := ValidateTTL(ttl); err != nil {
		return "", err
	}
	var method jwt.SigningMethod
	switch d.Key.(type) {
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS256
	case *ecdsa.PrivateKey:
		method = jwt.SigningMethodES256
	default:
		return "", fmt.Errorf("mint JWT for %s: %T keys are not supported (want RSA or EC P-256)", d.ID, d.Key)
	}
	c := claims{IssuedAt: iat.Unix(), ExpiresAt: iat.Unix() + int64(ttl/time.Second), Audience: audience}
	tok, err := jwt.NewWithClaims(method, c).SignedString(d.Key)
	if err != nil {
		return "", fmt.Errorf("mint JWT for %s: %w", d.ID, err)
	}
	return tok, nil
}
