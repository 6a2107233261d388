package school

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net/url"

	"github.com/jackc/pgx/v5/pgconn"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// APIKeyPrefix marks Livret's school keys, so a leaked one is recognisable (secret scanners,
// logs) and a key pasted in the wrong place is easy to spot.
const APIKeyPrefix = "lvk_"

// newAPIKey returns a fresh school key (32 random bytes) and the hash stored in its place.
func newAPIKey() (key string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return key, APIKeyHash(key)
}

// APIKeyHash is what schools.api_key_hash holds. The key has 256 bits of entropy, so a fast
// hash is safe and lets a request find its school by an indexed equality.
func APIKeyHash(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

var errUnknownKey = Unauthorized("Clé d'API inconnue ou révoquée.")

// Authenticate finds the school a key belongs to, through its named keys (api_keys; see
// AuthenticateKey, which also gives the key's actor): a revoked key finds none.
func (s *Service) Authenticate(ctx context.Context, key string) (dbq.School, error) {
	school, _, err := s.AuthenticateKey(ctx, key)
	return school, err
}

// SchoolByID is a school, for a session that names it.
func (s *Service) SchoolByID(ctx context.Context, id int64) (dbq.School, error) {
	school, err := dbq.New(s.Pool).SchoolGet(ctx, id)
	if db.IsNotFound(err) {
		return dbq.School{}, ErrSchoolNotFound
	}
	return school, err
}

// SchoolInput is the body of the operator's POST /v1/schools.
type SchoolInput struct {
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
	// Scope: "guide" or "etendu"; empty takes the deployment's default.
	Scope string `json:"scope"`
	// AdminEmail, when given, is invited as the school's first gerant, in the same
	// transaction (an e-mail with the link to choose a password).
	AdminEmail string `json:"admin_email"`
}

// SchoolCreated answers POST /v1/schools.
type SchoolCreated struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
	Scope    string `json:"scope"`
	// APIKey is shown once: only its hash is stored.
	APIKey string `json:"api_key"`
	// Admin is the invited gerant, when admin_email was given.
	Admin *Person `json:"admin,omitempty"`
}

// CreateSchool creates a school and its API key.
func (s *Service) CreateSchool(ctx context.Context, in SchoolInput) (SchoolCreated, error) {
	var errs fieldErrors
	name := errs.cleanText("name", in.Name, true, maxNameLen)
	agrement, ok := domain.NormalizeAgrement(in.Agrement)
	if !ok {
		errs.add("agrement", "Le numéro d'agrément doit comporter la lettre E suivie de 10 chiffres (par exemple E0203100010).")
	}
	scope := s.DefaultScope
	if scope == "" {
		scope = domain.ScopeGuide
	}
	if in.Scope != "" {
		var ok bool
		if scope, ok = domain.ParseScope(in.Scope); !ok {
			errs.add("scope", "Périmètre inconnu : « guide » ou « etendu ».")
		}
	}
	if in.AdminEmail != "" {
		checkEmail(&errs, "admin_email", in.AdminEmail)
	}
	if err := errs.problem(); err != nil {
		return SchoolCreated{}, err
	}
	key, hash := newAPIKey()
	var (
		school dbq.School
		admin  *Person
	)
	// The key is the first of the school's named keys (api_keys), in the same transaction:
	// never a school without its key; so is the invitation of its first gerant.
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		school, err = q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: name, Agrement: agrement, ApiKeyHash: hash, Scope: string(scope)})
		if err != nil {
			return err
		}
		if _, err = q.ApiKeyCreate(ctx, dbq.ApiKeyCreateParams{SchoolID: school.ID, Name: FirstKeyName, KeyHash: hash}); err != nil || in.AdminEmail == "" {
			return err
		}
		u, err := s.createPerson(ctx, q, school, PersonInput{Email: in.AdminEmail, Role: string(domain.RoleGerant)}, nil)
		if err != nil {
			return err
		}
		if err := s.mailLink(ctx, q, u, "invitation", school.Name); err != nil {
			return err
		}
		ps, err := people(ctx, q, []dbq.User{u})
		if err == nil {
			admin = &ps[0]
		}
		return err
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "schools_agrement_key" {
			return SchoolCreated{}, Conflict(TypeDuplicate, "Une auto-école avec ce numéro d'agrément existe déjà.")
		}
		return SchoolCreated{}, err
	}
	s.log().InfoContext(ctx, "school created", "school_id", school.ID)
	return SchoolCreated{ID: school.ID, Name: school.Name, Agrement: school.Agrement, Scope: school.Scope, APIKey: key, Admin: admin}, nil
}

// SchoolInfo is a school as the operator sees it: never its key.
type SchoolInfo struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Agrement string  `json:"agrement"`
	Scope    string  `json:"scope"`
	ClosedAt *string `json:"closed_at"` // when the DSR reported it closed; null when open
	Created  string  `json:"created_at"`
}

func newSchoolInfo(s dbq.School) SchoolInfo {
	return SchoolInfo{ID: s.ID, Name: s.Name, Agrement: s.Agrement, Scope: s.Scope, ClosedAt: parisTimePtr(s.ClosedAt), Created: parisTime(s.CreatedAt)}
}

// SchoolPage is a page of the operator's list of schools.
type SchoolPage struct {
	Items   []SchoolInfo `json:"items"`
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
	Total   int64        `json:"total"`
}

// Schools is the operator's list of schools, oldest first (GET /v1/schools; page, per_page).
func (s *Service) Schools(ctx context.Context, query url.Values) (SchoolPage, error) {
	var errs fieldErrors
	page := parsePositive(query, "page", 1, math.MaxInt32, &errs)
	perPage := parsePositive(query, "per_page", defaultPerPage, maxPerPage, &errs)
	offset := int64(page-1) * int64(perPage)
	if offset > math.MaxInt32 {
		errs.add("page", "Numéro de page trop grand.")
	}
	if err := errs.problem(); err != nil {
		return SchoolPage{}, err
	}
	q := dbq.New(s.Pool)
	rows, err := q.SchoolList(ctx, dbq.SchoolListParams{Lim: int32(perPage), Off: int32(offset)})
	if err != nil {
		return SchoolPage{}, err
	}
	total, err := q.SchoolCount(ctx)
	if err != nil {
		return SchoolPage{}, err
	}
	out := SchoolPage{Items: make([]SchoolInfo, 0, len(rows)), Page: page, PerPage: perPage, Total: total}
	for _, r := range rows {
		out.Items = append(out.Items, newSchoolInfo(r))
	}
	return out, nil
}

// Reopened is a reopen's outcome.
type Reopened struct {
	School SchoolInfo `json:"school"`
	// Requeued counts the lessons refused because the school was closed that wait again.
	Requeued int `json:"requeued"`
}

// ReopenSchool reopens a school the DSR had reported closed (POST /v1/schools/{id}/reopen):
// its runs resume, and its lessons refused with AUTO_ECOLE_FERMEE go back to pending, judged
// again by Livret's rules, for the next run to send them once (docs/runbook.md). A school
// that is not closed is a 409: nothing to reopen.
func (s *Service) ReopenSchool(ctx context.Context, id int64) (Reopened, error) {
	var out Reopened
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		school, err := q.SchoolGet(ctx, id)
		if db.IsNotFound(err) {
			return ErrSchoolNotFound
		}
		if err != nil {
			return err
		}
		if school.ClosedAt == nil {
			return Conflict(TypeNotClosed, "Cette auto-école n'est pas fermée : il n'y a rien à rouvrir.")
		}
		if school, err = q.SchoolReopen(ctx, id); err != nil {
			return err
		}
		ids, err := q.TransmissionReopen(ctx, id)
		if err != nil {
			return err
		}
		for _, lessonID := range ids {
			if err := Reevaluate(ctx, q, id, Scope{LessonID: &lessonID}); err != nil {
				return err
			}
		}
		out = Reopened{School: newSchoolInfo(school), Requeued: len(ids)}
		return nil
	})
	if err != nil {
		return Reopened{}, err
	}
	s.log().InfoContext(ctx, "school reopened", "school_id", id, "requeued", out.Requeued)
	return out, nil
}
