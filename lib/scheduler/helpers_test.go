package scheduler_test

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/scheduler"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
	"github.com/ratchet-go/ratchet/storage/storagetest"
)

// clock is a settable clock shared by schedulers in a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recorder is a core.Publisher keeping every event.
type recorder struct {
	mu     sync.Mutex
	events []core.Event
}

func (r *recorder) Publish(_ context.Context, ev core.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) Events() []core.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]core.Event(nil), r.events...)
}

// start is a fixed instant half a second past a minute, so that second and
// minute ticks are unambiguous.
var start = time.Date(2030, 1, 1, 0, 0, 0, 500_000_000, time.UTC)

// openStores opens n stores on one fresh, migrated SQLite file: n nodes
// sharing a database.
func openStores(t *testing.T, n int) []*sqlstore.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "ratchet.db")
	return openN(t, url, n)
}

// openPostgresStores does the same on a fresh schema of the PostgreSQL
// server named by RATCHET_TEST_POSTGRES_DSN, or skips.
func openPostgresStores(t *testing.T, n int) []*sqlstore.Store {
	t.Helper()
	dsn := storagetest.PostgresDSN(t)
	schema := storagetest.NewPostgresSchema(t, dsn)
	return openN(t, storagetest.WithSearchPath(t, dsn, schema), n)
}

func openN(t *testing.T, url string, n int) []*sqlstore.Store {
	t.Helper()
	var stores []*sqlstore.Store
	for i := range n {
		st, err := sqlstore.Open(t.Context(), url, sqlstore.Options{})
		if err != nil {
			t.Fatalf("opening %s: %v", url, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if i == 0 {
			if _, err := st.Migrate(t.Context()); err != nil {
				t.Fatalf("migrating: %v", err)
			}
		}
		stores = append(stores, st)
	}
	return stores
}

func newStore(t *testing.T) *sqlstore.Store { return openStores(t, 1)[0] }

func createTask(t *testing.T, st *sqlstore.Store, name string, enabled bool) core.Task {
	t.Helper()
	task, err := st.Tasks().Create(t.Context(), core.Task{Name: name, Enabled: enabled},
		&core.TaskVersion{Code: "(function(input){ return input })"})
	if err != nil {
		t.Fatalf("creating task: %v", err)
	}
	return task
}

func newScheduler(t *testing.T, st *sqlstore.Store, pub core.Publisher, cfg scheduler.Config) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(st, pub, cfg)
	if err != nil {
		t.Fatalf("scheduler.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	return s
}

func mustCreate(t *testing.T, s *scheduler.Scheduler, sc core.Schedule) core.Schedule {
	t.Helper()
	out, err := s.Create(t.Context(), sc)
	if err != nil {
		t.Fatalf("Create(%+v): %v", sc, err)
	}
	return out
}

func getSchedule(t *testing.T, st *sqlstore.Store, id int64) core.Schedule {
	t.Helper()
	sc, err := st.Schedules().Get(t.Context(), id)
	if err != nil {
		t.Fatalf("getting schedule %d: %v", id, err)
	}
	return sc
}

// jobsOf lists every job a schedule enqueued.
func jobsOf(t *testing.T, st *sqlstore.Store, scheduleID int64) []core.Job {
	t.Helper()
	page, err := st.Jobs().List(t.Context(), core.ListQuery{
		Filters: []core.Filter{{Field: "schedule_id", Op: core.OpEq, Values: []string{strconv.FormatInt(scheduleID, 10)}}},
		Sort:    []core.SortField{{Field: "id"}},
		Limit:   core.MaxPageSize,
	})
	if err != nil {
		t.Fatalf("listing jobs: %v", err)
	}
	return page.Items
}

// assertOnePerTick fails when two jobs share a tick (metadata scheduled_at).
func assertOnePerTick(t *testing.T, jobs []core.Job) {
	t.Helper()
	seen := map[any]int64{}
	for _, j := range jobs {
		tick := j.Metadata["scheduled_at"]
		if tick == nil {
			t.Fatalf("job %d has no scheduled_at in its metadata: %v", j.ID, j.Metadata)
		}
		if other, dup := seen[tick]; dup {
			t.Fatalf("jobs %d and %d were both enqueued for tick %v", other, j.ID, tick)
		}
		seen[tick] = j.ID
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }
