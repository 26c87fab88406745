package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
)

// APIError is an error answer of the server, decoded from the error
// envelope. It unwraps to a *core.Error of the matching kind, so
// errors.Is(err, core.ErrNotFound), errors.As(err, &coreErr),
// core.KindOf(err) and core.HTTPStatusOf(err) work on it.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Type is the error kind's name (NotFoundError, InvalidArgumentError,
	// or a task's own error name such as TypeError).
	Type string
	// Code is the stable code derived from the kind (NOT_FOUND...).
	Code    string
	Message string
	Details map[string]any
	// TraceID is the request id, to find the server's log lines.
	TraceID   string
	Timestamp time.Time

	cause *core.Error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ratchet: %d %s: %s", e.Status, e.Type, e.Message)
	if e.TraceID != "" {
		fmt.Fprintf(&b, " (request %s)", e.TraceID)
	}
	return b.String()
}

// Unwrap is the core error of the same kind, message, status and details.
func (e *APIError) Unwrap() error { return e.cause }

// Kind is the error's kind.
func (e *APIError) Kind() core.ErrorKind { return e.cause.Kind }

// ExecutionID is the failed execution of a synchronous execute
// (details.execution_id).
func (e *APIError) ExecutionID() (int64, bool) {
	switch v := e.Details["execution_id"].(type) {
	case float64:
		return int64(v), v > 0
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// decodeError builds the *APIError of a failed answer: from the envelope
// when the body holds one, else from the status alone.
func decodeError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, TraceID: resp.Header.Get("X-Request-ID")}
	var env apitypes.ErrorEnvelope
	if json.Unmarshal(body, &env) == nil && (env.Error.Type != "" || env.Error.Message != "" || env.Message != "") {
		e.Type, e.Code, e.Message = env.Error.Type, env.Error.Code, env.Error.Message
		e.Details, e.Timestamp = env.Error.Details, env.Error.Timestamp
		if e.Message == "" {
			e.Message = env.Message
		}
		if env.Error.TraceID != "" {
			e.TraceID = env.Error.TraceID
		}
	} else {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 200 || strings.HasPrefix(msg, "<") {
			msg = ""
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		e.Message = msg
	}
	var kind core.ErrorKind
	if e.Type != "" {
		kind, _ = core.ParseErrorKind(e.Type) // a task's own names are kept as given
	} else {
		kind = apitypes.ErrorForStatus(e.Status, "").Kind
		e.Type = string(kind)
	}
	if e.Code == "" {
		e.Code = apitypes.ErrorCode(kind)
	}
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.cause = &core.Error{Kind: kind, Message: e.Message, Status: e.Status, Details: e.Details}
	return e
}
