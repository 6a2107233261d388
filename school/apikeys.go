package school

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// A school's named API keys (docs/api.md, "People and keys"), for its management software:
// several at once, so a key is rotated without a gap (create the new one, switch the
// software, revoke the old one). Each acts with gerant rights. A key is shown once, in the
// answer that creates it; only its SHA-256 is stored (APIKeyHash).

const (
	// FirstKeyName is the name of the key POST /v1/schools makes (and the one migration
	// 00011 gave every school's existing key).
	FirstKeyName = "Clé principale"
	// maxKeyNameLen bounds a key's name.
	maxKeyNameLen = 100
	// keyTouchEvery is how stale a key's last use may be: the API's door writes it at most
	// once per key per interval, so a busy key does not cost a row write per request.
	keyTouchEvery = time.Minute
)

// ErrAPIKeyNotFound answers a key id the school does not have (another school's, unknown, or
// revoked already).
var ErrAPIKeyNotFound = NotFound("Clé d'API introuvable ou déjà révoquée.")

// APIKey is a key as GET /v1/api-keys shows it: never the key, never its hash.
type APIKey struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Created  string  `json:"created_at"`
	LastUsed *string `json:"last_used_at"` // null when never used; recorded to the minute
	Revoked  *string `json:"revoked_at"`   // null while active
}

// APIKeyCreated answers POST /v1/api-keys: the only answer that shows the key.
type APIKeyCreated struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Key     string `json:"key"`
	Created string `json:"created_at"`
}

// APIKeyInput is POST /v1/api-keys's body.
type APIKeyInput struct {
	Name string `json:"name"`
}

func newAPIKeyView(id int64, name string, created time.Time, lastUsed, revoked *time.Time) APIKey {
	return APIKey{ID: id, Name: name, Created: parisTime(created), LastUsed: parisTimePtr(lastUsed), Revoked: parisTimePtr(revoked)}
}

// AuthenticateKey is the API's door: the school an active key belongs to, and the actor the
// request acts as (the key, with gerant rights). It records the key's use, at most once a
// minute: the common case is one indexed read and no write.
func (s *Service) AuthenticateKey(ctx context.Context, key string) (dbq.School, Actor, error) {
	if key == "" {
		return dbq.School{}, Actor{}, errUnknownKey
	}
	q := dbq.New(s.Pool)
	row, err := q.ApiKeyByHash(ctx, APIKeyHash(key))
	if db.IsNotFound(err) {
		return dbq.School{}, Actor{}, errUnknownKey
	}
	if err != nil {
		return dbq.School{}, Actor{}, err
	}
	now := s.now()
	since := now.Add(-keyTouchEvery)
	if row.KeyLastUsedAt == nil || row.KeyLastUsedAt.Before(since) {
		// The query checks again, so concurrent requests write it once. A failed write
		// costs the last-use figure only, not the request.
		if err := q.ApiKeyTouch(ctx, dbq.ApiKeyTouchParams{ID: row.KeyID, Now: now, Since: since}); err != nil {
			s.log().WarnContext(ctx, "api key last use not recorded", "api_key_id", row.KeyID, "error", err.Error())
		}
	}
	a := Actor{SchoolID: row.School.ID, Kind: ActorAPIKey, APIKeyID: row.KeyID, Label: row.KeyName, Role: domain.RoleGerant}
	return row.School, a, nil
}

// CreateAPIKey makes a new named key for school (POST /v1/api-keys, the keys page). The
// name is required, at most 100 characters, and unique among the school's active keys.
func (s *Service) CreateAPIKey(ctx context.Context, school dbq.School, in APIKeyInput) (APIKeyCreated, error) {
	if err := Authorize(ctx, domain.PermKeys); err != nil {
		return APIKeyCreated{}, err
	}
	var errs fieldErrors
	name := errs.cleanText("name", in.Name, true, maxKeyNameLen)
	if err := errs.problem(); err != nil {
		return APIKeyCreated{}, err
	}
	key, hash := newAPIKey()
	var out APIKeyCreated
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		k, err := q.ApiKeyCreate(ctx, dbq.ApiKeyCreateParams{SchoolID: school.ID, Name: name, KeyHash: hash})
		if err != nil {
			return keyNameTaken(err)
		}
		out = APIKeyCreated{ID: k.ID, Name: k.Name, Key: key, Created: parisTime(k.CreatedAt)}
		return audit(ctx, q, school, "api_key.create", name)
	})
	if err != nil {
		return APIKeyCreated{}, err
	}
	s.log().InfoContext(ctx, "api key created", "school_id", school.ID, "api_key_id", out.ID)
	return out, nil
}

// keyNameTaken turns the active-name index's violation into the French refusal.
func keyNameTaken(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "api_keys_school_name_active" {
		p := Conflict(TypeDuplicate, "Une clé d'API active porte déjà ce nom : choisissez-en un autre.")
		p.Errors = []FieldError{{Field: "name", Message: "Ce nom est déjà celui d'une clé active de l'auto-école."}}
		return p
	}
	return err
}

// APIKeys lists the school's keys, active first (GET /v1/api-keys, the keys page).
func (s *Service) APIKeys(ctx context.Context, school dbq.School) ([]APIKey, error) {
	if err := Authorize(ctx, domain.PermKeys); err != nil {
		return nil, err
	}
	rows, err := dbq.New(s.Pool).ApiKeyList(ctx, school.ID)
	if err != nil {
		return nil, err
	}
	out := make([]APIKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, newAPIKeyView(r.ID, r.Name, r.CreatedAt, r.LastUsedAt, r.RevokedAt))
	}
	return out, nil
}

// RevokeAPIKey revokes one of the school's keys (DELETE /v1/api-keys/{id}, the keys page):
// the next request with it answers 401. Another school's key, an unknown id or a key revoked
// already answers 404.
func (s *Service) RevokeAPIKey(ctx context.Context, school dbq.School, id int64) (APIKey, error) {
	if err := Authorize(ctx, domain.PermKeys); err != nil {
		return APIKey{}, err
	}
	var out APIKey
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		k, err := q.ApiKeyRevoke(ctx, dbq.ApiKeyRevokeParams{ID: id, SchoolID: school.ID, Now: s.now()})
		if db.IsNotFound(err) {
			return ErrAPIKeyNotFound
		}
		if err != nil {
			return err
		}
		out = newAPIKeyView(k.ID, k.Name, k.CreatedAt, k.LastUsedAt, k.RevokedAt)
		return audit(ctx, q, school, "api_key.revoke", k.Name)
	})
	if err != nil {
		return APIKey{}, err
	}
	s.log().InfoContext(ctx, "api key revoked", "school_id", school.ID, "api_key_id", id)
	return out, nil
}
