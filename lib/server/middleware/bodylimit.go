package middleware

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
)

// DefaultBodyLimit bounds request bodies unless configured otherwise.
const DefaultBodyLimit int64 = 10 << 20

// BodyLimit refuses request bodies larger than limit bytes with 413: at
// once when Content-Length says so, and while reading otherwise (the body
// is an http.MaxBytesReader, whose *http.MaxBytesError the error handler
// and the JSON decoder turn into 413). limit <= 0 means DefaultBodyLimit.
func BodyLimit(limit int64) echo.MiddlewareFunc {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return BodyTooLarge(limit)
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			}
			return next(c)
		}
	}
}

// BodyTooLarge is the 413 error for a body over limit bytes.
func BodyTooLarge(limit int64) *core.Error {
	return apitypes.ErrorForStatus(http.StatusRequestEntityTooLarge,
		fmt.Sprintf("request body too large: the limit is %s", formatBytes(limit))).
		WithDetail("limit_bytes", limit)
}

// AsBodyTooLarge turns an *http.MaxBytesError anywhere in err into the
// 413 error; ok is false for other errors.
func AsBodyTooLarge(err error) (e *core.Error, ok bool) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return BodyTooLarge(mbe.Limit), true
	}
	return nil, false
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
