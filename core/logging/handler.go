package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

// Handler is a slog.Handler that adds the attributes carried by the
// record's context (see WithAttrs) at the top level of every record, then
// passes the record to the handler it wraps.
//
// Context attributes stay at the top level even under WithGroup, so that
// request_id or job_id are found at the same place in every line. When a
// record has an attribute of its own with the same key, at the top level,
// the record's wins.
type Handler struct {
	inner slog.Handler
	// groups are the groups opened by WithGroup, outermost first, each with
	// the attributes added while it was the innermost. The inner handler
	// never sees them, or context attributes would end up inside them.
	groups []group
}

type group struct {
	name  string
	attrs []slog.Attr
}

var _ slog.Handler = (*Handler)(nil)

// NewContextHandler wraps inner so that records carry their context's
// attributes. inner must not be nil.
func NewContextHandler(inner slog.Handler) *Handler {
	if inner == nil {
		panic("logging: NewContextHandler needs a handler to wrap; use slog.DiscardHandler to log nothing")
	}
	return &Handler{inner: inner}
}

// Enabled reports whether the wrapped handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle adds the context's attributes to r and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	ctxAttrs := Attrs(ctx)
	if len(ctxAttrs) == 0 && len(h.groups) == 0 {
		return h.inner.Handle(ctx, r)
	}

	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	if len(h.groups) == 0 {
		// The record's attributes are at the top level too: they win over
		// the context's on a key clash.
		var own []string
		r.Attrs(func(a slog.Attr) bool {
			own = append(own, a.Key)
			return true
		})
		for _, a := range ctxAttrs {
			if !slices.Contains(own, a.Key) {
				out.AddAttrs(a)
			}
		}
		r.Attrs(func(a slog.Attr) bool {
			out.AddAttrs(a)
			return true
		})
		return h.inner.Handle(ctx, out)
	}

	out.AddAttrs(ctxAttrs...)
	// Nest the record's attributes in the open groups, innermost first.
	last := h.groups[len(h.groups)-1]
	inner := slices.Clip(last.attrs)
	r.Attrs(func(a slog.Attr) bool {
		inner = append(inner, a)
		return true
	})
	nested := slog.Attr{Key: last.name, Value: slog.GroupValue(inner...)}
	for i := len(h.groups) - 2; i >= 0; i-- {
		g := h.groups[i]
		nested = slog.Attr{Key: g.name, Value: slog.GroupValue(append(slices.Clip(g.attrs), nested)...)}
	}
	out.AddAttrs(nested)
	return h.inner.Handle(ctx, out)
}

// WithAttrs returns a handler whose records carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.groups) == 0 {
		// Let the inner handler pre-format them.
		return &Handler{inner: h.inner.WithAttrs(attrs)}
	}
	groups := slices.Clone(h.groups)
	last := &groups[len(groups)-1]
	last.attrs = append(slices.Clip(last.attrs), attrs...)
	return &Handler{inner: h.inner, groups: groups}
}

// WithGroup returns a handler that nests the record's attributes, and those
// added later with WithAttrs, in the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	groups := append(slices.Clip(h.groups), group{name: name})
	return &Handler{inner: h.inner, groups: groups}
}

// The log formats of the logging.format setting.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// ParseFormat parses a log format name, case-insensitively, and returns
// FormatText or FormatJSON. The empty string is text.
func ParseFormat(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", FormatText:
		return FormatText, nil
	case FormatJSON:
		return FormatJSON, nil
	}
	return "", fmt.Errorf("invalid log format %q: allowed are text and json", s)
}

// NewHandler returns a context-aware handler (see Handler) writing records
// at level or above to w, as JSON lines when format is "json" and as
// logfmt-style text otherwise. Validate a user-supplied format with
// ParseFormat first. A nil level means info.
func NewHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if f, _ := ParseFormat(format); f == FormatJSON {
		return NewContextHandler(slog.NewJSONHandler(w, opts))
	}
	return NewContextHandler(slog.NewTextHandler(w, opts))
}
