package clusterbus_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/service"
)

// startApp builds and starts an app with one worker over dsn, stopped when
// the test ends. Its dispatcher claims only for free workers and polls
// rarely, so that it finds other nodes' jobs at once only when woken.
func startApp(t *testing.T, dsn, node string) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Database.URL = dsn
	cfg.Server.Workers.WorkerCount = 1
	cfg.Server.Workers.HealthCheckIntervalSeconds = 30
	cfg.Execution.MemoryLimitMB = 256
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() && os.Getenv("RATCHET_E2E_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With(slog.String("app", node))
	}
	a, err := app.New(cfg, app.Options{
		Logger: log, WorkerCommand: workerCommand, Node: node,
		Dispatcher: app.DispatcherOptions{Prefetch: -1, PollInterval: 10 * time.Minute, LeaseDuration: 10 * time.Second},
	})
	if err != nil {
		t.Fatalf("app.New(%s): %v", node, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatalf("starting %s: %v", node, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Errorf("stopping %s: %v", node, err)
		}
	})
	return a
}

func waitStatus(t *testing.T, a *app.App, id int64, want core.JobStatus) core.Job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j, err := a.Store().Jobs().Get(context.Background(), id)
		if err == nil && j.Status == want {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: %s (err %v) after %s, want %s", id, j.Status, err, timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTwoApps: two apps share one PostgreSQL schema. A's only worker is
// busy; a job enqueued through A's service reaches B as job.queued, B runs
// it, and A's service sees it completed with its output.
func TestTwoApps(t *testing.T) {
	dsn := schemaDSN(t)
	a := startApp(t, dsn, "node-a")
	ctx := t.Context()
	for name, code := range map[string]string{
		"slow": `function main(input) { var s = Date.now(); while (Date.now() - s < input.ms) {} return {slept: input.ms}; }`,
		"echo": `function main(input) { return {echo: input}; }`,
	} {
		if _, err := a.Store().Tasks().Create(ctx, core.Task{Name: name, Enabled: true, Source: "api"}, &core.TaskVersion{Code: code}); err != nil {
			t.Fatal(err)
		}
	}
	jobs := a.Service().Jobs()
	slow, _, err := jobs.Create(ctx, service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":120000}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, a, slow.ID, core.JobProcessing)
	t.Cleanup(func() { _, _ = jobs.Cancel(context.Background(), slow.ID) })

	// B starts once A's worker is busy, so that the slow job is A's.
	b := startApp(t, dsn, "node-b")
	if a.Relay() == nil || b.Relay() == nil {
		t.Fatal("apps on PostgreSQL have no relay")
	}
	onB, cancel := b.Bus().SubscribeBuffered(ctx, nil, 1024)
	defer cancel()

	fast, _, err := jobs.Create(ctx, service.CreateJob{TaskRef: "echo", Input: json.RawMessage(`{"x":42}`)})
	if err != nil {
		t.Fatal(err)
	}
	queued := next(t, onB, func(ev core.Event) bool { return ev.Type == core.EventJobQueued && isJob(fast.ID)(ev) })
	if queued.Node != "node-a" {
		t.Errorf("B got job.queued from %q, want node-a", queued.Node)
	}
	started := next(t, onB, func(ev core.Event) bool { return ev.Type == core.EventJobStarted && isJob(fast.ID)(ev) })
	if started.Node != "node-b" {
		t.Errorf("job started on %q, want node-b (A has no free worker)", started.Node)
	}

	wctx, wcancel := context.WithTimeout(ctx, timeout)
	defer wcancel()
	done, err := jobs.Wait(wctx, fast.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Echo struct{ X int } `json:"echo"`
	}
	if done.Status != core.JobCompleted || json.Unmarshal(done.Output, &out) != nil || out.Echo.X != 42 {
		t.Errorf("A's service saw job %d %s with output %s", fast.ID, done.Status, done.Output)
	}
	if st := a.Relay().Stats(); st.Received == 0 {
		t.Errorf("A's relay received nothing from B: %+v", st)
	}
}
