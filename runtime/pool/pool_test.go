package pool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// testCommand re-executes the test binary as a worker in mode.
func testCommand(mode string) func(ctx context.Context) *exec.Cmd {
	return func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = []string{envWorker + "=" + mode}
		return cmd
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startPool starts a pool of fake workers, stopped at the end of the test.
func startPool(t testing.TB, cfg pool.Config) *pool.Pool {
	t.Helper()
	if cfg.Command == nil {
		cfg.Command = testCommand("fake")
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	if cfg.Node == "" {
		cfg.Node = "test"
	}
	p, err := pool.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return p
}

func fakeConfig(workers int) pool.Config {
	return pool.Config{
		WorkerCount:         workers,
		RestartOnCrash:      true,
		RestartDelay:        50 * time.Millisecond,
		HealthCheckInterval: -1,
		KillGrace:           300 * time.Millisecond,
		MemoryLimitMB:       -1,
	}
}

var execSeq struct {
	sync.Mutex
	n int
}

func request(code string, input string) worker.Request {
	execSeq.Lock()
	execSeq.n++
	id := strconv.Itoa(execSeq.n)
	execSeq.Unlock()
	return worker.Request{
		Task:    worker.Task{Hash: "h-" + code, Name: "t", Version: "1.0.0", Code: code},
		Input:   json.RawMessage(input),
		Context: worker.ExecContext{ExecutionID: id, TaskName: "t", TaskVersion: "1.0.0", Attempt: 1},
	}
}

func mustExecute(t testing.TB, p *pool.Pool, req worker.Request) worker.Result {
	t.Helper()
	res, err := p.Execute(context.Background(), req)
	if err != nil {
		t.Fatalf("Execute(%s) error: %v", req.Task.Code, err)
	}
	return res
}

func wantKind(t testing.TB, res worker.Result, kinds ...core.ErrorKind) {
	t.Helper()
	if res.Err == nil {
		t.Fatalf("result succeeded with %s, want %v", res.Output, kinds)
	}
	for _, k := range kinds {
		if res.Err.Kind == k {
			return
		}
	}
	t.Fatalf("result failed with %v, want one of %v", res.Err, kinds)
}

func wantOutput(t testing.TB, res worker.Result, want string) {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("result failed: %v", res.Err)
	}
	if string(res.Output) != want {
		t.Fatalf("output = %s, want %s", res.Output, want)
	}
}

// children lists the live processes whose parent is this process.
func children(t testing.TB) []int {
	t.Helper()
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getpid()
	var pids []int
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		s := string(b)
		rest := s[strings.LastIndexByte(s, ')')+1:]
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if ppid == me && f[0] != "Z" {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			pids = append(pids, pid)
		}
	}
	return pids
}

func workerPIDs(p *pool.Pool) map[int]bool {
	pids := map[int]bool{}
	for _, w := range p.Workers() {
		if w.PID != 0 {
			pids[w.PID] = true
		}
	}
	return pids
}

// waitFor polls cond every 5 ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func allIdle(p *pool.Pool) bool {
	for _, w := range p.Workers() {
		if w.Status != core.WorkerIdle {
			return false
		}
	}
	return true
}

func TestExecuteAndContentOncePerWorker(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(2))
	const n = 20
	var wg sync.WaitGroup
	results := make([]worker.Result, n)
	for i := range n {
		wg.Go(func() {
			results[i] = mustExecute(t, p, request("echo", fmt.Sprintf(`{"i":%d}`, i)))
		})
	}
	wg.Wait()
	received := map[int]int64{}
	for i, res := range results {
		wantOutput(t, res, fmt.Sprintf(`{"i":%d}`, i))
		if res.Stats.PID == 0 {
			t.Fatalf("result %d has no worker stats", i)
		}
		received[res.Stats.PID] = max(received[res.Stats.PID], res.Stats.TaskContentsReceived)
	}
	for pid, got := range received {
		if got != 1 {
			t.Errorf("worker %d received the task's content %d times, want once", pid, got)
		}
	}
	var total int64
	for _, w := range p.Workers() {
		total += w.ExecutionsTotal
		if w.Node != "test" || w.PID == 0 || w.Status != core.WorkerIdle || w.StartedAt.IsZero() {
			t.Errorf("worker stats %+v", w)
		}
	}
	if total != n {
		t.Errorf("executions_total over workers = %d, want %d", total, n)
	}
}

func TestTimeoutKeepsServingOthers(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(2))
	spin := request("spin", `null`)
	spin.Limits.Timeout = 300 * time.Millisecond
	done := make(chan worker.Result)
	go func() { done <- mustExecute(t, p, spin) }()
	// Meanwhile the other worker serves.
	for i := range 5 {
		wantOutput(t, mustExecute(t, p, request("echo", strconv.Itoa(i))), strconv.Itoa(i))
	}
	res := <-done
	wantKind(t, res, core.KindTimeout)
	if res.Stats.PID == 0 {
		t.Errorf("a cooperative timeout should come from the worker, with its stats: %+v", res)
	}
	wantOutput(t, mustExecute(t, p, request("echo", `1`)), `1`)
}

func TestDeafExecutionIsKilledAfterGrace(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(1))
	before := workerPIDs(p)
	hang := request("hang", `null`)
	hang.Limits.Timeout = 100 * time.Millisecond
	res := mustExecute(t, p, hang)
	wantKind(t, res, core.KindTimeout)
	if !strings.Contains(res.Err.Message, "replaced") {
		t.Errorf("message %q should say the worker was replaced", res.Err.Message)
	}
	// The replacement serves the next execution.
	wantOutput(t, mustExecute(t, p, request("echo", `2`)), `2`)
	after := workerPIDs(p)
	for pid := range after {
		if before[pid] {
			t.Errorf("worker %d still runs after it was killed", pid)
		}
	}
	if w := p.Workers()[0]; w.Restarts != 1 {
		t.Errorf("restarts = %d, want 1", w.Restarts)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(1))
	for _, code := range []string{"spin", "hang"} {
		t.Run(code, func(t *testing.T) {
			req := request(code, `null`)
			done := make(chan worker.Result)
			go func() { done <- mustExecute(t, p, req) }()
			waitFor(t, 5*time.Second, "execution running", func() bool {
				return p.Cancel(req.Context.ExecutionID)
			})
			wantKind(t, <-done, core.KindCancelled)
			if p.Cancel(req.Context.ExecutionID) {
				t.Error("Cancel of a finished execution answered true")
			}
			wantOutput(t, mustExecute(t, p, request("echo", `3`)), `3`)
		})
	}
}

func TestContextEndsExecution(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(1))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := p.Execute(ctx, request("spin", `null`))
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, res, core.KindTimeout)

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	res, err = p.Execute(ctx, request("spin", `null`))
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, res, core.KindCancelled)
}

func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(1)
	cfg.MemoryLimitMB = 64
	p := startPool(t, cfg)
	res := mustExecute(t, p, request("alloc", `null`))
	wantKind(t, res, core.KindMemoryLimit, core.KindWorkerCrash)
	t.Logf("unbounded allocation ended as %v", res.Err)
	wantOutput(t, mustExecute(t, p, request("echo", `4`)), `4`)
}

func TestKill9DuringExecution(t *testing.T) {
	// Not parallel: it times the replacement, which other tests starting
	// processes would slow down.
	testKill9(t, fakeConfig(2), request("spin", `null`), func(i int) worker.Request {
		return request("echo", strconv.Itoa(i))
	})
}

// statusEvent is one OnStatusChange call.
type statusEvent struct {
	at time.Time
	w  core.Worker
}

// testKill9 kills a worker with SIGKILL while it runs spin: the execution
// fails with WorkerCrashError, a replacement is up within a second, and the
// next executions succeed.
func testKill9(t *testing.T, cfg pool.Config, spin worker.Request, echo func(int) worker.Request) {
	t.Helper()
	var mu sync.Mutex
	var events []statusEvent
	cfg.OnStatusChange = func(w core.Worker) {
		mu.Lock()
		events = append(events, statusEvent{time.Now(), w})
		mu.Unlock()
	}
	p := startPool(t, cfg)
	done := make(chan worker.Result)
	go func() { done <- mustExecute(t, p, spin) }()
	var victim core.Worker
	waitFor(t, 5*time.Second, "a busy worker", func() bool {
		for _, w := range p.Workers() {
			if w.Status == core.WorkerBusy {
				victim = w
				return true
			}
		}
		return false
	})
	killedAt := time.Now()
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	wantKind(t, <-done, core.KindWorkerCrash)
	waitFor(t, 5*time.Second, "replacement", func() bool {
		pids := workerPIDs(p)
		return len(pids) == cfg.WorkerCount && !pids[victim.PID] && allIdle(p)
	})
	for i := range 4 {
		if res := mustExecute(t, p, echo(i)); res.Err != nil {
			t.Fatalf("execution %d after the kill: %v", i, res.Err)
		}
	}
	var restarts int
	for _, w := range p.Workers() {
		restarts += w.Restarts
	}
	if restarts != 1 {
		t.Errorf("restarts = %d, want 1", restarts)
	}

	// The pool reacts at once; the replacement is up within a second unless
	// starting the process alone took longer (an overloaded machine).
	mu.Lock()
	defer mu.Unlock()
	var startingAt, idleAt time.Time
	for _, e := range events {
		if e.w.ID != victim.ID || e.at.Before(killedAt) {
			continue
		}
		if e.w.Status == core.WorkerStarting && startingAt.IsZero() {
			startingAt = e.at
		}
		if e.w.Status == core.WorkerIdle && !startingAt.IsZero() && idleAt.IsZero() {
			idleAt = e.at
		}
	}
	if startingAt.IsZero() || idleAt.IsZero() {
		t.Fatalf("no starting → idle events for %s after the kill: %+v", victim.ID, events)
	}
	reaction, spawn, total := startingAt.Sub(killedAt), idleAt.Sub(startingAt), idleAt.Sub(killedAt)
	t.Logf("replacement: reaction %s, process start %s, total %s", reaction, spawn, total)
	if reaction > 500*time.Millisecond {
		t.Errorf("the pool took %s to start replacing the killed worker", reaction)
	}
	if total > time.Second && spawn < 900*time.Millisecond {
		t.Errorf("replacement took %s, want within a second", total)
	}
}

func TestParallelExecutions(t *testing.T) {
	t.Parallel()
	const n = 2
	p := startPool(t, fakeConfig(n))
	type span struct{ Start, End, PID int64 }
	spans := make([]span, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res := mustExecute(t, p, request("busy:400", `null`))
			if res.Err != nil {
				t.Errorf("busy: %v", res.Err)
				return
			}
			if err := json.Unmarshal(res.Output, &spans[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The executions ran at once when every one started before any ended.
	var latestStart, earliestEnd int64 = 0, 1<<63 - 1
	pids := map[int64]bool{}
	for _, s := range spans {
		latestStart = max(latestStart, s.Start)
		earliestEnd = min(earliestEnd, s.End)
		pids[s.PID] = true
	}
	if latestStart >= earliestEnd {
		t.Errorf("executions did not overlap: %+v", spans)
	}
	if len(pids) != n {
		t.Errorf("executions ran on %d processes, want %d", len(pids), n)
	}
}

func TestStopLeavesNoChildren(t *testing.T) {
	// Not parallel: it counts this process's children.
	p, err := pool.New(pool.Config{
		WorkerCount: 3, RestartOnCrash: true, HealthCheckInterval: -1,
		Command: testCommand("fake"), Logger: testLogger(t), Node: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantOutput(t, mustExecute(t, p, request("echo", `5`)), `5`)
	if got := len(children(t)); got < 3 {
		t.Fatalf("%d children while the pool runs, want at least 3 (the check is broken)", got)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if pids := children(t); len(pids) != 0 {
		t.Fatalf("children left after Stop: %v", pids)
	}
	for _, w := range p.Workers() {
		if w.Status != core.WorkerStopped || w.PID != 0 {
			t.Errorf("after Stop: %+v", w)
		}
	}
	if _, err := p.Execute(context.Background(), request("echo", `1`)); !errors.Is(err, &core.Error{Kind: core.KindServiceUnavailable}) {
		t.Errorf("Execute after Stop = %v, want ServiceUnavailableError", err)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopWhileStarting(t *testing.T) {
	// Not parallel: it counts this process's children.
	p, err := pool.New(pool.Config{
		WorkerCount: 2, HealthCheckInterval: -1, Command: testCommand("fake"), Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan error)
	go func() { started <- p.Start(context.Background()) }()
	time.Sleep(5 * time.Millisecond)
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = <-started
	t.Logf("Start answered %v", err)
	if pids := children(t); len(pids) != 0 {
		t.Fatalf("children left after Stop during Start: %v", pids)
	}
}

func TestStopDrains(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(1))
	done := make(chan worker.Result)
	go func() { done <- mustExecute(t, p, request("busy:300", `null`)) }()
	waitFor(t, 5*time.Second, "busy", func() bool { return p.Workers()[0].Status == core.WorkerBusy })
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case res := <-done:
		if res.Err != nil {
			t.Errorf("drained execution failed: %v", res.Err)
		}
	default:
		t.Fatal("Stop returned before the running execution finished")
	}
}

func TestStopDeadlineAndKill(t *testing.T) {
	t.Parallel()
	for _, hard := range []bool{false, true} {
		t.Run(fmt.Sprintf("hard=%v", hard), func(t *testing.T) {
			t.Parallel()
			p := startPool(t, fakeConfig(1))
			done := make(chan worker.Result)
			go func() { done <- mustExecute(t, p, request("hang", `null`)) }()
			waitFor(t, 5*time.Second, "busy", func() bool { return p.Workers()[0].Status == core.WorkerBusy })
			if hard {
				p.Kill()
			} else {
				ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
				defer cancel()
				if err := p.Stop(ctx); err == nil {
					t.Error("Stop with an expired drain answered nil")
				}
			}
			wantKind(t, <-done, core.KindCancelled)
		})
	}
}

func TestReducedEnvironment(t *testing.T) {
	t.Setenv("RATCHET_TEST_SECRET", "hunter2")
	t.Setenv("DATABASE_URL", "postgres://secret")
	p := startPool(t, fakeConfig(1))
	for _, tc := range []struct {
		name string
		set  bool
	}{
		{"RATCHET_TEST_SECRET", false},
		{"DATABASE_URL", false},
		{"PATH", os.Getenv("PATH") != ""},
		{worker.EnvMemoryLimitMB, true},
	} {
		var got struct{ Set bool }
		res := mustExecute(t, p, request("env:"+tc.name, `null`))
		if err := json.Unmarshal(res.Output, &got); err != nil {
			t.Fatal(err)
		}
		if got.Set != tc.set {
			t.Errorf("%s set in the worker = %v, want %v", tc.name, got.Set, tc.set)
		}
	}
}

func TestCrashWithoutRestart(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(1)
	cfg.RestartOnCrash = false
	p := startPool(t, cfg)
	wantKind(t, mustExecute(t, p, request("crash", `null`)), core.KindWorkerCrash)
	waitFor(t, 5*time.Second, "crashed status", func() bool { return p.Workers()[0].Status == core.WorkerCrashed })
	_, err := p.Execute(context.Background(), request("echo", `1`))
	if !errors.Is(err, &core.Error{Kind: core.KindServiceUnavailable}) {
		t.Fatalf("Execute with every worker down = %v, want ServiceUnavailableError", err)
	}
}

func TestRestartBackoffAndLimit(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(1)
	cfg.MaxRestartAttempts = 2
	cfg.RestartWindow = time.Minute
	cfg.RestartDelay = 20 * time.Millisecond
	// Long enough for a replacement to start on a loaded CI machine; the last
	// Execute below waits this long before it gives up.
	cfg.AcquireTimeout = 2 * time.Second
	p := startPool(t, cfg)
	for range 2 {
		wantKind(t, mustExecute(t, p, request("crash", `null`)), core.KindWorkerCrash)
	}
	// Third crash: two restarts happened within the window, so the worker
	// stays down for the rest of it and the next execution times out waiting.
	wantKind(t, mustExecute(t, p, request("crash", `null`)), core.KindWorkerCrash)
	_, err := p.Execute(context.Background(), request("echo", `1`))
	if !errors.Is(err, &core.Error{Kind: core.KindServiceUnavailable}) {
		t.Fatalf("Execute while the worker waits out its restart limit = %v, want ServiceUnavailableError", err)
	}
	if w := p.Workers()[0]; w.Restarts != 2 || w.Status != core.WorkerCrashed {
		t.Errorf("worker = %+v, want 2 restarts and crashed", w)
	}
}

func TestHealthCheckReplacesUnresponsiveWorker(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(1)
	cfg.HealthCheckInterval = 50 * time.Millisecond
	cfg.HealthCheckTimeout = 100 * time.Millisecond
	var mu sync.Mutex
	var statuses []core.WorkerStatus
	cfg.OnStatusChange = func(w core.Worker) {
		mu.Lock()
		statuses = append(statuses, w.Status)
		mu.Unlock()
	}
	p := startPool(t, cfg)
	waitFor(t, 5*time.Second, "a heartbeat", func() bool {
		w := p.Workers()[0]
		return w.LastHeartbeatAt != nil && w.LastHeartbeatAt.After(w.StartedAt) && w.MemoryBytes > 0
	})
	victim := p.Workers()[0].PID
	// A stopped process cannot answer.
	if err := syscall.Kill(victim, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "replacement", func() bool {
		w := p.Workers()[0]
		return w.PID != 0 && w.PID != victim && w.Status == core.WorkerIdle
	})
	wantOutput(t, mustExecute(t, p, request("echo", `6`)), `6`)
	mu.Lock()
	defer mu.Unlock()
	if !containsInOrder(statuses, core.WorkerIdle, core.WorkerUnhealthy, core.WorkerCrashed, core.WorkerStarting, core.WorkerIdle) {
		t.Errorf("status changes %v lack idle → unhealthy → crashed → starting → idle", statuses)
	}
}

func containsInOrder[T comparable](seq []T, want ...T) bool {
	i := 0
	for _, v := range seq {
		if i < len(want) && v == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestWaitForIdleWorker(t *testing.T) {
	t.Parallel()
	cfg := fakeConfig(1)
	cfg.AcquireTimeout = 100 * time.Millisecond
	p := startPool(t, cfg)
	busy := request("busy:500", `null`)
	done := make(chan worker.Result)
	go func() { done <- mustExecute(t, p, busy) }()
	waitFor(t, 5*time.Second, "busy", func() bool { return p.Workers()[0].Status == core.WorkerBusy })

	_, err := p.Execute(context.Background(), request("echo", `1`))
	if !errors.Is(err, &core.Error{Kind: core.KindServiceUnavailable}) {
		t.Errorf("Execute with every worker busy past AcquireTimeout = %v, want ServiceUnavailableError", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = p.Execute(ctx, request("echo", `1`))
	if !errors.Is(err, core.ErrCancelled) {
		t.Errorf("Execute cancelled while waiting = %v, want CancelledError", err)
	}
	dup := busy
	dup.Task.Code = "echo"
	if _, err := p.Execute(context.Background(), dup); !errors.Is(err, core.ErrConflict) {
		t.Errorf("Execute with a running execution's id = %v, want ConflictError", err)
	}
	<-done
}

func TestWaiterGetsFreedWorker(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(1))
	done := make(chan worker.Result)
	go func() { done <- mustExecute(t, p, request("busy:200", `null`)) }()
	waitFor(t, 5*time.Second, "busy", func() bool { return p.Workers()[0].Status == core.WorkerBusy })
	wantOutput(t, mustExecute(t, p, request("echo", `7`)), `7`)
	if res := <-done; res.Err != nil {
		t.Fatal(res.Err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := pool.New(pool.Config{WorkerCount: -1, Command: testCommand("fake")})
	if err == nil {
		t.Fatal("New with a negative worker count answered nil")
	}
	p, err := pool.New(pool.Config{WorkerCount: 1, Command: testCommand("fake")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Execute(context.Background(), request("echo", `1`)); !errors.Is(err, &core.Error{Kind: core.KindServiceUnavailable}) {
		t.Errorf("Execute before Start = %v", err)
	}
	if err := p.Stop(context.Background()); err != nil {
		t.Errorf("Stop before Start = %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	t.Parallel()
	p, err := pool.New(pool.Config{
		WorkerCount: 2, StartTimeout: 2 * time.Second, Logger: testLogger(t),
		Command: func(ctx context.Context) *exec.Cmd { return exec.CommandContext(ctx, "/bin/false") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err == nil {
		t.Fatal("Start with workers that exit at once answered nil")
	}
	if pids := children(t); len(pids) != 0 {
		// Other parallel tests have children too; only ours matter.
		for _, pid := range pids {
			if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == "/bin/false" || exe == "/usr/bin/false" {
				t.Errorf("a failed worker %d is left", pid)
			}
		}
	}
}

func TestRunIsolated(t *testing.T) {
	t.Parallel()
	res, err := pool.RunIsolated(context.Background(), pool.Config{Command: testCommand("engine"), Logger: testLogger(t)},
		jsRequest(`function main(i) { return i.a + i.b; }`, `{"a":1,"b":2}`))
	if err != nil {
		t.Fatal(err)
	}
	wantOutput(t, res, `3`)
}

func TestWorkerOutlivesSIGTERM(t *testing.T) {
	t.Parallel()
	p := startPool(t, fakeConfig(1))
	pid := p.Workers()[0].PID
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	res := mustExecute(t, p, request("pid", `null`))
	wantOutput(t, res, strconv.Itoa(pid))
}

func TestWorkersDieWithHost(t *testing.T) {
	t.Parallel()
	host := exec.Command(os.Args[0])
	host.Env = append(os.Environ(), envHost+"=1")
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	if err := json.NewDecoder(out).Decode(&pids); err != nil {
		_ = host.Process.Kill()
		_ = host.Wait()
		t.Fatal(err)
	}
	if len(pids) != 2 {
		t.Fatalf("host reported workers %v", pids)
	}
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	waitFor(t, 5*time.Second, "orphaned workers to die", func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return true
	})
}

// alive reports whether pid runs (a zombie is dead).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
