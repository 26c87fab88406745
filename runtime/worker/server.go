package worker

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ratchet-go/ratchet/caching/cache"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker/workerpb"
)

// Executor runs one execution inside the worker process. The worker gives
// it the task with its content (from the request or the worker's cache) and
// a context that ends on timeout, cancellation or the memory limit, with
// the reason as its cause (a *core.Error).
type Executor interface {
	Execute(ctx context.Context, req Request) Result
}

// Cancel reasons of the Cancel RPC.
const (
	ReasonCancelled = "cancelled"
	ReasonTimeout   = "timeout"
	ReasonShutdown  = "shutdown"
)

// server implements the worker service in the worker process.
type server struct {
	workerpb.UnimplementedWorkerServer

	exec   Executor
	log    *slog.Logger
	tasks  *cache.Cache[string, Task]
	memory *memoryGuard
	proc   *procStats

	startedAt time.Time
	pid       int

	mu      sync.Mutex
	running bool
	current string
	cancel  context.CancelCauseFunc

	executions atomic.Int64
	failures   atomic.Int64
	received   atomic.Int64
}

var _ workerpb.WorkerServer = (*server)(nil)

func newServer(exec Executor, log *slog.Logger, cacheSize int, memory *memoryGuard) (*server, error) {
	tasks, err := cache.New(cache.Options[string, Task]{
		MaxEntries: cacheSize,
		MaxBytes:   taskCacheMaxBytes,
		SizeOf: func(t Task) int64 {
			return int64(len(t.Code) + len(t.InputSchema) + len(t.OutputSchema) + len(t.Hash))
		},
	})
	if err != nil {
		return nil, err
	}
	return &server{
		exec:      exec,
		log:       log,
		tasks:     tasks,
		memory:    memory,
		proc:      openProcStats(),
		startedAt: time.Now(),
		pid:       os.Getpid(),
	}, nil
}

// taskCacheMaxBytes bounds the task contents a worker keeps.
const taskCacheMaxBytes = 64 << 20

func (s *server) Execute(ctx context.Context, pb *workerpb.ExecuteRequest) (*workerpb.ExecuteResponse, error) {
	start := time.Now()
	ref := pb.GetTask()
	if ref.GetHash() == "" {
		return nil, status.Error(codes.InvalidArgument, "task hash is required")
	}
	var task Task
	if c := pb.GetContent(); c != nil {
		task = taskFromPB(ref, c)
		s.tasks.Set(task.Hash, task)
		s.received.Add(1)
	} else {
		cached, ok := s.tasks.Get(ref.GetHash())
		if !ok {
			return &workerpb.ExecuteResponse{Outcome: workerpb.Outcome_OUTCOME_UNKNOWN_TASK}, nil
		}
		// The reference's names win: the same content may run under a
		// renamed task.
		task = cached
		task.ID, task.Name, task.Version = ref.GetTaskId(), ref.GetName(), ref.GetVersion()
	}
	req, err := requestFromPB(pb, task)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}

	execCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !s.begin(req.Context.ExecutionID, cancel) {
		return nil, errBusy
	}
	// The engine enforces the timeout itself, with a message that says which
	// limit it was; this deadline, a moment later, holds for any executor.
	t := req.Timeout()
	execCtx, stop := context.WithTimeoutCause(execCtx, t+timeoutSlack, timeoutError(t))
	defer stop()
	watch := s.memory.watch(cancel)
	res := s.run(execCtx, req)
	if watch.stop() {
		res.Output = nil
		res.Err = s.memory.limitError()
	}
	s.end()
	if res.Err != nil && res.Err.Kind == core.KindMemoryLimit {
		s.memory.release()
	}

	s.executions.Add(1)
	if res.Err != nil {
		s.failures.Add(1)
	}
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	res.Stats = s.stats()
	return resultToPB(&res), nil
}

// run calls the executor, turning a panic into a RuntimeError so a bug in
// one execution does not take the worker down.
func (s *server) run(ctx context.Context, req Request) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "execution panicked", slog.String("execution_id", req.Context.ExecutionID), slog.Any("panic", p))
			res = Result{Err: core.Errorf(core.KindRuntime, "the runtime failed: %v", p)}
		}
	}()
	res = s.exec.Execute(ctx, req)
	if res.Err == nil && ctx.Err() != nil {
		// Ended by the context although the executor reported success: the
		// cause (timeout, cancellation, memory limit) wins, as it would have a
		// moment earlier.
		if e := causeError(ctx); e != nil {
			res.Output, res.Err = nil, e
		}
	}
	return res
}

func (s *server) begin(id string, cancel context.CancelCauseFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	s.running, s.current, s.cancel = true, id, cancel
	return true
}

func (s *server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running, s.current, s.cancel = false, "", nil
}

func (s *server) Cancel(_ context.Context, pb *workerpb.CancelRequest) (*workerpb.CancelResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running || s.current != pb.GetExecutionId() {
		return &workerpb.CancelResponse{}, nil
	}
	var cause *core.Error
	switch pb.GetReason() {
	case ReasonTimeout:
		cause = core.NewError(core.KindTimeout, "execution timed out")
	case ReasonShutdown:
		cause = core.NewError(core.KindCancelled, "execution cancelled: the worker pool is shutting down")
	default:
		cause = core.NewError(core.KindCancelled, "execution cancelled")
	}
	s.cancel(cause)
	return &workerpb.CancelResponse{Found: true}, nil
}

func (s *server) Health(context.Context, *workerpb.HealthRequest) (*workerpb.WorkerStats, error) {
	st := s.stats()
	return statsToPB(&st), nil
}

func (s *server) stats() Stats {
	s.mu.Lock()
	current := s.current
	s.mu.Unlock()
	now := time.Now()
	return Stats{
		PID:                  s.pid,
		StartedAt:            s.startedAt,
		Uptime:               now.Sub(s.startedAt),
		ExecutionsTotal:      s.executions.Load(),
		FailuresTotal:        s.failures.Load(),
		RSSBytes:             s.proc.rss(),
		HeapBytes:            heapLive(),
		CurrentExecutionID:   current,
		CachedTasks:          s.tasks.Len(),
		TaskContentsReceived: s.received.Load(),
		MemoryLimitBytes:     s.memory.limit,
	}
}

// timeoutSlack lets the executor's own timeout fire first.
const timeoutSlack = 20 * time.Millisecond

func timeoutError(d time.Duration) *core.Error {
	return core.Errorf(core.KindTimeout, "execution exceeded its timeout of %s", d)
}

// causeError is why ctx ended as a *core.Error.
func causeError(ctx context.Context) *core.Error {
	cause := context.Cause(ctx)
	if cause == nil {
		return nil
	}
	if e, ok := cause.(*core.Error); ok {
		return e
	}
	return core.WrapError(core.KindOf(cause), cause, "execution stopped")
}
