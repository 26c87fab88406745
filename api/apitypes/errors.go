package apitypes

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/ratchet-go/ratchet/core"
)

// ErrorEnvelope is the body of every error answer of the REST API
// (SPEC §4.1). The top-level message and statusCode repeat the error's so
// that Refine shows them as they are.
type ErrorEnvelope struct {
	Error      ErrorBody `json:"error"`
	Message    string    `json:"message" doc:"Repeats error.message."`
	StatusCode int       `json:"statusCode" doc:"Repeats the HTTP status."`
}

// ErrorBody describes one error.
//
// Type is the error kind's name (core.ErrorKind: "NotFoundError",
// "InvalidArgumentError", or a task's own error name such as "TypeError").
// Code is a stable machine-readable string derived from the kind, such as
// "NOT_FOUND" or "INVALID_ARGUMENT" ("TASK_ERROR" for errors a task threw
// that are none of Ratchet's kinds); the HTTP status number is in the
// envelope's statusCode, so code never repeats it.
type ErrorBody struct {
	Type      string         `json:"type" doc:"The error kind: one of Ratchet's kinds (NotFoundError, InvalidArgumentError, ValidationError, ...) or the name of an error a task threw."`
	Message   string         `json:"message"`
	Code      string         `json:"code" doc:"Stable code derived from the kind (NOT_FOUND, INVALID_ARGUMENT, ...); TASK_ERROR for a task's own error names."`
	Details   map[string]any `json:"details" doc:"Structured details: field (the parameter at fault), execution_id (a failed synchronous execution), ..."`
	TraceID   string         `json:"trace_id" doc:"The request id (X-Request-ID)."`
	Timestamp time.Time      `json:"timestamp"`
}

// CodeTaskError is the code of errors whose type is not one of Ratchet's
// kinds: errors a task threw itself, such as TypeError.
const CodeTaskError = "TASK_ERROR"

// Kinds lists every kind core defines, in the order the codes are
// documented.
var Kinds = []core.ErrorKind{
	core.KindInvalidArgument, core.KindValidation, core.KindInputValidation, core.KindUnauthorized,
	core.KindAuthentication, core.KindAuthorization, core.KindNotFound, core.KindConflict,
	core.KindData, core.KindOutputValidation, core.KindRateLimit, core.KindNetwork,
	core.KindServiceUnavailable, core.KindTimeout, core.KindHTTP, core.KindRuntime,
	core.KindConfiguration, core.KindCompile, core.KindMemoryLimit, core.KindWorkerCrash,
	core.KindCancelled, core.KindInternal,
}

// ErrorCode is the stable code of a kind: its name without the Error
// suffix in UPPER_SNAKE_CASE (NotFoundError → NOT_FOUND), or TASK_ERROR
// for names that are not Ratchet kinds.
func ErrorCode(kind core.ErrorKind) string {
	if !kind.Known() {
		return CodeTaskError
	}
	name := strings.TrimSuffix(string(kind), "Error")
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// ErrorCodes lists the codes of every kind, then TASK_ERROR.
func ErrorCodes() []string {
	out := make([]string, 0, len(Kinds)+1)
	for _, k := range Kinds {
		out = append(out, ErrorCode(k))
	}
	return append(out, CodeTaskError)
}

// NewErrorEnvelope is the one mapping from an error to the REST API's
// answer: the status is core.HTTPStatusOf(err), the type core.KindOf(err).
// The message is that of the first *core.Error in err's chain; an error
// without one is an internal error and its text is not shown (it may hold
// SQL or paths): the server logs it.
func NewErrorEnvelope(err error, traceID string) ErrorEnvelope {
	status := core.HTTPStatusOf(err)
	kind := core.KindOf(err)
	var msg string
	details := map[string]any{}
	var ce *core.Error
	switch {
	case err == nil:
		status, kind, msg = http.StatusInternalServerError, core.KindInternal, "internal server error"
	case errors.As(err, &ce):
		msg = ce.Message
		if msg == "" {
			msg = string(ce.Kind)
		}
		maps.Copy(details, ce.Details)
	case errors.Is(err, context.DeadlineExceeded):
		msg = "the request timed out"
	case errors.Is(err, context.Canceled):
		msg = "the request was cancelled"
	default:
		msg = "internal server error"
	}
	return ErrorEnvelope{
		Error: ErrorBody{
			Type: string(kind), Message: msg, Code: ErrorCode(kind), Details: details,
			TraceID: traceID, Timestamp: time.Now().UTC(),
		},
		Message:    msg,
		StatusCode: status,
	}
}

// ErrorForStatus is the error for an answer known only by its status, such
// as the HTTP framework's own 404, 405 or 413, or a proxy's 502: the kind
// that maps to the status when there is one, else an HttpError carrying it.
func ErrorForStatus(status int, message string) *core.Error {
	if message == "" {
		message = http.StatusText(status)
	}
	var kind core.ErrorKind
	switch status {
	case http.StatusBadRequest:
		kind = core.KindInvalidArgument
	case http.StatusUnauthorized:
		kind = core.KindUnauthorized
	case http.StatusForbidden:
		kind = core.KindAuthorization
	case http.StatusNotFound:
		kind = core.KindNotFound
	case http.StatusConflict:
		kind = core.KindConflict
	case http.StatusUnprocessableEntity:
		kind = core.KindData
	case http.StatusTooManyRequests:
		kind = core.KindRateLimit
	case http.StatusInternalServerError:
		kind = core.KindInternal
	case http.StatusBadGateway:
		kind = core.KindNetwork
	case http.StatusServiceUnavailable:
		kind = core.KindServiceUnavailable
	case http.StatusGatewayTimeout:
		kind = core.KindTimeout
	default:
		return &core.Error{Kind: core.KindHTTP, Message: message, Status: status}
	}
	return core.NewError(kind, message)
}

// ExecutionError is the error a synchronous execute answers with when the
// execution failed (SPEC §4.1): the execution's error type and message,
// the status of SPEC §2.4, and the execution id in details.execution_id.
// An HttpError takes its status from error_details.status when present.
func ExecutionError(e core.Execution) *core.Error {
	kind := core.ErrorKind(e.ErrorType)
	if k, ok := core.ParseErrorKind(e.ErrorType); ok {
		kind = k
	}
	if kind == "" {
		kind = core.KindInternal
	}
	msg := e.ErrorMessage
	if msg == "" {
		msg = "execution " + string(e.Status)
	}
	ce := &core.Error{Kind: kind, Message: msg}
	if kind == core.KindHTTP && len(e.ErrorDetails) > 0 {
		var d struct {
			Status int `json:"status"`
		}
		if json.Unmarshal(e.ErrorDetails, &d) == nil {
			ce.Status = d.Status
		}
	}
	ce.WithDetail("execution_id", e.ID)
	if e.UUID != "" {
		ce.WithDetail("execution_uuid", e.UUID)
	}
	return ce
}
