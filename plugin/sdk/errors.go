package sdk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/internal/pluginpb"
)

// NewError returns a task failure of the given kind, such as
// "ValidationError" (core.KindValidation) or a kind of the plugin's own.
// The kind is recorded as the execution's error_type.
func NewError(kind core.ErrorKind, message string) *core.Error {
	return core.NewError(kind, message)
}

// Errorf is NewError with a formatted message; %w makes its operand the
// cause (which stays in the plugin: only kind, message and details travel).
func Errorf(kind core.ErrorKind, format string, args ...any) *core.Error {
	return core.Errorf(kind, format, args...)
}

// errorToPB encodes a task failure for the wire: a *core.Error keeps its
// kind, status and details, anything else becomes a RuntimeError.
func errorToPB(err error) *pluginpb.TaskError {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return &pluginpb.TaskError{Type: string(core.KindRuntime), Message: err.Error()}
	}
	te := &pluginpb.TaskError{Type: string(ce.Kind), Message: ce.Message, Status: int32(ce.Status)}
	if te.Type == "" {
		te.Type = string(core.KindRuntime)
	}
	if len(ce.Details) > 0 {
		if b, jerr := json.Marshal(ce.Details); jerr == nil {
			te.Details = b
		} else {
			te.Details, _ = json.Marshal(map[string]string{"details_error": fmt.Sprint(jerr)})
		}
	}
	return te
}

// errorFromPB decodes a task failure. A known kind is canonicalised
// (case-insensitive); an unknown one is kept as the plugin spelled it.
func errorFromPB(te *pluginpb.TaskError) *core.Error {
	kind, _ := core.ParseErrorKind(te.GetType())
	if kind == "" {
		kind = core.KindRuntime
	}
	e := &core.Error{Kind: kind, Message: te.GetMessage(), Status: int(te.GetStatus())}
	if d := te.GetDetails(); len(d) > 0 {
		var m map[string]any
		if json.Unmarshal(d, &m) == nil && len(m) > 0 {
			e.Details = m
		}
	}
	return e
}
