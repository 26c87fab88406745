package middleware

import (
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/core/logging"
)

// HeaderRequestID carries the request id, both ways.
const HeaderRequestID = "X-Request-ID"

// ContextKeyRequestID is the echo.Context key holding the request id.
const ContextKeyRequestID = "ratchet.request_id"

// MaxRequestIDLen bounds an incoming X-Request-ID that is kept.
const MaxRequestIDLen = 128

// RequestID propagates the client's X-Request-ID when it is sane (1 to 128
// characters among letters, digits and "-_.:") and generates one (a UUID)
// otherwise. The id is set on the response header, in the echo.Context
// (RequestIDOf) and in the request's context for log records
// (logging.WithRequestID).
func RequestID() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			id := req.Header.Get(HeaderRequestID)
			if !SaneRequestID(id) {
				id = newRequestID()
			}
			c.Set(ContextKeyRequestID, id)
			c.Response().Header().Set(HeaderRequestID, id)
			c.SetRequest(req.WithContext(logging.WithRequestID(req.Context(), id)))
			return next(c)
		}
	}
}

// RequestIDOf is the request id of c ("" before the RequestID middleware).
func RequestIDOf(c echo.Context) string {
	if id, ok := c.Get(ContextKeyRequestID).(string); ok {
		return id
	}
	return c.Response().Header().Get(HeaderRequestID)
}

// SaneRequestID reports whether a client-supplied request id may be kept:
// it is echoed in headers, logs and error bodies.
func SaneRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9', b == '-', b == '_', b == '.', b == ':':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}
