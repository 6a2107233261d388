package db

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"

	"livret/db/dbq"
)

// WebhookSecretPrefix starts every webhook signing secret (Standard Webhooks' convention):
// the rest is the base64 of the key.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret is a fresh signing secret: "whsec_" and the base64 of 32 random bytes.
func NewWebhookSecret() string {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// webhookAAD binds a sealed secret to its subscription's row: copied to another row, it
// does not open.
func webhookAAD(webhookID int64) []byte {
	return []byte("webhooks/" + strconv.FormatInt(webhookID, 10) + "/secret")
}

// SealWebhookSecret seals a subscription's secret for its row webhookID with the current key.
func (s *Sealer) SealWebhookSecret(webhookID int64, secret string) (ciphertext []byte, keyID string) {
	return s.Seal([]byte(secret), webhookAAD(webhookID))
}

// OpenWebhookSecret opens a subscription's secret. The error never carries the secret.
func (s *Sealer) OpenWebhookSecret(w dbq.Webhook) (string, error) {
	plain, err := s.Open(w.SecretEnc, w.KeyID, webhookAAD(w.ID))
	if err != nil {
		return "", fmt.Errorf("webhook %d secret: %w", w.ID, err)
	}
	return string(plain), nil
}
