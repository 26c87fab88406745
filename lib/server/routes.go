package server

import (
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
)

// Content types of the documents served.
const (
	contentTypeJSON = "application/json"
	contentTypeYAML = "application/yaml"
	contentTypeHTML = "text/html; charset=utf-8"
)

// referenceCSP keeps the reference page from loading anything: it is
// self-contained (styles inline, no scripts).
const referenceCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (s *Server) routes() {
	e := s.echo
	e.GET("/health", s.getHealth)
	e.GET("/health/detailed", s.getHealthDetailed)
	e.GET("/ready", s.getReady)
	e.GET("/version", s.getVersion)
	e.GET("/metrics", echo.WrapHandler(s.metrics.Handler()))

	s.api.GET("/openapi.json", blob(contentTypeJSON, api.OpenAPIJSON))
	s.api.GET("/openapi.yaml", blob(contentTypeYAML, api.OpenAPIYAML))
	s.api.GET("/docs", func(c echo.Context) error {
		c.Response().Header().Set("Content-Security-Policy", referenceCSP)
		return c.Blob(http.StatusOK, contentTypeHTML, api.ReferenceHTML())
	})

	if s.cfg.EnableDebugEndpoints {
		s.debugRoutes()
	}
}

func blob(contentType string, body func() []byte) echo.HandlerFunc {
	return func(c echo.Context) error { return c.Blob(http.StatusOK, contentType, body()) }
}

func (s *Server) getHealth(c echo.Context) error {
	code, body := s.health.Liveness()
	return c.JSON(code, body)
}

func (s *Server) getHealthDetailed(c echo.Context) error {
	code, body := s.health.Detailed(c.Request().Context())
	return c.JSON(code, body)
}

func (s *Server) getReady(c echo.Context) error {
	code, body := s.health.Readiness()
	return c.JSON(code, body)
}

func (s *Server) getVersion(c echo.Context) error {
	return c.JSON(http.StatusOK, apitypes.Version{
		Version: s.cfg.Version, Commit: s.cfg.Commit, BuildDate: s.cfg.BuildDate,
		GoVersion: runtime.Version(), APIVersion: "v1",
	})
}

// debugRoutes mounts /debug/... (admins only when authentication is on:
// middleware.AdminPrefixes).
func (s *Server) debugRoutes() {
	g := s.echo.Group("/debug")
	g.GET("/config", func(c echo.Context) error {
		if s.deps.AppConfig == nil {
			return notAvailable("the configuration")
		}
		out, err := config.Render(s.deps.AppConfig, "json") // secrets redacted
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, contentTypeJSON, out)
	})
	g.GET("/workers", func(c echo.Context) error {
		if s.deps.Workers == nil {
			return notAvailable("the worker pool")
		}
		ws, err := s.deps.Workers(c.Request().Context())
		if err != nil {
			return err
		}
		if ws == nil {
			ws = []core.Worker{}
		}
		return c.JSON(http.StatusOK, ws)
	})
	g.GET("/queue", func(c echo.Context) error {
		if s.deps.Queue == nil {
			return notAvailable("the job queue")
		}
		q, err := s.deps.Queue(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, q)
	})
	g.GET("/errors", func(c echo.Context) error {
		return c.JSON(http.StatusOK, s.errors.snapshot())
	})
	g.Any("/pprof/*", echo.WrapHandler(http.HandlerFunc(servePprof)))
}

// servePprof serves net/http/pprof under /debug/pprof/.
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r) // the index, and named profiles (heap, goroutine, ...)
	}
}

func notAvailable(what string) error {
	return core.Errorf(core.KindServiceUnavailable, "%s is not available in this process", what)
}
