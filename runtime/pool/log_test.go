package pool_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// recordHandler keeps the records logged through it.
type recordHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
	attrs   []slog.Attr
}

func newRecordHandler() *recordHandler {
	return &recordHandler{mu: &sync.Mutex{}, records: &[]slog.Record{}}
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.mu.Lock()
	*h.records = append(*h.records, r)
	h.mu.Unlock()
	return nil
}

func (h *recordHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordHandler{mu: h.mu, records: h.records, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h *recordHandler) WithGroup(string) slog.Handler { return h }

func (h *recordHandler) find(msg string) (slog.Record, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range *h.records {
		if r.Message == msg {
			return r, true
		}
	}
	return slog.Record{}, false
}

func attrOf(r slog.Record, key string) (slog.Value, bool) {
	var v slog.Value
	var ok bool
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v, ok = a.Value, true
			return false
		}
		return true
	})
	return v, ok
}

// The worker logs go-plugin JSON lines on stderr; the host parses them and
// logs them through its own logger with their level and attributes.
func TestWorkerLogsReachHostLogger(t *testing.T) {
	t.Parallel()
	h := newRecordHandler()
	cfg := fakeConfig(1)
	cfg.Logger = slog.New(h)
	cfg.WorkerLogLevel = slog.LevelDebug
	cfg.MemoryLimitMB = 100
	p := startPool(t, cfg)
	var rec slog.Record
	waitFor(t, 5*time.Second, "the worker's start line", func() bool {
		var ok bool
		rec, ok = h.find("worker serving")
		return ok
	})
	if rec.Level != slog.LevelDebug {
		t.Errorf("level = %s, want DEBUG", rec.Level)
	}
	id, _ := attrOf(rec, "worker_id")
	if id.String() != p.Workers()[0].ID {
		t.Errorf("worker_id = %q, want %q", id, p.Workers()[0].ID)
	}
	// Numbers cross as JSON: float64.
	if v, ok := attrOf(rec, "memory_limit_bytes"); !ok || v.Any() != any(float64(100<<20)) {
		t.Errorf("memory_limit_bytes = %v (found %v), want 104857600", v, ok)
	}
	if _, ok := h.find("worker pool started"); !ok {
		t.Error("the pool's own start line is missing")
	}
}
