package worker

import (
	"context"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"livret/dsr"
)

// TokenCacheTTL is how long a worker process reuses an account's token pair read from
// Postgres before reading it again. Short: a pair another process refreshed meanwhile is at
// worst this old, and an old access token is either still valid or answered by a 401, after
// which the client's refresh takes the row lock and reads the stored pair (no second refresh).
const TokenCacheTTL = 5 * time.Second

// tokenCache keeps each account's pair in memory for TokenCacheTTL: a lesson's POST no longer
// costs a database read of its account's row (and an unseal). It holds the opened pair in
// memory only, as the client does during a call; it is never logged nor written anywhere.
type tokenCache struct {
	store dsr.TokenStore
	ttl   time.Duration
	now   func() time.Time

	mu   sync.Mutex
	byID map[int64]cachedPair
}

type cachedPair struct {
	tok *oauth2.Token
	at  time.Time
}

func newTokenCache(store dsr.TokenStore, ttl time.Duration) *tokenCache {
	return &tokenCache{store: store, ttl: ttl, now: time.Now, byID: map[int64]cachedPair{}}
}

// Token returns the account's pair, from memory when read less than ttl ago.
func (c *tokenCache) Token(ctx context.Context, accountID int64) (*oauth2.Token, error) {
	c.mu.Lock()
	p, ok := c.byID[accountID]
	c.mu.Unlock()
	if ok && c.now().Sub(p.at) < c.ttl {
		cp := *p.tok
		return &cp, nil
	}
	tok, err := c.store.Token(ctx, accountID)
	if err != nil || tok == nil {
		c.forget(accountID)
		return tok, err
	}
	cp := *tok
	c.mu.Lock()
	c.byID[accountID] = cachedPair{tok: &cp, at: c.now()}
	c.mu.Unlock()
	return tok, nil
}

// WithRefreshLock always goes to the store (the row lock is the cross-process truth); the
// account's cached pair is dropped before and after, so the next call reads what was saved.
func (c *tokenCache) WithRefreshLock(ctx context.Context, accountID int64, fn func(current *oauth2.Token) (*oauth2.Token, error)) (*oauth2.Token, error) {
	c.forget(accountID)
	defer c.forget(accountID)
	return c.store.WithRefreshLock(ctx, accountID, fn)
}

func (c *tokenCache) forget(accountID int64) {
	c.mu.Lock()
	delete(c.byID, accountID)
	c.mu.Unlock()
}
