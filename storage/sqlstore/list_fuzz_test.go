package sqlstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
	"github.com/ratchet-go/ratchet/storage/storagetest"
)

// FuzzJobList feeds arbitrary filters, sorts and searches to a list: the
// answer is a page or an InvalidArgumentError, never a database error, and
// the table is never harmed.
func FuzzJobList(f *testing.F) {
	f.Add("status", "eq", "queued", "id", false, "")
	f.Add("priority", "in", "high,critical", "priority", true, "x")
	f.Add("task_name", "like", "%_'\"\\", "created_at", false, "'; DROP TABLE jobs; --")
	f.Add("created_at", "gte", "2024-01-01T00:00:00Z", "completed_at", true, "%")
	f.Add("schedule_id", "ne", "null", "nope", false, "")
	f.Add("id", "lte", "1 OR 1=1", "id DESC", false, "\x00")
	st := storagetest.Migrated(f, storagetest.OpenSQLite)
	task, err := st.Tasks().Create(f.Context(), core.Task{Name: "fuzz"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	if _, _, err := st.Jobs().Enqueue(f.Context(), core.Job{TaskID: task.ID}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, field, op, values, sort string, desc bool, q string) {
		lq := core.ListQuery{
			Filters: []core.Filter{{Field: field, Op: core.FilterOp(op), Values: strings.Split(values, ",")}},
			Sort:    []core.SortField{{Field: sort, Desc: desc}},
			Q:       q,
		}
		_, err := st.Jobs().List(t.Context(), lq)
		if err != nil && !errors.Is(err, core.ErrInvalidArgument) {
			t.Fatalf("List(%+v) = %v, want a page or an invalid-argument error", lq, err)
		}
		if p, err := st.Jobs().List(t.Context(), core.ListQuery{}); err != nil || p.Total != 1 {
			t.Fatalf("table harmed: %+v, %v", p, err)
		}
	})
}

func TestSlowQueryLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu = make(chan struct{}, 1)
	mu <- struct{}{}
	logger := slog.New(slog.NewTextHandler(lockedWriter{&buf, mu}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := sqlstore.Open(t.Context(), "sqlite::memory:", sqlstore.Options{Logger: logger, SlowQueryThreshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-mu
	out := buf.String()
	mu <- struct{}{}
	if !strings.Contains(out, "slow query") || !strings.Contains(out, "CREATE TABLE") {
		t.Fatalf("no slow query logged: %q", out)
	}
}

type lockedWriter struct {
	buf *bytes.Buffer
	mu  chan struct{}
}

func (w lockedWriter) Write(p []byte) (int, error) {
	<-w.mu
	defer func() { w.mu <- struct{}{} }()
	return w.buf.Write(p)
}
