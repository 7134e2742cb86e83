package device

import (
	"sync"
	"sync/atomic"
	"time"
)

// JWTSource hands out a device's MQTT password, a JWT from Mint, minting a new
// one only when the cached one is near its end. It is safe for concurrent use,
// and a cache hit allocates nothing.
//
// A token is renewed once less than its renewal margin is left:
// max(ttl/10, 1 minute), but at most ttl/2. With the default 60-minute TTL a
// token is used for 54 minutes, which leaves a device that connects just before
// renewal at least 6 minutes before the broker drops it, as IoT Core did, at exp.
type JWTSource struct {
	dev      Device
	audience string
	ttl      time.Duration
	margin   time.Duration

	mu  sync.Mutex // Serializes minting, so concurrent misses mint once.
	cur atomic.Pointer[cachedJWT]
}

// cachedJWT is a minted token with the times that govern its reuse.
type cachedJWT struct {
	token string
	exp   time.Time // the token's exp claim
	renew time.Time // mint a new one from here on
}

// NewJWTSource returns a JWTSource for d whose tokens carry audience (the
// project ID) and live ttl; zero ttl means DefaultTokenTTL. A ttl that
// ValidateTTL refuses makes every Password call fail.
func NewJWTSource(d Device, audience string, ttl time.Duration) *JWTSource {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	return &JWTSource{dev: d, audience: audience, ttl: ttl, margin: renewMargin(ttl)}
}

// renewMargin is how long before exp a token is replaced; see JWTSource.
func renewMargin(ttl time.Duration) time.Duration {
	return min(max(ttl/10, time.Minute), ttl/2)
}

// TTL returns the lifetime of the tokens the source mints.
func (s *JWTSource) TTL() time.Duration { return s.ttl }

// Password returns a token valid at now and its expiry time. It reuses the
// cached token until now reaches its renewal time, then mints one with iat now.
func (s *JWTSource) Password(now time.Time) (token string, exp time.Time, err error) {
	if c := s.cur.Load(); c != nil && now.Before(c.renew) {
		return c.token, c.exp, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cur.Load(); c != nil && now.Before(c.renew) {
		return c.token, c.exp, nil // another caller minted while we waited
	}
	tok, err := Mint(s.dev, s.audience, now, s.ttl)
	if err != nil {
		return "", time.Time{}, err
	}
	iat := now.Truncate(time.Second)
	exp = iat.Add(s.ttl.Truncate(time.Second))
	s.cur.Store(&cachedJWT{token: tok, exp: exp, renew: exp.Add(-s.margin)})
	return tok, exp, nil
}
