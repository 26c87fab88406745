package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrorKind names a class of failure. The names of the failure kinds are the
// ones a task execution records in error_type (SPEC §2.4), so a kind can be
// stored, sent over the wire and parsed back unchanged.
type ErrorKind string

// Errors a task may throw (the JavaScript error classes of SPEC §2.3).
const (
	KindValidation         ErrorKind = "ValidationError"
	KindNotFound           ErrorKind = "NotFoundError"
	KindNetwork            ErrorKind = "NetworkError"
	KindData               ErrorKind = "DataError"
	KindRuntime            ErrorKind = "RuntimeError"
	KindTimeout            ErrorKind = "TimeoutError"
	KindAuthentication     ErrorKind = "AuthenticationError"
	KindAuthorization      ErrorKind = "AuthorizationError"
	KindRateLimit          ErrorKind = "RateLimitError"
	KindServiceUnavailable ErrorKind = "ServiceUnavailableError"
	KindConfiguration      ErrorKind = "ConfigurationError"
	KindHTTP               ErrorKind = "HttpError"
)

// The runtime's own failure kinds (SPEC §2.4).
const (
	KindInputValidation  ErrorKind = "InputValidationError"
	KindOutputValidation ErrorKind = "OutputValidationError"
	KindCompile          ErrorKind = "CompileError"
	KindMemoryLimit      ErrorKind = "MemoryLimitError"
	KindWorkerCrash      ErrorKind = "WorkerCrashError"
	KindCancelled        ErrorKind = "CancelledError"
)

// Kinds raised by the service and its interfaces rather than by tasks.
// Not-found and rate-limited share the task kinds above (KindNotFound,
// KindRateLimit) because they mean the same thing to a client.
const (
	KindConflict        ErrorKind = "ConflictError"
	KindInvalidArgument ErrorKind = "InvalidArgumentError"
	KindUnauthorized    ErrorKind = "UnauthorizedError"
	KindInternal        ErrorKind = "InternalError"
)

// JSErrorClasses lists the error classes a task can construct, in the order
// SPEC §2.3 gives them.
var JSErrorClasses = []ErrorKind{
	KindValidation, KindNotFound, KindNetwork, KindData, KindRuntime, KindTimeout,
	KindAuthentication, KindAuthorization, KindRateLimit, KindServiceUnavailable,
	KindConfiguration, KindHTTP,
}

var kindStatus = map[ErrorKind]int{
	KindValidation:         http.StatusBadRequest,
	KindInputValidation:    http.StatusBadRequest,
	KindInvalidArgument:    http.StatusBadRequest,
	KindAuthentication:     http.StatusUnauthorized,
	KindUnauthorized:       http.StatusUnauthorized,
	KindAuthorization:      http.StatusForbidden,
	KindNotFound:           http.StatusNotFound,
	KindConflict:           http.StatusConflict,
	KindData:               http.StatusUnprocessableEntity,
	KindOutputValidation:   http.StatusUnprocessableEntity,
	KindRateLimit:          http.StatusTooManyRequests,
	KindNetwork:            http.StatusBadGateway,
	KindServiceUnavailable: http.StatusServiceUnavailable,
	KindTimeout:            http.StatusGatewayTimeout,
	KindHTTP:               http.StatusInternalServerError, // overridden by Error.Status
	KindRuntime:            http.StatusInternalServerError,
	KindConfiguration:      http.StatusInternalServerError,
	KindCompile:            http.StatusInternalServerError,
	KindMemoryLimit:        http.StatusInternalServerError,
	KindWorkerCrash:        http.StatusInternalServerError,
	KindCancelled:          http.StatusInternalServerError,
	KindInternal:           http.StatusInternalServerError,
}

// HTTPStatus is the single mapping from an error kind to an HTTP status
// (SPEC §2.4). Unknown kinds, such as a task's own TypeError, map to 500.
func (k ErrorKind) HTTPStatus() int {
	if s, ok := kindStatus[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Known reports whether k is one of the kinds defined in this package.
func (k ErrorKind) Known() bool {
	_, ok := kindStatus[k]
	return ok
}

// nonRetryable are the kinds that cannot succeed on a retry (SPEC §3).
var nonRetryable = map[ErrorKind]bool{
	KindInputValidation: true,
	KindValidation:      true,
	KindAuthentication:  true,
	KindAuthorization:   true,
	KindNotFound:        true,
	KindCompile:         true,
	KindConfiguration:   true,
	KindCancelled:       true,
	KindInvalidArgument: true,
	KindConflict:        true,
	KindUnauthorized:    true,
}

// Retryable reports whether a job that failed with this kind may be retried.
func (k ErrorKind) Retryable() bool { return !nonRetryable[k] }

// ParseErrorKind accepts a kind's name case-insensitively. Names that are not
// one of the defined kinds (a task may throw TypeError) are returned as given,
// with ok false.
func ParseErrorKind(s string) (kind ErrorKind, ok bool) {
	for k := range kindStatus {
		if strings.EqualFold(string(k), s) {
			return k, true
		}
	}
	return ErrorKind(s), false
}

// Error is Ratchet's typed error. It carries a kind, a human message, an
// optional HTTP status (for HttpError), structured details, and the cause.
type Error struct {
	Kind    ErrorKind
	Message string
	// Status is the HTTP status for KindHTTP errors (and the upstream status
	// of errors thrown by fetch); zero otherwise.
	Status  int
	Details map[string]any
	Err     error
}

// NewError returns an error of the given kind.
func NewError(kind ErrorKind, message string) *Error {
	return &Error{Kind: kind, Message: message}
}

// Errorf returns an error of the given kind with a formatted message. A %w
// verb in format makes the wrapped error the cause. A *Error argument is
// formatted by its message alone, so wrapping one does not repeat a kind
// name inside the message ("job 2: cannot go from ...", not "job 2:
// ConflictError: cannot go from ...").
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	for i, a := range args {
		if e, ok := a.(*Error); ok && e != nil && e.Message != "" {
			args[i] = messageOnly{e}
		}
	}
	wrapped := fmt.Errorf(format, args...)
	cause := errors.Unwrap(wrapped)
	if m, ok := cause.(messageOnly); ok {
		cause = m.e
	}
	return &Error{Kind: kind, Message: wrapped.Error(), Err: cause}
}

// messageOnly formats a *Error without its kind; Errorf unwraps it again.
type messageOnly struct{ e *Error }

func (m messageOnly) Error() string { return m.e.Message }
func (m messageOnly) Unwrap() error { return m.e }

// WrapError wraps err with a kind and a message prefix.
func WrapError(kind ErrorKind, err error, message string) *Error {
	msg := message
	if err != nil {
		if msg != "" {
			msg += ": "
		}
		msg += err.Error()
	}
	return &Error{Kind: kind, Message: msg, Err: err}
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Kind)
	}
	return string(e.Kind) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error of the same kind with no message, so the
// sentinels below work with errors.Is: errors.Is(err, core.ErrNotFound).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Kind == e.Kind && t.Message == "" && t.Err == nil
}

// HTTPStatus is the status this error is answered with.
func (e *Error) HTTPStatus() int {
	if e.Kind == KindHTTP && e.Status >= 400 && e.Status <= 599 {
		return e.Status
	}
	return e.Kind.HTTPStatus()
}

// Retryable tells the retry policy whether the failure may succeed later.
func (e *Error) Retryable() bool { return e.Kind.Retryable() }

// WithDetail returns e with one more detail set.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// Sentinel errors for errors.Is. Build errors with NewError or Errorf; these
// only name a kind.
var (
	ErrNotFound        = &Error{Kind: KindNotFound}
	ErrConflict        = &Error{Kind: KindConflict}
	ErrInvalidArgument = &Error{Kind: KindInvalidArgument}
	ErrRateLimited     = &Error{Kind: KindRateLimit}
	ErrUnauthorized    = &Error{Kind: KindUnauthorized}
	ErrForbidden       = &Error{Kind: KindAuthorization}
	ErrTimeout         = &Error{Kind: KindTimeout}
	ErrCancelled       = &Error{Kind: KindCancelled}
)

// KindOf finds the kind of any error: the kind of the first *Error in its
// chain, TimeoutError for a deadline, CancelledError for a cancellation, and
// InternalError otherwise. A nil error has no kind.
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCancelled
	}
	return KindInternal
}

// HTTPStatusOf is the status an interface answers err with.
func HTTPStatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.HTTPStatus()
	}
	return KindOf(err).HTTPStatus()
}

// IsRetryable reports whether err may succeed when tried again.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	return KindOf(err).Retryable()
}
