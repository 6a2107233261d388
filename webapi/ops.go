package webapi

import (
	"context"
	_ "embed"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// openAPIDocument is the contract of every route, kept true by TestOpenAPIMatchesRouter.
//
//go:embed openapi.json
var openAPIDocument []byte

// readyTimeout bounds each dependency's check: a probe must answer quickly.
const readyTimeout = 3 * time.Second

type health struct {
	Status string `json:"status"`
}

// healthz is liveness: the process answers.
func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, health{Status: "ok"}) }

// readyz is readiness: PostgreSQL and Temporal answer. Each failing dependency is listed.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	var down []FieldError
	if err := s.Pool.Ping(ctx); err != nil {
		s.log().WarnContext(ctx, "readiness: postgres", "error", err.Error())
		down = append(down, FieldError{Field: "postgres", Message: "PostgreSQL ne répond pas."})
	}
	if s.Orchestrator == nil {
		down = append(down, FieldError{Field: "temporal", Message: "Temporal n'est pas configuré."})
	} else if err := s.Orchestrator.Ready(ctx); err != nil {
		s.log().WarnContext(ctx, "readiness: temporal", "error", err.Error())
		down = append(down, FieldError{Field: "temporal", Message: "Temporal ne répond pas."})
	}
	if len(down) > 0 {
		_ = c.Error(unavailable("Le service n'est pas prêt : une dépendance ne répond pas.", down...))
		return
	}
	c.JSON(http.StatusOK, health{Status: "ok"})
}

func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{Registry: s.Metrics})
	return gin.WrapH(h)
}

func openAPIHandler(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDocument)
}
