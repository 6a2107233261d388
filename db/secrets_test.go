package db_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
)

func TestSealerRotation(t *testing.T) {
	k1, k2 := db.NewKeySpec("k1"), db.NewKeySpec("k2")
	old, err := db.ParseSealer(k1)
	if err != nil {
		t.Fatal(err)
	}
	box, id := old.Seal([]byte("secret"), []byte("row-1"))
	if id != "k1" || bytes.Contains(box, []byte("secret")) {
		t.Fatalf("sealed with %s: %x", id, box)
	}
	rotated, err := db.ParseSealer(k2 + "," + k1)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := rotated.Open(box, id, []byte("row-1")); err != nil || string(plain) != "secret" {
		t.Fatalf("old rows must stay readable after rotation: %q %v", plain, err)
	}
	if _, id := rotated.Seal([]byte("x"), nil); id != "k2" {
		t.Fatalf("new rows use the new key, got %s", id)
	}
	if _, err := rotated.Open(box, id, []byte("row-2")); err == nil {
		t.Fatal("a ciphertext moved to another row must not open")
	}
	if _, err := db.ParseSealer(k2); err != nil {
		t.Fatal(err)
	} else if s, _ := db.ParseSealer(k2); s != nil {
		if _, err := s.Open(box, "k1", []byte("row-1")); err == nil {
			t.Fatal("a retired key's rows do not open")
		}
	}
	for _, bad := range []string{"", "k1", "k1:short", "k1:" + strings.Repeat("A", 44) + "," + "k1:" + strings.Repeat("A", 44)} {
		if _, err := db.ParseSealer(bad); err == nil {
			t.Errorf("ParseSealer(%q) must fail", bad)
		}
	}
}

func TestTokenStoreKeepsTokensEncrypted(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	sealer, _ := db.ParseSealer(db.NewKeySpec("k1"))
	store := &db.TokenStore{Pool: pool, Sealer: sealer}
	q := dbq.New(pool)
	key := sha256.Sum256([]byte("k"))
	school, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "AE", Agrement: "E0000000001", ApiKeyHash: key[:]})
	if err != nil {
		t.Fatal(err)
	}
	tok := (&oauth2.Token{AccessToken: "access-SECRET-1", RefreshToken: "refresh-SECRET-1", Expiry: time.Now().Add(time.Minute)}).
		WithExtra(map[string]any{"refresh_expires_in": float64(1800)})
	acct, err := store.LinkAccount(ctx, q, school.ID, "C-1", "ae@example.fr", tok)
	if err != nil {
		t.Fatal(err)
	}
	if acct.RefreshExpiresAt == nil || time.Until(*acct.RefreshExpiresAt) < 29*time.Minute {
		t.Fatalf("refresh expiry not recorded: %v", acct.RefreshExpiresAt)
	}
	var dump string
	if err := pool.QueryRow(ctx, "SELECT row_to_json(a)::text FROM dsr_accounts a").Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "SECRET") {
		t.Fatalf("a token is stored in clear: %s", dump)
	}
	got, err := store.Token(ctx, acct.ID)
	if err != nil || got.AccessToken != "access-SECRET-1" || got.RefreshToken != "refresh-SECRET-1" {
		t.Fatalf("Token = %+v %v", got, err)
	}
	next, err := store.WithRefreshLock(ctx, acct.ID, func(cur *oauth2.Token) (*oauth2.Token, error) {
		if cur.RefreshToken != "refresh-SECRET-1" {
			t.Errorf("fn sees %q", cur.RefreshToken)
		}
		return &oauth2.Token{AccessToken: "access-SECRET-2", RefreshToken: "refresh-SECRET-2", Expiry: time.Now().Add(time.Minute)}, nil
	})
	if err != nil || next.AccessToken != "access-SECRET-2" {
		t.Fatalf("refresh: %+v %v", next, err)
	}
	if got, _ := store.Token(ctx, acct.ID); got.RefreshToken != "refresh-SECRET-2" {
		t.Fatalf("the rotated pair must be saved, got %q", got.RefreshToken)
	}
}

// Rotating LIVRET_TOKEN_KEY: rows sealed with the old key stay readable, and the next write
// (a refresh) seals with the new key.
func TestTokenStoreKeyRotation(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	oldKey, newKey := db.NewKeySpec("k1"), db.NewKeySpec("k2")
	oldSealer, _ := db.ParseSealer(oldKey)
	q := dbq.New(pool)
	key := sha256.Sum256([]byte("k"))
	school, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "AE", Agrement: "E0000000001", ApiKeyHash: key[:]})
	if err != nil {
		t.Fatal(err)
	}
	old := &db.TokenStore{Pool: pool, Sealer: oldSealer}
	acct, err := old.LinkAccount(ctx, q, school.ID, "C-1", "a@b.fr", &oauth2.Token{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(time.Minute)})
	if err != nil || acct.KeyID != "k1" {
		t.Fatalf("%+v %v", acct, err)
	}
	rotatedSealer, err := db.ParseSealer(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotated := &db.TokenStore{Pool: pool, Sealer: rotatedSealer}
	if tok, err := rotated.Token(ctx, acct.ID); err != nil || tok.RefreshToken != "r1" {
		t.Fatalf("an old row must stay readable after rotation: %+v %v", tok, err)
	}
	if _, err := rotated.WithRefreshLock(ctx, acct.ID, func(*oauth2.Token) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "a2", RefreshToken: "r2", Expiry: time.Now().Add(time.Minute)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	after, _ := q.AccountGet(ctx, acct.ID)
	if after.KeyID != "k2" {
		t.Fatalf("a new write must use the new key, got %s", after.KeyID)
	}
	newOnly, _ := db.ParseSealer(newKey)
	if tok, err := (&db.TokenStore{Pool: pool, Sealer: newOnly}).Token(ctx, acct.ID); err != nil || tok.RefreshToken != "r2" {
		t.Fatalf("once rewritten, the old key can be retired: %+v %v", tok, err)
	}
}
