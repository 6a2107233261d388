package webapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// Handler returns the API: every route of docs/api.md behind the common middleware, and
// the admin's pages under /ui.
func (s *Server) Handler() http.Handler {
	r := s.router()
	if s.Pages != nil {
		s.Pages.Mount(r) // the admin's pages (package webui): not part of the API's document
	}
	return r
}

func (s *Server) router() *gin.Engine {
	if s.Metrics == nil {
		s.Metrics = prometheus.NewRegistry()
	}
	// gin's mode is process-wide and starts as debug, which prints every route to stdout,
	// outside the structured log.
	if gin.Mode() == gin.DebugMode {
		gin.SetMode(gin.ReleaseMode)
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true // 405 with Allow, not 404, for a known path
	r.ContextWithFallback = true
	// Livret logs no client address and trusts no forwarding header.
	_ = r.SetTrustedProxies(nil)

	// Order matters: the request id first (everything logs it), the access log around
	// everything (it sees the final status), the problem renderer around the handlers and
	// the panic recovery, the body limit last.
	r.Use(withRequestID, s.accessLog, s.renderErrors, s.recoverPanics, limitBody)
	r.NoRoute(func(c *gin.Context) { _ = c.Error(errRouteNotFound) })
	r.NoMethod(func(c *gin.Context) { _ = c.Error(errMethodNotAllowed) })

	// Operations: open, no key (probes and scrapers).
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.metricsHandler())
	r.GET("/openapi.json", openAPIHandler)

	v1 := r.Group("/v1")
	// The browser comes back from RdvPermis without any key: the single-use state is the
	// authority.
	v1.GET("/oauth/callback", s.oauthCallback)

	v1.POST("/schools", s.requireOperator, s.createSchool)
	v1.GET("/schools", s.requireOperator, s.listSchools)
	v1.POST("/schools/:id/reopen", s.requireOperator, s.reopenSchool)

	school := v1.Group("", s.requireSchool)
	school.GET("/school", s.getSchool)
	school.PATCH("/school", s.patchSchool)
	school.PUT("/offices/:ref", put(s.putOffice))
	school.GET("/offices", s.listOffices)
	school.GET("/offices/:ref", s.getOffice)
	school.GET("/offices/:ref/dsr/connect", s.connectOffice)
	school.POST("/offices/:ref/dsr/disconnect", s.disconnectOffice)
	school.GET("/offices/:ref/runs", s.listRuns)
	school.POST("/offices/:ref/runs", s.startRun)

	school.PUT("/instructors/:ref", put(s.putInstructor))
	school.PUT("/students/:ref", put(s.putStudent))
	school.GET("/students", s.searchStudents)
	school.GET("/students/:ref/lessons", s.listStudentLessons)

	school.PUT("/lessons/:ref", put(s.putLesson))
	school.GET("/lessons", s.listLessons)
	school.GET("/lessons/:ref", s.getLesson)
	school.POST("/lessons/resend", s.resendLessons)
	school.POST("/lessons/:ref/cancel", s.cancelLesson)
	school.POST("/lessons/:ref/resend", s.resendLesson)

	school.PUT("/webhooks/:ref", put(s.putWebhook))
	school.GET("/webhooks", s.listWebhooks)
	school.DELETE("/webhooks/:ref", s.deleteWebhook)
	school.GET("/webhooks/:ref/deliveries", s.listWebhookDeliveries)
	school.POST("/webhooks/:ref/test", s.testWebhook)
	// Many PUTs in one request (bulk sync): offices, instructors, students, lessons.
	school.POST("/batch", s.batch)
	school.GET("/etp", s.getETP)
	school.GET("/audit", s.listAudit)
	school.GET("/users", s.listUsers)
	school.POST("/users", s.inviteUser)
	school.PATCH("/users/:id", s.patchUser)
	school.DELETE("/users/:id", s.deleteUser)
	school.POST("/api-keys", s.createAPIKey)
	school.GET("/api-keys", s.listAPIKeys)
	school.DELETE("/api-keys/:id", s.revokeAPIKey)
	return r
}
