package service_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/dispatcher"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/runtime/worker"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// fakeDispatcher runs nothing: jobs stay where the store puts them.
type fakeDispatcher struct{ contents *dispatcher.Contents }

func (fakeDispatcher) WakeAt(time.Time)                 {}
func (fakeDispatcher) CancelJob(int64) bool             { return false }
func (fakeDispatcher) Stats() dispatcher.Stats          { return dispatcher.Stats{} }
func (d fakeDispatcher) Contents() *dispatcher.Contents { return d.contents }
func (fakeDispatcher) Execute(context.Context, dispatcher.ExecuteRequest) (dispatcher.ExecuteResult, error) {
	return dispatcher.ExecuteResult{}, core.NewError(core.KindServiceUnavailable, "no workers in this test")
}

// fakePool is this node's pool: its workers, and executions that answer
// from the request (the input is the output; one HTTP request is logged).
type fakePool struct {
	mu      sync.Mutex
	workers []core.Worker
	inputs  []string
}

func (p *fakePool) Workers() []core.Worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.workers)
}

func (p *fakePool) Execute(_ context.Context, req worker.Request) (worker.Result, error) {
	p.mu.Lock()
	p.inputs = append(p.inputs, string(req.Input))
	p.mu.Unlock()
	return worker.Result{Output: req.Input, HTTPRequests: []core.HTTPRequestLog{{Method: "GET", URL: "https://example.test/mocked", Status: 200}}}, nil
}

type fixture struct {
	store *sqlstore.Store
	pool  *fakePool
	svc   *service.Service
	task  core.Task
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "r.db"), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	contents, err := dispatcher.NewContents(store, 0)
	if err != nil {
		t.Fatal(err)
	}
	pool := &fakePool{}
	svc, err := service.New(service.Deps{Store: store, Dispatcher: fakeDispatcher{contents}, Pool: pool}, service.Config{DefaultMaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests, _ := json.Marshal([]map[string]any{{"file": "tests/stored.json", "input": map[string]any{"stored": true}, "expected_output": map[string]any{"stored": true}}})
	task, err := store.Tasks().Create(ctx, core.Task{Name: "echo", Enabled: true, Source: "api"},
		&core.TaskVersion{Code: "function main(input) { return input; }", Tests: tests})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, pool: pool, svc: svc, task: task}
}

// job enqueues a job and moves it to status.
func (f *fixture) job(t *testing.T, prio core.Priority, status core.JobStatus, processAt time.Time) core.Job {
	t.Helper()
	ctx := t.Context()
	j, _, err := f.svc.Jobs().Create(ctx, service.CreateJob{TaskRef: "echo", Priority: &prio, ProcessAt: processAt})
	if err != nil {
		t.Fatal(err)
	}
	switch status {
	case core.JobQueued:
	case core.JobCancelled:
		j, err = f.svc.Jobs().Cancel(ctx, j.ID)
	case core.JobProcessing, core.JobCompleted:
		var claimed []core.Job
		claimed, err = f.store.Jobs().Claim(ctx, "n", 100, time.Minute)
		if err == nil && !slices.ContainsFunc(claimed, func(c core.Job) bool { return c.ID == j.ID }) {
			t.Fatalf("job %d was not claimed", j.ID)
		}
		if err == nil && status == core.JobCompleted {
			j, err = f.store.Jobs().Complete(ctx, j.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "n", Attempt: 1}, Output: json.RawMessage(`{}`)})
		}
	default:
		t.Fatalf("job(%s) is not supported", status)
	}
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestDeleteRefusesUnfinishedJobs(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	queued := f.job(t, core.PriorityNormal, core.JobQueued, time.Time{})
	cancelled := f.job(t, core.PriorityNormal, core.JobCancelled, time.Time{})

	err := f.svc.Jobs().Delete(ctx, queued.ID)
	if core.KindOf(err) != core.KindConflict || core.HTTPStatusOf(err) != 409 {
		t.Fatalf("deleting a queued job: err = %v, want ConflictError (409)", err)
	}
	if _, err := f.store.Jobs().Get(ctx, queued.ID); err != nil {
		t.Fatalf("the queued job is gone: %v", err)
	}
	if err := f.svc.Jobs().Delete(ctx, cancelled.ID); err != nil {
		t.Fatalf("deleting a cancelled job: %v", err)
	}
	if err := f.svc.Jobs().Delete(ctx, cancelled.ID); core.KindOf(err) != core.KindNotFound {
		t.Fatalf("deleting it again: err = %v, want NotFoundError", err)
	}
}

func TestStats(t *testing.T) {
	f := newFixture(t)
	old := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	f.job(t, core.PriorityHigh, core.JobProcessing, time.Time{})
	f.job(t, core.PriorityLow, core.JobQueued, time.Now().Add(time.Hour))
	f.job(t, core.PriorityUrgent, core.JobQueued, old)
	f.job(t, core.PriorityLow, core.JobQueued, time.Now().Add(time.Minute))
	f.job(t, core.PriorityHigh, core.JobCancelled, time.Time{})

	st, err := f.svc.Jobs().Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 5 || st.Active != 4 || st.QueueDepth != 3 || st.ByStatus[core.JobCancelled] != 1 {
		t.Errorf("totals = %+v", st)
	}
	wantPrio := map[string]int{"low": 2, "normal": 0, "high": 1, "urgent": 1}
	for p, n := range wantPrio {
		if st.ByPriority[p] != n {
			t.Errorf("by_priority[%s] = %d, want %d (active jobs)", p, st.ByPriority[p], n)
		}
	}
	if st.OldestWaitingAt == nil || !st.OldestWaitingAt.Equal(old) {
		t.Errorf("oldest waiting = %v, want %v", st.OldestWaitingAt, old)
	}

	empty := newFixture(t)
	if st, err := empty.svc.Jobs().Stats(t.Context()); err != nil || st.OldestWaitingAt != nil || st.Total != 0 {
		t.Errorf("no jobs: %+v, %v", st, err)
	}
}

// TestErrorMessagesNameTheKindOnce: messages built over a core error do
// not repeat "XxxError:" inside the message.
func TestErrorMessagesNameTheKindOnce(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	done := f.job(t, core.PriorityNormal, core.JobCompleted, time.Time{})

	_, err := f.svc.Jobs().Cancel(ctx, done.ID)
	ce, ok := err.(*core.Error)
	if !ok || ce.Kind != core.KindConflict {
		t.Fatalf("cancelling a completed job: %#v", err)
	}
	want := "job " + itoa(done.ID) + " cannot go from completed to cancelled"
	if ce.Message != want || ce.Details["status"] != "completed" {
		t.Errorf("message = %q, details %v; want %q", ce.Message, ce.Details, want)
	}

	_, err = f.svc.Jobs().CreateBatch(ctx, []service.CreateJob{{TaskRef: "echo"}, {TaskRef: "echo", Input: json.RawMessage(`{nope`)}})
	if core.KindOf(err) != core.KindInvalidArgument {
		t.Fatalf("bad batch: %v", err)
	}
	if ce, ok := err.(*core.Error); !ok || ce.Message != "job 1 of the batch: input is not valid JSON" || ce.Details["field"] != "input" {
		t.Errorf("bad batch: %#v", err)
	}
	if strings.Count(err.Error(), "Error:") != 1 {
		t.Errorf("bad batch: %q names a kind more than once", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestTestRunsGivenTests(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	given := []taskfmt.TestCase{
		taskfmt.ParseTest("tests/b.json", []byte(`{"input": {"b": 2}, "expected_output": {"b": 3}}`)),
		taskfmt.ParseTest("tests/a.json", []byte(`{"input": {"a": 1}, "expected_output": {"a": 1}}`)),
	}
	rep, err := f.svc.Tasks().Test(ctx, "echo", given...)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tests) != 2 || rep.Tests[0].File != "tests/a.json" || !rep.Tests[0].Passed || rep.Tests[1].Passed {
		t.Fatalf("report = %+v", rep)
	}
	if len(rep.Tests[0].HTTPRequests) != 1 || rep.Tests[0].HTTPRequests[0].URL != "https://example.test/mocked" {
		t.Errorf("http requests = %+v", rep.Tests[0].HTTPRequests)
	}
	// Without tests, the stored ones run.
	rep, err = f.svc.Tasks().Test(ctx, "echo")
	if err != nil || len(rep.Tests) != 1 || rep.Tests[0].File != "tests/stored.json" || !rep.Tests[0].Passed {
		t.Fatalf("stored tests: %+v, %v", rep, err)
	}
}

// TestWorkersOfEveryNode: the lists cover the workers every node wrote to
// the store, with this node's taken live from its pool.
func TestWorkersOfEveryNode(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Second)
	stale := []core.Worker{
		{ID: "a-worker-1", Node: "a", Status: core.WorkerIdle, StartedAt: now},
		{ID: "a-worker-2", Node: "a", Status: core.WorkerIdle, StartedAt: now},
	}
	if err := f.store.Workers().Heartbeat(ctx, sqlstore.Node{Name: "a"}, stale, now); err != nil {
		t.Fatal(err)
	}
	remote := []core.Worker{{ID: "b-worker-1", Node: "b", Status: core.WorkerBusy, ExecutionsTotal: 7, StartedAt: now}}
	if err := f.store.Workers().Heartbeat(ctx, sqlstore.Node{Name: "b"}, remote, now); err != nil {
		t.Fatal(err)
	}
	// This node is "a"; worker 2 became busy since the heartbeat.
	live := slices.Clone(stale)
	live[1].Status, live[1].ExecutionsTotal = core.WorkerBusy, 3
	f.pool.workers = live

	page, err := f.svc.Workers().List(ctx, core.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range page.Items {
		got = append(got, w.ID+"="+string(w.Status))
	}
	if want := []string{"a-worker-1=idle", "a-worker-2=busy", "b-worker-1=busy"}; page.Total != 3 || !slices.Equal(got, want) {
		t.Errorf("list = %v (total %d), want %v", got, page.Total, want)
	}
	page, err = f.svc.Workers().List(ctx, core.ListQuery{
		Filters: []core.Filter{{Field: "node", Op: core.OpEq, Values: []string{"b"}}},
		Sort:    []core.SortField{{Field: "id", Desc: true}},
	})
	if err != nil || page.Total != 1 || page.Items[0].ID != "b-worker-1" {
		t.Errorf("filtered list = %+v, %v", page, err)
	}

	if w, err := f.svc.Workers().Get(ctx, "b-worker-1"); err != nil || w.ExecutionsTotal != 7 {
		t.Errorf("get remote = %+v, %v", w, err)
	}
	if w, err := f.svc.Workers().Get(ctx, "a-worker-2"); err != nil || w.Status != core.WorkerBusy {
		t.Errorf("get local = %+v, %v", w, err)
	}
	if _, err := f.svc.Workers().Get(ctx, "nope"); core.KindOf(err) != core.KindNotFound {
		t.Errorf("get missing: %v", err)
	}

	st, err := f.svc.Workers().Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 3 || st.Nodes != 2 || st.ByNode["a"] != 2 || st.ByStatus[core.WorkerBusy] != 2 || st.ExecutionsTotal != 10 {
		t.Errorf("stats = %+v", st)
	}
}
