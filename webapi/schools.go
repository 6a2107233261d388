package webapi

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"livret/db/dbq"
	"livret/domain"
)

type schoolInput struct {
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
}

type schoolCreated struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Agrement string `json:"agrement"`
	// APIKey is shown once: only its hash is stored.
	APIKey string `json:"api_key"`
}

// createSchool is the operator's POST /v1/schools.
func (s *Server) createSchool(c *gin.Context) {
	var in schoolInput
	if err := decodeStrict(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	var errs fieldErrors
	name := errs.cleanText("name", in.Name, true, maxNameLen)
	agrement, ok := domain.NormalizeAgrement(in.Agrement)
	if !ok {
		errs.add("agrement", "Le numéro d'agrément doit comporter la lettre E suivie de 10 chiffres (par exemple E0203100010).")
	}
	if err := errs.problem(); err != nil {
		_ = c.Error(err)
		return
	}
	key, hash := newAPIKey()
	school, err := dbq.New(s.Pool).SchoolCreate(c.Request.Context(), dbq.SchoolCreateParams{Name: name, Agrement: agrement, ApiKeyHash: hash})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "schools_agrement_key" {
			_ = c.Error(conflict(typeDuplicate, "Une auto-école avec ce numéro d'agrément existe déjà."))
			return
		}
		_ = c.Error(err)
		return
	}
	s.log().InfoContext(c.Request.Context(), "school created", "school_id", school.ID, "request_id", requestID(c))
	c.Header("Cache-Control", "no-store") // the key must not linger in a cache
	c.JSON(http.StatusCreated, schoolCreated{ID: school.ID, Name: school.Name, Agrement: school.Agrement, APIKey: key})
}
