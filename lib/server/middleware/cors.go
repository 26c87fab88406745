package middleware

import (
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/ratchet-go/ratchet/config"
)

// ExposedHeaders are always exposed to browsers, whatever the
// configuration lists: the list headers Refine's simple-rest data provider
// reads, the rate-limit headers and the request id.
var ExposedHeaders = []string{
	"X-Total-Count", "Content-Range",
	HeaderRateLimitLimit, HeaderRateLimitRemaining, HeaderRateLimitReset, HeaderRetryAfter,
	HeaderRequestID, "Location",
}

// AllowedHeaders are always allowed in requests: the body type, both ways
// of sending an API key, and the request id.
var AllowedHeaders = []string{"Content-Type", "Authorization", HeaderAPIKey, HeaderRequestID}

// CORS answers preflight requests and sets the CORS headers from the
// configuration (server.cors), adding ExposedHeaders and AllowedHeaders
// to the configured lists. It returns nil when CORS is disabled.
func CORS(cfg config.CORSConfig) echo.MiddlewareFunc {
	if !cfg.Enabled {
		return nil
	}
	return echomw.CORSWithConfig(echomw.CORSConfig{
		AllowOrigins:     cfg.AllowedOrigins,
		AllowMethods:     cfg.AllowedMethods,
		AllowHeaders:     union(cfg.AllowedHeaders, AllowedHeaders),
		ExposeHeaders:    union(cfg.ExposeHeaders, ExposedHeaders),
		AllowCredentials: cfg.AllowCredentials,
		MaxAge:           int(cfg.MaxAge.Seconds()),
	})
}

// union is a then the elements of b not in a, compared case-insensitively.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, h := range b {
		if !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, h) }) {
			out = append(out, h)
		}
	}
	return out
}
