package worker

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/fetch"
	"github.com/ratchet-go/ratchet/runtime/worker/workerpb"
)

// funcExecutor adapts a function to Executor.
type funcExecutor func(ctx context.Context, req Request) Result

func (f funcExecutor) Execute(ctx context.Context, req Request) Result { return f(ctx, req) }

// connect serves exec in process over go-plugin's gRPC test connection.
func connect(t *testing.T, exec Executor, cacheSize int, limitBytes int64) (*Client, *server) {
	t.Helper()
	srv, err := newServer(exec, slog.New(slog.DiscardHandler), cacheSize, newMemoryGuard(limitBytes))
	if err != nil {
		t.Fatal(err)
	}
	rpc, gs := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &Plugin{server: srv}})
	t.Cleanup(func() {
		// Not rpc.Close: its Shutdown call stops the server too, racing
		// with this Stop inside go-plugin.
		gs.Stop()
		_ = rpc.Conn.Close()
	})
	raw, err := rpc.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(*Client), srv
}

func echoExecutor() Executor {
	return funcExecutor(func(_ context.Context, req Request) Result {
		return Result{Output: req.Input}
	})
}

func task(hash, code string) Task {
	return Task{Hash: hash, Name: "t", Version: "1.0.0", Code: code, InputSchema: json.RawMessage(`{"type":"object"}`)}
}

func TestContentCrossesOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var codes []string
	exec := funcExecutor(func(_ context.Context, req Request) Result {
		mu.Lock()
		codes = append(codes, req.Task.Code)
		mu.Unlock()
		return Result{Output: req.Input}
	})
	c, srv := connect(t, exec, 4, 0)
	for i := range 5 {
		res, err := c.Execute(t.Context(), Request{Task: task("h1", "code-1"), Input: json.RawMessage(`1`)})
		if err != nil || res.Err != nil {
			t.Fatalf("execution %d: %v %v", i, err, res.Err)
		}
	}
	if got := c.ContentSends(); got != 1 {
		t.Errorf("content sent %d times, want 1", got)
	}
	if got := srv.received.Load(); got != 1 {
		t.Errorf("worker received content %d times, want 1", got)
	}
	for _, code := range codes {
		if code != "code-1" {
			t.Errorf("executor saw code %q, want the cached content", code)
		}
	}
}

func TestEvictedTaskIsResent(t *testing.T) {
	t.Parallel()
	c, srv := connect(t, echoExecutor(), 1, 0)
	for _, h := range []string{"a", "b", "a", "a"} {
		res, err := c.Execute(t.Context(), Request{Task: task(h, "code-"+h), Input: json.RawMessage(`{}`)})
		if err != nil || res.Err != nil {
			t.Fatalf("%s: %v %v", h, err, res.Err)
		}
	}
	// a, b, a again after b evicted it; the last a is cached.
	if got := c.ContentSends(); got != 3 {
		t.Errorf("content sent %d times, want 3", got)
	}
	if got := srv.tasks.Len(); got != 1 {
		t.Errorf("worker caches %d tasks, want 1", got)
	}
}

func TestUnknownTaskOutcome(t *testing.T) {
	t.Parallel()
	c, _ := connect(t, echoExecutor(), 4, 0)
	resp, err := c.rpc.Execute(t.Context(), &workerpb.ExecuteRequest{Task: &workerpb.TaskRef{Hash: "never-sent"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetOutcome() != workerpb.Outcome_OUTCOME_UNKNOWN_TASK {
		t.Errorf("outcome = %s, want UNKNOWN_TASK", resp.GetOutcome())
	}
	if _, err := c.rpc.Execute(t.Context(), &workerpb.ExecuteRequest{Task: &workerpb.TaskRef{}}); err == nil {
		t.Error("a request without a task hash was accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	job := int64(42)
	at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	ok := true
	want := Request{
		Task:  Task{Hash: "h", ID: 7, Name: "n", Version: "2.0.0", Code: "c", InputSchema: json.RawMessage(`{"a":1}`), OutputSchema: json.RawMessage(`{"b":2}`), Timeout: 3 * time.Second},
		Input: json.RawMessage(`{"x":[1,2]}`),
		Context: ExecContext{
			ExecutionID: "e-1", JobID: &job, TaskID: 7, TaskName: "n", TaskVersion: "2.0.0", Attempt: 2,
		},
		Limits: Limits{
			Timeout: 5 * time.Second, MaxDuration: time.Minute, MaxInputBytes: 100, MaxOutputBytes: 200,
			SkipSchemaValidation: true, MaxLogEntries: 9,
			HTTP: HTTPSettings{
				Timeout: time.Second, UserAgent: "ua", AllowedHosts: []string{"a.example"}, DeniedHosts: []string{"b.example"},
				InsecureSkipVerify: true, MaxRedirects: -1, MaxResponseBytes: 300, MaxRequestBytes: 400,
			},
		},
		Mocks:           []fetch.Mock{{URL: "https://a.example", Method: "GET", Response: fetch.MockResponse{OK: &ok, Status: 200, Body: json.RawMessage(`{"y":1}`)}}},
		NetworkDisabled: true,
	}
	wantResult := Result{
		Err:  &core.Error{Kind: core.KindHTTP, Message: "teapot", Status: 418, Details: map[string]any{"k": "v"}},
		Logs: []core.LogEntry{{Time: at, Level: "info", Message: "hello"}},
		HTTPRequests: []core.HTTPRequestLog{{
			Method: "GET", URL: "https://a.example", Status: 418, DurationMS: 1.5, Error: "e", Mocked: true, StartedAt: at,
		}},
		Duration: 1234 * time.Microsecond,
	}
	var got Request
	exec := funcExecutor(func(_ context.Context, req Request) Result {
		got = req
		return wantResult
	})
	c, _ := connect(t, exec, 4, 0)
	res, err := c.Execute(t.Context(), want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("worker got\n%+v\nwant\n%+v", got, want)
	}
	stats := res.Stats
	res.Stats = Stats{}
	if !reflect.DeepEqual(res, wantResult) {
		t.Errorf("host got\n%+v\nwant\n%+v", res, wantResult)
	}
	if stats.PID != os.Getpid() || stats.ExecutionsTotal != 1 || stats.FailuresTotal != 1 || stats.CachedTasks != 1 || stats.RSSBytes <= 0 || stats.Uptime <= 0 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestBusyWorkerRefuses(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	exec := funcExecutor(func(ctx context.Context, req Request) Result {
		close(started)
		<-release
		return Result{Output: json.RawMessage(`1`)}
	})
	c, _ := connect(t, exec, 4, 0)
	done := make(chan error)
	go func() {
		_, err := c.Execute(context.Background(), Request{Task: task("h", "c"), Context: ExecContext{ExecutionID: "1"}})
		done <- err
	}()
	<-started
	_, err := c.Execute(t.Context(), Request{Task: task("h", "c"), Context: ExecContext{ExecutionID: "2"}})
	if core.KindOf(err) != core.KindInternal {
		t.Errorf("second execution at once = %v, want an internal error", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCancelAndHealth(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	exec := funcExecutor(func(ctx context.Context, req Request) Result {
		close(started)
		<-ctx.Done()
		return Result{Err: causeError(ctx)}
	})
	c, _ := connect(t, exec, 4, 0)
	done := make(chan Result)
	go func() {
		res, err := c.Execute(context.Background(), Request{Task: task("h", "c"), Context: ExecContext{ExecutionID: "run-1"}})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	<-started
	st, err := c.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.CurrentExecutionID != "run-1" || st.PID != os.Getpid() {
		t.Errorf("health while running = %+v", st)
	}
	if found, err := c.Cancel(t.Context(), "other", ReasonCancelled); err != nil || found {
		t.Errorf("Cancel(other) = %v, %v; want false", found, err)
	}
	if found, err := c.Cancel(t.Context(), "run-1", ReasonCancelled); err != nil || !found {
		t.Errorf("Cancel(run-1) = %v, %v; want true", found, err)
	}
	res := <-done
	if res.Err == nil || res.Err.Kind != core.KindCancelled {
		t.Errorf("cancelled execution = %+v, want CancelledError", res.Err)
	}
	st, err = c.Health(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.CurrentExecutionID != "" || st.ExecutionsTotal != 1 || st.FailuresTotal != 1 {
		t.Errorf("health after = %+v", st)
	}
}

func TestTimeoutAndPanic(t *testing.T) {
	t.Parallel()
	exec := funcExecutor(func(ctx context.Context, req Request) Result {
		if req.Task.Code == "panic" {
			panic("boom")
		}
		<-ctx.Done()
		return Result{Output: json.RawMessage(`"ignored the context"`)}
	})
	c, _ := connect(t, exec, 4, 0)
	res, err := c.Execute(t.Context(), Request{Task: task("t", "wait"), Limits: Limits{Timeout: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || res.Err.Kind != core.KindTimeout || res.Output != nil {
		t.Errorf("timed out execution = %+v, want TimeoutError", res)
	}
	res, err = c.Execute(t.Context(), Request{Task: task("p", "panic")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || res.Err.Kind != core.KindRuntime {
		t.Errorf("panicking execution = %+v, want RuntimeError", res)
	}
}

func TestMemoryWatchdog(t *testing.T) {
	// Not parallel: it measures this process's heap.
	runtime.GC()
	limit := heapLive() + 32<<20
	exec := funcExecutor(func(ctx context.Context, req Request) Result {
		var keep [][]byte
		for ctx.Err() == nil {
			keep = append(keep, make([]byte, 1<<20))
		}
		runtime.KeepAlive(keep)
		return Result{Err: causeError(ctx)}
	})
	c, _ := connect(t, exec, 4, limit)
	res, err := c.Execute(t.Context(), Request{Task: task("m", "alloc")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err == nil || res.Err.Kind != core.KindMemoryLimit {
		t.Fatalf("allocating execution = %+v, want MemoryLimitError", res.Err)
	}
	if res.Stats.MemoryLimitBytes != limit {
		t.Errorf("stats memory limit = %d, want %d", res.Stats.MemoryLimitBytes, limit)
	}
}

func TestClientGone(t *testing.T) {
	t.Parallel()
	life, end := context.WithCancel(context.Background())
	end()
	c := NewClient(nil, life)
	if _, err := c.Execute(t.Context(), Request{Task: task("h", "c")}); !errors.Is(err, ErrGone) {
		t.Errorf("Execute on an exited worker = %v, want ErrGone", err)
	}
}
