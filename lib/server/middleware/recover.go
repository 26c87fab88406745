package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

// PanicError is a panic recovered in a handler. Recover has logged it
// (with its stack) already: the error handler answers 500 without logging
// it again, and never shows the value or the stack to the client.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

// Recover turns a panic in the handlers inside it into a *PanicError,
// logged once (one line: the request id, method, path, value and stack).
// http.ErrAbortHandler is re-panicked, as net/http expects.
func Recover(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if e, ok := v.(error); ok && errors.Is(e, http.ErrAbortHandler) {
					panic(v)
				}
				pe := &PanicError{Value: v, Stack: debug.Stack()}
				req := c.Request()
				logger.ErrorContext(req.Context(), "panic recovered in HTTP handler",
					slog.String("request_id", RequestIDOf(c)),
					slog.String("method", req.Method), slog.String("path", req.URL.Path),
					slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(pe.Stack)))
				err = pe
			}()
			return next(c)
		}
	}
}
