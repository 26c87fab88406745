package e2e_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/service"
)

// env is one app over one SQLite file.
type env struct {
	t    testing.TB
	app  *app.App
	svc  *service.Service
	db   string
	node string
	cfg  *config.Config
	opts app.Options
}

type option func(*config.Config, *app.Options)

func workers(n int) option {
	return func(c *config.Config, _ *app.Options) { c.Server.Workers.WorkerCount = n }
}

func strictPriority() option {
	return func(_ *config.Config, o *app.Options) { o.Dispatcher.Prefetch = -1 }
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() && os.Getenv("RATCHET_E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newEnv builds and starts an app over a fresh database (or db, when
// given), stopped at the end of the test.
func newEnv(t testing.TB, db string, opts ...option) *env {
	t.Helper()
	if db == "" {
		db = filepath.Join(t.TempDir(), "ratchet.db")
	}
	cfg := config.Default()
	cfg.Server.Database.URL = "sqlite://" + db
	cfg.Server.Workers.WorkerCount = 2
	cfg.Server.Workers.HealthCheckIntervalSeconds = 30
	cfg.Execution.MemoryLimitMB = 256
	o := app.Options{
		Logger:        testLogger(t),
		WorkerCommand: workerCommand,
		Node:          "node-a",
		Dispatcher: app.DispatcherOptions{
			LeaseDuration: 3 * time.Second,
			PollInterval:  time.Second,
			ReclaimEvery:  500 * time.Millisecond,
		},
	}
	for _, opt := range opts {
		opt(cfg, &o)
	}
	e := &env{t: t, db: db, node: o.Node, cfg: cfg, opts: o}
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	a, err := app.New(e.cfg, e.opts)
	if err != nil {
		e.t.Fatalf("app.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		e.t.Fatalf("app.Start: %v", err)
	}
	e.app, e.svc = a, a.Service()
	e.t.Cleanup(func() { e.stop() })
}

func (e *env) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.app.Stop(ctx); err != nil {
		e.t.Errorf("app.Stop: %v", err)
	}
}

// restart stops the app and builds a new one over the same database.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// task stores a task with the given code (and optional input schema).
func (e *env) task(name, code string, inputSchema string) core.Task {
	e.t.Helper()
	v := &core.TaskVersion{Code: code}
	if inputSchema != "" {
		v.InputSchema = json.RawMessage(inputSchema)
	}
	t, err := e.app.Store().Tasks().Create(context.Background(), core.Task{Name: name, Enabled: true, Source: "api",
		InputSchema: v.InputSchema}, v)
	if err != nil {
		e.t.Fatalf("creating task %s: %v", name, err)
	}
	return t
}

func (e *env) enqueue(req service.CreateJob) core.Job {
	e.t.Helper()
	j, _, err := e.svc.Jobs().Create(context.Background(), req)
	if err != nil {
		e.t.Fatalf("enqueue: %v", err)
	}
	return j
}

// waitJob waits until job id is in one of the statuses.
func (e *env) waitJob(id int64, timeout time.Duration, statuses ...core.JobStatus) core.Job {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var j core.Job
	var err error
	for time.Now().Before(deadline) {
		j, err = e.app.Store().Jobs().Get(context.Background(), id)
		if err == nil {
			for _, s := range statuses {
				if j.Status == s {
					return j
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("job %d: status %s (err %v) after %s, want %v; error %s: %s", id, j.Status, err, timeout, statuses, j.ErrorType, j.ErrorMessage)
	return j
}

// executions lists a job's executions, oldest first.
func (e *env) executions(jobID int64) []core.Execution {
	e.t.Helper()
	p, err := e.app.Store().Executions().List(context.Background(), core.ListQuery{
		Filters: []core.Filter{{Field: "job_id", Op: core.OpEq, Values: []string{itoa(jobID)}}},
		Sort:    []core.SortField{{Field: "id"}},
		Limit:   100,
	})
	if err != nil {
		e.t.Fatalf("listing executions: %v", err)
	}
	return p.Items
}

func itoa(n int64) string { return jsonString(n) }

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

const (
	jsEcho      = `function main(input, ctx) { return {echo: input, attempt: ctx.attempt, job: ctx.jobId, execution: ctx.executionId}; }`
	jsSlow      = `function main(input) { var s = Date.now(); while (Date.now() - s < input.ms) {} return {slept: input.ms}; }`
	jsNetFail   = `function main() { throw new NetworkError("upstream down"); }`
	jsBadInput  = `function main() { throw new ValidationError("bad input"); }`
	jsFlaky     = `function main(input, ctx) { if (ctx.attempt < 3) { throw new ServiceUnavailableError("try later " + ctx.attempt); } return {ok: ctx.attempt}; }`
	jsHTTPError = `function main() { throw new HttpError(418, "teapot"); }`
)
