package poll

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Token is an access token and when it stops working. A zero Expiry means
// the API did not say; the token is then used until it is refused.
type Token struct {
	Value  string
	Expiry time.Time
}

// refreshMargin is how long before its expiry a token is replaced, so that
// a request never leaves with a token about to lapse.
const refreshMargin = time.Minute

// TokenCache is an Authorizer that fetches a token when it has none or the
// one it has is about to expire, and keeps it otherwise.
type TokenCache struct {
	fetch func(ctx context.Context) (Token, error)
	now   func() time.Time

	mu        sync.Mutex
	tok       Token
	refreshAt time.Time // zero: keep until invalidated
}

// NewTokenCache returns a cache that gets tokens from fetch and reads the
// time from now.
func NewTokenCache(now func() time.Time, fetch func(ctx context.Context) (Token, error)) *TokenCache {
	return &TokenCache{fetch: fetch, now: now}
}

// Token returns the cached token, or fetches one.
func (c *TokenCache) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.tok.Value != "" && (c.refreshAt.IsZero() || now.Before(c.refreshAt)) {
		return c.tok.Value, nil
	}
	t, err := c.fetch(ctx)
	if err != nil {
		return "", err
	}
	if t.Value == "" {
		return "", errors.New("token endpoint returned an empty access token")
	}
	c.tok = t
	c.refreshAt = time.Time{}
	if !t.Expiry.IsZero() {
		// Refresh a minute early, or halfway through a shorter life.
		life := t.Expiry.Sub(now)
		c.refreshAt = t.Expiry.Add(-min(refreshMargin, life/2))
	}
	return t.Value, nil
}

// Invalidate drops token if it is the cached one.
func (c *TokenCache) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Value == token {
		c.tok = Token{}
		c.refreshAt = time.Time{}
	}
}
