package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

// handleError is the server's one HTTPErrorHandler: every error becomes
// the API's error envelope (apitypes.NewErrorEnvelope), with the request
// id as trace_id. Echo's own errors (404, 405, 413, 415, binding 400s)
// go through apitypes.ErrorForStatus with a message saying what to do.
// Server-side errors (5xx) are logged once with the request id (a panic
// was logged by Recover already); their text never reaches the client.
// A HEAD request gets the status without a body.
func (s *Server) handleError(err error, c echo.Context) {
	req := c.Request()
	if c.Response().Committed {
		// The status line is gone: nothing can be told to the client.
		s.logger.WarnContext(req.Context(), "error after the response started",
			slog.String("request_id", middleware.RequestIDOf(c)), slog.String("error", describe(err)))
		return
	}
	env := apitypes.NewErrorEnvelope(s.clientError(err, c), middleware.RequestIDOf(c))
	var pe *middleware.PanicError
	if env.StatusCode >= 500 && !errors.As(err, &pe) {
		s.logger.ErrorContext(req.Context(), "request failed",
			slog.String("request_id", env.Error.TraceID), slog.String("method", req.Method),
			slog.String("path", req.URL.Path), slog.Int("status", env.StatusCode), slog.String("error", describe(err)))
	}
	s.errors.add(servedError{Time: env.Error.Timestamp, Method: req.Method, Path: req.URL.Path, Envelope: env})
	if env.StatusCode == http.StatusTooManyRequests && c.Response().Header().Get(middleware.HeaderRetryAfter) == "" {
		// A 429 that is not the rate limiter's (which says how long to
		// wait) is a full job queue: clients that honour Retry-After
		// come back after a second instead of hammering.
		c.Response().Header().Set(middleware.HeaderRetryAfter, "1")
	}
	if req.Method == http.MethodHead {
		err = c.NoContent(env.StatusCode)
	} else {
		err = c.JSON(env.StatusCode, env)
	}
	if err != nil {
		s.logger.DebugContext(req.Context(), "writing the error response failed", slog.String("error", err.Error()))
	}
}

// clientError is the error the envelope is made of: err itself when it
// carries a *core.Error, else a core error for Echo's HTTPError or a
// body over the limit.
func (s *Server) clientError(err error, c echo.Context) error {
	if e, ok := middleware.AsBodyTooLarge(err); ok {
		return e
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return err
	}
	var he *echo.HTTPError
	if !errors.As(err, &he) {
		return err
	}
	req := c.Request()
	msg, _ := he.Message.(string)
	if m, ok := he.Message.(error); ok {
		msg = m.Error()
	}
	switch {
	case he == echo.ErrNotFound:
		msg = fmt.Sprintf("no route for %s %s", req.Method, req.URL.Path)
	case he == echo.ErrMethodNotAllowed:
		msg = fmt.Sprintf("method %s is not allowed on %s", req.Method, req.URL.Path)
		if allow := c.Response().Header().Get(echo.HeaderAllow); allow != "" {
			msg += "; allowed: " + allow
		}
	case he.Code == http.StatusRequestEntityTooLarge:
		return middleware.BodyTooLarge(s.cfg.BodyLimit)
	case he.Code == http.StatusUnsupportedMediaType:
		return UnsupportedMediaType(req.Header.Get(echo.HeaderContentType))
	case he.Code >= 500:
		msg = "" // the status text; the detail is for the log only
	}
	out := apitypes.ErrorForStatus(he.Code, msg)
	out.Err = err
	return out
}

// servedError is one entry of /debug/errors.
type servedError struct {
	Time     time.Time              `json:"time"`
	Method   string                 `json:"method"`
	Path     string                 `json:"path"`
	Envelope apitypes.ErrorEnvelope `json:"envelope"`
}

// errorRing keeps the last errors served.
type errorRing struct {
	mu   sync.Mutex
	buf  []servedError
	next int
	full bool
}

func newErrorRing(n int) *errorRing { return &errorRing{buf: make([]servedError, n)} }

func (r *errorRing) add(e servedError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf[r.next] = e
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
}

// snapshot lists the errors, newest first.
func (r *errorRing) snapshot() []servedError {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]servedError, 0, len(r.buf))
	if r.full {
		out = append(out, r.buf[r.next:]...)
	}
	out = append(out, r.buf[:r.next]...)
	slices.Reverse(out)
	return out
}

// describe is err's text with the causes core.Error keeps out of its own
// text (Error() shows the kind and message only), for the log.
func describe(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ce, ok := e.(*core.Error); ok && ce.Err != nil && !strings.Contains(msg, ce.Err.Error()) {
			msg += ": " + ce.Err.Error()
		}
	}
	return msg
}
