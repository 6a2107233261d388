package db

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealer encrypts secrets at rest (OAuth tokens, PKCE verifiers) with AES-256-GCM.
// Each ciphertext is stored with the id of the key that sealed it, so keys can be rotated:
// new rows use the current key, old rows stay readable while their key is still configured.
// The row's identity is bound as additional data, so a ciphertext copied to another row does
// not open.
type Sealer struct {
	current string
	aeads   map[string]cipher.AEAD
	// macKey is derived (HKDF-SHA256) from the current key: MAC's key, so no second secret
	// has to be configured. Rotating LIVRET_TOKEN_KEY changes it (what it keys is short-lived).
	macKey []byte
}

// ParseSealer reads LIVRET_TOKEN_KEY: one or more comma-separated "id:base64key" entries,
// each key 32 bytes; the first entry is the current key, the others only decrypt.
func ParseSealer(spec string) (*Sealer, error) {
	s := &Sealer{aeads: map[string]cipher.AEAD{}}
	for i, entry := range strings.Split(spec, ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok || id == "" {
			return nil, errors.New("token key: want id:base64key[,id:base64key…]")
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("token key %q: want 32 bytes in base64", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if _, dup := s.aeads[id]; dup {
			return nil, fmt.Errorf("token key %q given twice", id)
		}
		s.aeads[id] = aead
		if i == 0 {
			s.current = id
			if s.macKey, err = hkdf.Key(sha256.New, key, nil, "livret/mac", 32); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// NewKeySpec returns a fresh random key entry for LIVRET_TOKEN_KEY.
func NewKeySpec(id string) string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return id + ":" + base64.StdEncoding.EncodeToString(key)
}

// MAC is an HMAC-SHA256 of msg under a key derived from the server's secret, separated by
// purpose: a lookup key that does not reveal msg (login_failures.email_hash).
func (s *Sealer) MAC(purpose string, msg []byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(msg)
	return m.Sum(nil)
}

// CurrentKeyID is the id new ciphertexts are sealed with.
func (s *Sealer) CurrentKeyID() string { return s.current }

// Seal encrypts plaintext with the current key; aad binds it to its row.
func (s *Sealer) Seal(plaintext, aad []byte) (ciphertext []byte, keyID string) {
	aead := s.aeads[s.current]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return aead.Seal(nonce, nonce, plaintext, aad), s.current
}

// Open decrypts a ciphertext sealed with keyID.
func (s *Sealer) Open(ciphertext []byte, keyID string, aad []byte) ([]byte, error) {
	aead, ok := s.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("secret sealed with unknown key %q", keyID)
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, errors.New("secret too short")
	}
	nonce, box := ciphertext[:aead.NonceSize()], ciphertext[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, box, aad)
	if err != nil {
		return nil, errors.New("secret does not open with its key")
	}
	return plain, nil
}
