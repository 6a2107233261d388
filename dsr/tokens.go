package dsr

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// TokenStore is implemented by the db layer (Postgres, row lock) — the dsr package must not
// import db. MemoryTokenStore is an in-memory implementation for tests.
type TokenStore interface {
	// Token returns the account's current pair (no lock). It returns an error wrapping
	// ErrNoToken when the account has none (never linked, or unlinked).
	Token(ctx context.Context, accountID int64) (*oauth2.Token, error)
	// WithRefreshLock runs fn holding the account's refresh lock (a Postgres row lock across
	// processes). fn receives the pair as stored at the moment the lock was taken; if fn
	// returns a new pair, the store saves it BEFORE releasing the lock, and returns it. If fn
	// returns nil, nothing is saved and the current pair is returned. If fn returns an error,
	// nothing is saved and the error is returned.
	WithRefreshLock(ctx context.Context, accountID int64, fn func(current *oauth2.Token) (*oauth2.Token, error)) (*oauth2.Token, error)
}

// ErrNoToken is what a TokenStore wraps when an account has no token pair.
var ErrNoToken = errors.New("dsr: no token for this account")

// expiryMargin: an access token this close to its expiry is refreshed first rather than
// sent to die on the way. Small, because the DSR's tokens can be short-lived and a token that
// does expire in flight costs only one refresh and one retry (the 401 path).
const expiryMargin = 3 * time.Second

// usable reports whether an access token can be sent now.
func usable(t *oauth2.Token, now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Add(expiryMargin).Before(t.Expiry))
}

// alive reports whether an access token has not expired at all (no margin): a token another
// worker has just refreshed is taken as is, even with a lifetime shorter than the margin.
func alive(t *oauth2.Token, now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Before(t.Expiry))
}

// Token returns a usable access token for the account, refreshing it when needed. At most
// one refresh per account runs at a time across goroutines (in-process lock) and processes
// (the store's lock); the others take the pair it saved.
func (c *Client) Token(ctx context.Context, accountID int64) (*oauth2.Token, error) {
	tok, err := c.storedToken(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if usable(tok, c.now()) {
		return tok, nil
	}
	return c.refresh(ctx, accountID, tok.AccessToken)
}

// ForceRefresh refreshes after the DSR refused staleAccessToken (401 TOKEN_INVALIDE) — unless
// the stored pair has moved on already, in which case that pair is returned without a call.
// A keeper that keeps refresh tokens alive calls it with the stored access token.
func (c *Client) ForceRefresh(ctx context.Context, accountID int64, staleAccessToken string) (*oauth2.Token, error) {
	return c.refresh(ctx, accountID, staleAccessToken)
}

// TokenSource adapts the account's tokens to oauth2.TokenSource.
func (c *Client) TokenSource(ctx context.Context, accountID int64) oauth2.TokenSource {
	return tokenSource{ctx: ctx, c: c, id: accountID}
}

type tokenSource struct {
	ctx context.Context
	c   *Client
	id  int64
}

func (s tokenSource) Token() (*oauth2.Token, error) { return s.c.Token(s.ctx, s.id) }

func (c *Client) storedToken(ctx context.Context, accountID int64) (*oauth2.Token, error) {
	tok, err := c.store.Token(ctx, accountID)
	switch {
	case errors.Is(err, ErrNoToken) || (err == nil && tok == nil):
		return nil, &Error{Kind: KindReconnect, Op: "load token", Message: describe(KindReconnect, 0)}
	case err != nil:
		// The store is the database: a hiccup there is worth a retry.
		return nil, &Error{Kind: KindTransient, Op: "load token", Message: "Lecture du jeton impossible.", cause: err}
	}
	return tok, nil
}

// refresh runs one refresh for the account unless the stored pair already differs from
// stale. Holding the in-process lock first means the goroutines of one process wait here,
// not on the database row, and usually find the new pair without touching the row lock.
func (c *Client) refresh(ctx context.Context, accountID int64, stale string) (*oauth2.Token, error) {
	unlock, err := c.locks.lock(ctx, accountID)
	if err != nil {
		return nil, &Error{Kind: KindTransient, Op: "refresh token", Message: "Attente du renouvellement du jeton interrompue.", cause: err}
	}
	defer unlock()

	if cur, err := c.storedToken(ctx, accountID); err == nil && cur.AccessToken != stale && alive(cur, c.now()) {
		return cur, nil
	}
	var result *oauth2.Token
	_, err = c.store.WithRefreshLock(ctx, accountID, func(cur *oauth2.Token) (*oauth2.Token, error) {
		if cur != nil && cur.AccessToken != stale && alive(cur, c.now()) {
			result = cur // another process refreshed while we waited for the row
			return nil, nil
		}
		if cur == nil || cur.RefreshToken == "" {
			return nil, &Error{Kind: KindReconnect, Op: "refresh token", Message: describe(KindReconnect, 0)}
		}
		fresh, err := c.refreshGrant(ctx, cur.RefreshToken)
		if err != nil {
			return nil, err
		}
		result = fresh
		return fresh, nil
	})
	if err != nil {
		if e, ok := AsError(err); ok {
			if e.Kind == KindReconnect {
				c.log.Warn("dsr: refresh refused, the office must reconnect", "account_id", accountID)
			}
			return nil, e
		}
		return nil, &Error{Kind: KindTransient, Op: "refresh token", Message: "Enregistrement du jeton impossible.", cause: err}
	}
	return result, nil
}

// refreshGrant spends a refresh token (rotation: it is dead afterwards) for a new pair.
func (c *Client) refreshGrant(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := c.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, tokenEndpointError("refresh token", err, refreshToken)
	}
	c.log.Info("dsr: token refreshed")
	return tok, nil
}

// RefreshExpiresIn is the refresh token's lifetime as the realm announced it with the pair
// (Keycloak's refresh_expires_in), 0 when unknown. Only a pair fresh from the token endpoint
// carries it.
func RefreshExpiresIn(t *oauth2.Token) time.Duration {
	if t == nil {
		return 0
	}
	switch v := t.Extra("refresh_expires_in").(type) {
	case float64:
		return time.Duration(v) * time.Second
	case int64:
		return time.Duration(v) * time.Second
	}
	return 0
}

// accountLocks is the in-process refresh lock, one per account. Channels rather than
// sync.Mutex so a waiter can give up when its context ends. Entries are never removed: one
// small channel per account the process has refreshed.
type accountLocks struct {
	mu sync.Mutex
	m  map[int64]chan struct{}
}

func (l *accountLocks) lock(ctx context.Context, id int64) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[int64]chan struct{}{}
	}
	ch, ok := l.m[id]
	if !ok {
		ch = make(chan struct{}, 1)
		l.m[id] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// MemoryTokenStore is a TokenStore in memory, for this package's tests and sandbox-driven
// tests. Production uses the Postgres store of the db layer, whose lock holds across processes.
type MemoryTokenStore struct {
	mu     sync.Mutex
	tokens map[int64]oauth2.Token
	rows   accountLocks // stands for the row lock
	saves  int
}

// NewMemoryTokenStore returns an empty store.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{tokens: map[int64]oauth2.Token{}}
}

// Put stores an account's pair (what the OAuth callback does).
func (s *MemoryTokenStore) Put(accountID int64, t *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[accountID] = *t
}

// Saves counts the pairs saved by WithRefreshLock.
func (s *MemoryTokenStore) Saves() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// Token implements TokenStore.
func (s *MemoryTokenStore) Token(_ context.Context, accountID int64) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[accountID]
	if !ok {
		return nil, ErrNoToken
	}
	return &t, nil
}

// WithRefreshLock implements TokenStore.
func (s *MemoryTokenStore) WithRefreshLock(ctx context.Context, accountID int64, fn func(*oauth2.Token) (*oauth2.Token, error)) (*oauth2.Token, error) {
	unlock, err := s.rows.lock(ctx, accountID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var current *oauth2.Token
	s.mu.Lock()
	if t, ok := s.tokens[accountID]; ok {
		current = &t
	}
	s.mu.Unlock()
	fresh, err := fn(current)
	if err != nil {
		return nil, err
	}
	if fresh == nil {
		return current, nil
	}
	s.mu.Lock()
	s.tokens[accountID] = *fresh
	s.saves++
	s.mu.Unlock()
	return fresh, nil
}
