package logging

import (
	"context"
	"log/slog"
	"slices"
)

// Attribute keys used for the identifiers carried in a context. They are
// the names every log line, JSON or text, uses for these values.
const (
	KeyRequestID   = "request_id"
	KeyJobID       = "job_id"
	KeyExecutionID = "execution_id"
	KeyTask        = "task"
	KeyWorkerID    = "worker_id"
)

type attrsKey struct{}

// WithAttrs returns a copy of ctx that carries attrs in addition to those
// ctx already carries. An attribute replaces one with the same key, so the
// innermost value wins (a retry's new execution id replaces the previous).
// Attributes with an empty key are ignored.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if len(attrs) == 0 {
		return ctx
	}
	prev := Attrs(ctx)
	// Copy: the slice stored in a parent context must never change.
	merged := make([]slog.Attr, len(prev), len(prev)+len(attrs))
	copy(merged, prev)
	for _, a := range attrs {
		if a.Key == "" {
			continue
		}
		if i := slices.IndexFunc(merged, func(b slog.Attr) bool { return b.Key == a.Key }); i >= 0 {
			merged[i] = a
			continue
		}
		merged = append(merged, a)
	}
	return context.WithValue(ctx, attrsKey{}, merged)
}

// Attrs returns the attributes carried by ctx, in the order they were first
// added. The caller must not modify the returned slice.
func Attrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	return attrs
}

// WithRequestID returns a copy of ctx whose log records carry request_id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return WithAttrs(ctx, slog.String(KeyRequestID, id))
}

// WithJobID returns a copy of ctx whose log records carry job_id.
func WithJobID(ctx context.Context, id int64) context.Context {
	return WithAttrs(ctx, slog.Int64(KeyJobID, id))
}

// WithExecutionID returns a copy of ctx whose log records carry execution_id.
func WithExecutionID(ctx context.Context, id int64) context.Context {
	return WithAttrs(ctx, slog.Int64(KeyExecutionID, id))
}

// WithTask returns a copy of ctx whose log records carry the task's name.
func WithTask(ctx context.Context, name string) context.Context {
	return WithAttrs(ctx, slog.String(KeyTask, name))
}

// WithWorkerID returns a copy of ctx whose log records carry worker_id.
func WithWorkerID(ctx context.Context, id string) context.Context {
	return WithAttrs(ctx, slog.String(KeyWorkerID, id))
}

// RequestIDFrom returns the request id carried by ctx and whether there is one.
func RequestIDFrom(ctx context.Context) (string, bool) {
	v, ok := lookup(ctx, KeyRequestID)
	if !ok || v.Kind() != slog.KindString {
		return "", false
	}
	return v.String(), true
}

// JobIDFrom returns the job id carried by ctx and whether there is one.
func JobIDFrom(ctx context.Context) (int64, bool) {
	return int64From(ctx, KeyJobID)
}

// ExecutionIDFrom returns the execution id carried by ctx and whether there is one.
func ExecutionIDFrom(ctx context.Context) (int64, bool) {
	return int64From(ctx, KeyExecutionID)
}

func int64From(ctx context.Context, key string) (int64, bool) {
	v, ok := lookup(ctx, key)
	if !ok || v.Kind() != slog.KindInt64 {
		return 0, false
	}
	return v.Int64(), true
}

func lookup(ctx context.Context, key string) (slog.Value, bool) {
	for _, a := range Attrs(ctx) {
		if a.Key == key {
			return a.Value, true
		}
	}
	return slog.Value{}, false
}
