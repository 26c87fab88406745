package middleware

import (
	"log/slog"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
)

// UnmatchedRoute is the route label of requests no route matched, so that
// metrics keep a bounded number of series whatever paths clients send.
const UnmatchedRoute = "unmatched"

// HTTPObserver records served requests (metrics.Metrics is one).
type HTTPObserver interface {
	ObserveHTTP(method, route string, status int, d time.Duration)
}

// ObserveConfig configures Observe.
type ObserveConfig struct {
	Logger *slog.Logger
	// Metrics, when set, records every request.
	Metrics HTTPObserver
	// QuietRoutes are logged at debug level instead of info (probes and
	// scrapes: /health, /ready, /metrics).
	QuietRoutes []string
}

// Observe writes one access-log line per request (method, path, route,
// status, duration, bytes, request id, client IP) and records it in the
// metrics. It calls the error handler (c.Error) itself for an error from
// the handlers inside it, so that the status it logs is the one sent; it
// then returns nil.
func Observe(cfg ObserveConfig) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			d := time.Since(start)
			req, res := c.Request(), c.Response()
			route := RouteOf(c)
			if cfg.Metrics != nil {
				cfg.Metrics.ObserveHTTP(req.Method, route, res.Status, d)
			}
			level := slog.LevelInfo
			if slices.Contains(cfg.QuietRoutes, route) && res.Status < 400 {
				level = slog.LevelDebug
			}
			if cfg.Logger != nil {
				cfg.Logger.LogAttrs(req.Context(), level, "http request",
					slog.String("method", req.Method),
					slog.String("path", req.URL.Path),
					slog.String("route", route),
					slog.Int("status", res.Status),
					slog.Float64("duration_ms", float64(d.Microseconds())/1000),
					slog.Int64("bytes", res.Size),
					slog.String("request_id", RequestIDOf(c)),
					slog.String("client_ip", c.RealIP()),
				)
			}
			return nil
		}
	}
}

// RouteOf is the route template a request matched (/api/v1/tasks/:id),
// or UnmatchedRoute. Echo may report the nearest registered template for
// a path it could not match; either way the labels stay bounded by the
// routes registered.
func RouteOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return UnmatchedRoute
}
