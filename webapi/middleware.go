package webapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// MaxBodyBytes bounds a request body: the largest legitimate one (a lesson) is a few hundred
// bytes.
const MaxBodyBytes = 1 << 20

// MaxBatchBodyBytes bounds a bulk sync's body (POST /v1/batch): school.MaxBatchItems items of
// up to 4 KiB each, where a real lesson or student takes a few hundred bytes.
const MaxBatchBodyBytes = 4 << 20

const (
	requestIDHeader = "X-Request-Id"
	requestIDKey    = "livret.request_id"
)

// safeRequestID is what a client-supplied id may look like; anything else is replaced, so a
// header cannot inject text into the logs.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// withRequestID keeps the caller's X-Request-Id (a proxy's, to correlate logs) or makes one,
// echoes it in the answer, and sets the headers every answer carries.
func withRequestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !safeRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header(requestIDHeader, id)
	// An API answer is never a page to sniff; no URL of it (the OAuth callback carries a
	// code) is ever sent on as a Referer, not even to the page the callback redirects to.
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// routeOf is the matched route template ("/v1/lessons/:ref"): logs and metrics name routes,
// never paths, so refs and query strings (OAuth codes and states) never reach them.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "unmatched"
}

// accessLog logs one line per request and feeds the metrics. Deliberately absent: the path
// and query (they hold refs, OAuth codes and states), headers (Authorization) and bodies.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route, status := routeOf(c), c.Writer.Status()
	s.httpMetrics().observe(c.Request.Method, route, status, elapsed)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log().Log(c.Request.Context(), level, "http request",
		"method", c.Request.Method, "route", route, "status", status,
		"latency_ms", float64(elapsed.Microseconds())/1000, "bytes", c.Writer.Size(),
		"request_id", requestID(c))
}

// recoverPanics turns a handler panic into a logged 500 problem instead of a dropped
// connection. gin's own Recovery is not used: it prints to stderr, outside the structured
// log, and may dump the request line, which on the OAuth callback carries a code and a state.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler { // net/http's way to abort a response: not a failure
			panic(v)
		}
		s.log().ErrorContext(c.Request.Context(), "handler panic",
			"request_id", requestID(c), "route", routeOf(c), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		c.Abort()
		_ = c.Error(fmt.Errorf("panic: %v", v))
	}()
	c.Next()
}

// limitBody refuses a body over MaxBodyBytes (MaxBatchBodyBytes for a batch): at once when
// Content-Length says so, and while decoding otherwise (the decoder answers 413 on
// http.MaxBytesError).
func limitBody(c *gin.Context) {
	var limit int64 = MaxBodyBytes
	if c.FullPath() == batchPath {
		limit = MaxBatchBodyBytes
	}
	if c.Request.ContentLength > limit {
		_ = c.Error(tooLargeProblem(limit))
		c.Abort()
		return
	}
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}
