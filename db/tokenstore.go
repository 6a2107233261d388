package db

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"livret/db/dbq"
)

// TokenStore keeps RdvPermis accounts' OAuth pairs encrypted in Postgres. It implements the
// DSR client's token store: refreshes of one account are serialised across every process by
// the account row's lock, and the new pair is committed before anyone uses it (a rotated
// refresh token kills the old one, so a pair that is used but not saved would lose the account).
type TokenStore struct {
	Pool   *pgxpool.Pool
	Sealer *Sealer
}

// accountAAD binds a token ciphertext to its account row and field.
func accountAAD(accountID int64, field string) []byte {
	return []byte("dsr_accounts/" + strconv.FormatInt(accountID, 10) + "/" + field)
}

// SealedPair is an OAuth pair ready to be stored for an account.
type SealedPair struct {
	Access, Refresh  []byte
	KeyID            string
	AccessExpiresAt  time.Time
	RefreshExpiresAt *time.Time
}

// Seal encrypts a pair for the account row accountID.
func (s *TokenStore) Seal(accountID int64, tok *oauth2.Token) SealedPair {
	access, keyID := s.Sealer.Seal([]byte(tok.AccessToken), accountAAD(accountID, "access"))
	refresh, _ := s.Sealer.Seal([]byte(tok.RefreshToken), accountAAD(accountID, "refresh"))
	p := SealedPair{Access: access, Refresh: refresh, KeyID: keyID, AccessExpiresAt: tok.Expiry}
	if exp, ok := RefreshExpiry(tok); ok {
		p.RefreshExpiresAt = &exp
	}
	return p
}

// RefreshExpiry reads the refresh token's lifetime that Keycloak (and the sandbox) return
// as refresh_expires_in next to the standard fields.
func RefreshExpiry(tok *oauth2.Token) (time.Time, bool) {
	var secs int64
	switch v := tok.Extra("refresh_expires_in").(type) {
	case float64:
		secs = int64(v)
	case string:
		secs, _ = strconv.ParseInt(v, 10, 64)
	}
	if secs <= 0 {
		return time.Time{}, false
	}
	return time.Now().Add(time.Duration(secs) * time.Second), true
}

// LinkAccount stores a freshly granted pair for a school's RdvPermis account (a new login),
// creating the account row on first use. The pair is sealed against the row's id, so the row
// is written in two steps inside one transaction.
func (s *TokenStore) LinkAccount(ctx context.Context, q *dbq.Queries, schoolID int64, dsrAccountID, email string, tok *oauth2.Token) (dbq.DsrAccount, error) {
	// Placeholder ciphertexts first, to learn the row id the real ones are bound to.
	acct, err := q.AccountUpsert(ctx, dbq.AccountUpsertParams{SchoolID: schoolID, DsrAccountID: dsrAccountID,
		Email: email, AccessTokenEnc: []byte{}, RefreshTokenEnc: []byte{}, KeyID: s.Sealer.CurrentKeyID(),
		AccessExpiresAt: tok.Expiry})
	if err != nil {
		return acct, err
	}
	p := s.Seal(acct.ID, tok)
	if err := q.AccountSaveTokens(ctx, dbq.AccountSaveTokensParams{ID: acct.ID, AccessTokenEnc: p.Access,
		RefreshTokenEnc: p.Refresh, KeyID: p.KeyID, AccessExpiresAt: p.AccessExpiresAt, RefreshExpiresAt: p.RefreshExpiresAt}); err != nil {
		return acct, err
	}
	return q.AccountGet(ctx, acct.ID)
}

func (s *TokenStore) open(a dbq.DsrAccount) (*oauth2.Token, error) {
	access, err := s.Sealer.Open(a.AccessTokenEnc, a.KeyID, accountAAD(a.ID, "access"))
	if err != nil {
		return nil, fmt.Errorf("account %d access token: %w", a.ID, err)
	}
	refresh, err := s.Sealer.Open(a.RefreshTokenEnc, a.KeyID, accountAAD(a.ID, "refresh"))
	if err != nil {
		return nil, fmt.Errorf("account %d refresh token: %w", a.ID, err)
	}
	return &oauth2.Token{AccessToken: string(access), RefreshToken: string(refresh), TokenType: "Bearer", Expiry: a.AccessExpiresAt}, nil
}

// Token returns the account's current pair.
func (s *TokenStore) Token(ctx context.Context, accountID int64) (*oauth2.Token, error) {
	a, err := dbq.New(s.Pool).AccountGet(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("account %d: %w", accountID, err)
	}
	return s.open(a)
}

// WithRefreshLock runs fn while holding the account row's lock; a pair fn returns is saved
// (sealed with the current key) before the lock is released. This is the one transaction that
// spans a call to the DSR's token endpoint, on purpose: the lock is what stops two workers
// from spending the same refresh token.
func (s *TokenStore) WithRefreshLock(ctx context.Context, accountID int64, fn func(current *oauth2.Token) (*oauth2.Token, error)) (*oauth2.Token, error) {
	var out *oauth2.Token
	err := WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		a, err := q.AccountGetForUpdate(ctx, accountID)
		if err != nil {
			return fmt.Errorf("account %d: %w", accountID, err)
		}
		current, err := s.open(a)
		if err != nil {
			return err
		}
		next, err := fn(current)
		if err != nil {
			return err
		}
		if next == nil || next == current || next.AccessToken == current.AccessToken {
			out = current
			return nil
		}
		if next.RefreshToken == "" { // a server that does not rotate keeps the old one valid
			next.RefreshToken = current.RefreshToken
		}
		p := s.Seal(accountID, next)
		out = next
		return q.AccountSaveTokens(ctx, dbq.AccountSaveTokensParams{ID: accountID, AccessTokenEnc: p.Access,
			RefreshTokenEnc: p.Refresh, KeyID: p.KeyID, AccessExpiresAt: p.AccessExpiresAt, RefreshExpiresAt: p.RefreshExpiresAt})
	})
	return out, err
}
