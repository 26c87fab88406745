package app

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/events"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// newTestApp builds an app that is not started (no worker processes) over
// a migrated database in a temporary directory.
func newTestApp(t *testing.T, edit func(*config.Config)) *App {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "r.db")
	if edit != nil {
		edit(cfg)
	}
	a, err := New(cfg, Options{Node: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.bus.Close(); _ = a.store.Close() })
	if _, err := a.store.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return a
}

// schedule stores an enabled task and a schedule of it.
func schedule(t *testing.T, a *App) core.Schedule {
	t.Helper()
	ctx := t.Context()
	task, err := a.store.Tasks().Create(ctx, core.Task{Name: "echo", Enabled: true, Source: "api"},
		&core.TaskVersion{Code: "function main(input) { return input; }"})
	if err != nil {
		t.Fatal(err)
	}
	sc, err := a.scheduler.Create(ctx, core.Schedule{TaskID: task.ID, Name: "hourly", CronExpression: "@hourly",
		Enabled: true, Input: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestSchedulerMaxRetries: server.job_queue.default_max_retries reaches the
// jobs schedules queue, 0 meaning no retries (the scheduler's own 0 means
// its default of 3).
func TestSchedulerMaxRetries(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		a := newTestApp(t, func(c *config.Config) { c.Server.JobQueue.DefaultMaxRetries = n })
		sc := schedule(t, a)
		job, err := a.scheduler.Trigger(t.Context(), sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if job.MaxRetries != n {
			t.Errorf("default_max_retries %d: scheduled job max_retries = %d", n, job.MaxRetries)
		}
	}
}

// TestScheduledJobsCountTowardQueueBound: a job queued by a schedule counts
// toward max_queue_size at once, not only at the next recount.
func TestScheduledJobsCountTowardQueueBound(t *testing.T) {
	a := newTestApp(t, func(c *config.Config) { c.Server.JobQueue.MaxQueueSize = 2 })
	sc := schedule(t, a)
	ctx := t.Context()
	jobs := a.service.Jobs()
	if _, _, err := jobs.Create(ctx, service.CreateJob{TaskRef: "echo"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.scheduler.Trigger(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	// Two jobs are active: a third is refused.
	_, _, err := jobs.Create(ctx, service.CreateJob{TaskRef: "echo"})
	if core.KindOf(err) != core.KindRateLimit {
		n, _ := a.store.Jobs().CountActive(ctx)
		t.Fatalf("third job with max_queue_size 2: err = %v, want RateLimitError (%d active)", err, n)
	}
}

// fakeWorkers is a pool's worker list that a test changes.
type fakeWorkers struct {
	mu sync.Mutex
	ws []core.Worker
}

func (f *fakeWorkers) set(ws ...core.Worker) {
	f.mu.Lock()
	f.ws = ws
	f.mu.Unlock()
}

func (f *fakeWorkers) list() []core.Worker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ws)
}

func workerIDs(t *testing.T, store *sqlstore.Store) []string {
	t.Helper()
	page, err := store.Workers().List(context.Background(), core.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range page.Items {
		ids = append(ids, w.ID+"="+string(w.Status))
	}
	return ids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHeartbeat: the node's workers are written on start, again soon after
// a worker changes status, nodes that stopped beating are pruned, and a
// clean stop removes the node.
func TestHeartbeat(t *testing.T) {
	a := newTestApp(t, nil)
	ctx := t.Context()
	store := a.store
	bus, err := events.New(events.Config{Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()

	// A node that died long ago.
	old := time.Now().Add(-24 * time.Hour)
	if err := store.Workers().Heartbeat(ctx, sqlstore.Node{Name: "dead"},
		[]core.Worker{{ID: "dead-worker-1", Node: "dead", Status: core.WorkerIdle, StartedAt: old}}, old); err != nil {
		t.Fatal(err)
	}

	var pool fakeWorkers
	now := time.Now().UTC()
	idle := core.Worker{ID: "n1-worker-1", Node: "n1", Status: core.WorkerIdle, StartedAt: now}
	pool.set(idle)
	// The periodic beat is an hour away: every write below is the first
	// one or one caused by a status change.
	h := newHeartbeat(store, bus, pool.list, sqlstore.Node{Name: "n1"}, time.Hour, a.log)
	h.throttle = 10 * time.Millisecond
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer h.abandon()
	if got := workerIDs(t, store); !slices.Equal(got, []string{"n1-worker-1=idle"}) {
		t.Fatalf("after start: workers %v, want n1's worker only (dead pruned)", got)
	}

	busy := idle
	busy.Status = core.WorkerBusy
	pool.set(busy)
	bus.Publish(ctx, core.Event{Type: core.EventWorkerStatusChanged, Worker: &busy})
	waitFor(t, "the busy status to be written", func() bool {
		return slices.Equal(workerIDs(t, store), []string{"n1-worker-1=busy"})
	})

	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := workerIDs(t, store); len(got) != 0 {
		t.Errorf("after stop: workers %v, want none", got)
	}
	nodes, err := store.Workers().Nodes(ctx)
	if err != nil || len(nodes) != 0 {
		t.Errorf("after stop: nodes %v, %v; want none", nodes, err)
	}
}
