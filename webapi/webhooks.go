package webapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"livret/school"
)

// The webhook subscriptions (docs/api.md, "Webhooks").

func (s *Server) putWebhook(c *gin.Context, ref string, in school.WebhookInput) (school.Webhook, bool, error) {
	w, isNew, err := s.School.PutWebhook(c.Request.Context(), schoolOf(c), ref, in)
	if isNew {
		c.Header("Cache-Control", "no-store") // the secret must not linger in a cache
	}
	return w, isNew, err
}

func (s *Server) listWebhooks(c *gin.Context) {
	v, err := s.School.Webhooks(c.Request.Context(), schoolOf(c))
	answer(c, http.StatusOK, v, err)
}

func (s *Server) deleteWebhook(c *gin.Context) {
	if err := s.School.DeleteWebhook(c.Request.Context(), schoolOf(c), c.Param("ref")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listWebhookDeliveries(c *gin.Context) {
	v, err := s.School.WebhookDeliveries(c.Request.Context(), schoolOf(c), c.Param("ref"), school.WebhookDeliveriesShown)
	answer(c, http.StatusOK, v, err)
}

func (s *Server) testWebhook(c *gin.Context) {
	v, err := s.School.TestWebhook(c.Request.Context(), schoolOf(c), c.Param("ref"))
	answer(c, http.StatusAccepted, v, err)
}
