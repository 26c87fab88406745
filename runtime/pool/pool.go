package pool

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/resilience/retry"
)

type state int

const (
	stateNew state = iota
	stateStarted
	stateStopping
	stateStopped
)

// Pool supervises worker processes and runs executions on them, one at a
// time per worker.
type Pool struct {
	cfg     Config
	log     *slog.Logger
	backoff retry.Policy
	notify  *notifier

	// superviseCtx ends when the pool starts stopping: pending restarts and
	// health checks give up. procCtx ends when it has stopped.
	superviseCtx    context.Context
	superviseCancel context.CancelFunc
	procCtx         context.Context
	procCancel      context.CancelFunc

	mu      sync.Mutex
	state   state
	slots   []*slot
	idle    []*slot
	waiters list.List // of *waiter, oldest first
	running map[string]*execution

	starting sync.WaitGroup // a Start in progress
	inflight sync.WaitGroup // executions holding a worker
	bg       sync.WaitGroup // starts, restarts, exit watchers, health checks
	stopped  chan struct{}
}

var _ lifecycle.Component = (*Pool)(nil)

// slot is one worker position of the pool; its process is replaced when it
// dies. Guarded by the pool's mutex.
type slot struct {
	index  int
	id     string
	status core.WorkerStatus
	proc   *process // nil while down
	// down is set when the slot gave up for good (a crash without
	// RestartOnCrash).
	down bool

	restarts      int
	recent        []time.Time // crash restarts within the window
	executions    int64
	failures      int64
	current       string
	startedAt     time.Time
	lastHeartbeat time.Time
	rss           int64
}

// New checks cfg and returns a pool that is not started yet.
func New(cfg Config) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	delay := cfg.RestartDelay
	if delay < 0 {
		delay = 0
	}
	p := &Pool{
		cfg: cfg,
		log: cfg.Logger.With(slog.String("component", "worker_pool")),
		backoff: retry.Policy{
			InitialDelay: delay,
			MaxDelay:     max(cfg.RestartWindow, delay),
			Multiplier:   2,
			Jitter:       0.1,
		},
		running: make(map[string]*execution),
		stopped: make(chan struct{}),
	}
	p.notify = newNotifier(cfg.OnStatusChange)
	p.superviseCtx, p.superviseCancel = context.WithCancel(context.Background())
	p.procCtx, p.procCancel = context.WithCancel(context.Background())
	for i := range cfg.WorkerCount {
		p.slots = append(p.slots, &slot{
			index:  i,
			id:     fmt.Sprintf("%s-worker-%d", cfg.Node, i+1),
			status: core.WorkerStopped,
		})
	}
	return p, nil
}

// Size is the number of workers.
func (p *Pool) Size() int { return len(p.slots) }

// Start starts every worker process and waits until all of them answer.
// If one cannot start, Start stops the others and returns why. ctx bounds
// the start only.
func (p *Pool) Start(ctx context.Context) error {
	p.mu.Lock()
	switch p.state {
	case stateStarted:
		p.mu.Unlock()
		return lifecycle.ErrAlreadyStarted
	case stateStopping, stateStopped:
		p.mu.Unlock()
		return lifecycle.ErrStopped
	}
	p.state = stateStarted
	p.starting.Add(1)
	for _, s := range p.slots {
		p.setStatusLocked(s, core.WorkerStarting)
	}
	p.mu.Unlock()
	p.notify.start()

	type started struct {
		proc *process
		err  error
	}
	results := make([]started, len(p.slots))
	var wg sync.WaitGroup
	for i, s := range p.slots {
		wg.Go(func() {
			proc, err := p.spawn(s)
			results[i] = started{proc, err}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var startErr error
	select {
	case <-done:
	case <-ctx.Done():
		<-done // spawns are bounded by StartTimeout
		startErr = fmt.Errorf("starting the worker pool: %w", context.Cause(ctx))
	}
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if startErr == nil && len(errs) > 0 {
		startErr = fmt.Errorf("starting the worker pool: %w", errors.Join(errs...))
	}
	p.mu.Lock()
	stopping := p.state != stateStarted
	if startErr == nil && stopping {
		// Stop was called meanwhile; it waits for this Start.
		startErr = lifecycle.ErrStopped
	}
	if startErr != nil {
		p.mu.Unlock()
		for _, r := range results {
			if r.proc != nil {
				r.proc.signalKill()
				r.proc.close()
			}
		}
		p.starting.Done()
		if !stopping {
			p.Kill()
		}
		return startErr
	}
	for i, s := range p.slots {
		p.installLocked(s, results[i].proc)
	}
	if p.cfg.HealthCheckInterval > 0 {
		p.bg.Go(p.healthLoop)
	}
	p.mu.Unlock()
	p.starting.Done()
	p.log.InfoContext(ctx, "worker pool started", slog.Int("workers", len(p.slots)))
	return nil
}

// installLocked makes proc the process of slot s and offers s for work.
func (p *Pool) installLocked(s *slot, proc *process) {
	s.proc = proc
	s.startedAt = proc.startedAt
	s.lastHeartbeat = proc.startedAt
	s.rss = 0
	p.bg.Go(func() { p.watch(s, proc) })
	p.makeAvailableLocked(s)
}

// Stop drains the pool: no new executions are accepted (waiting ones fail),
// running ones finish, then every worker process is shut down. When ctx
// ends first, the running executions are interrupted (CancelledError) and
// their workers killed. Stop returns once no worker process is left. It is
// idempotent and safe before Start.
func (p *Pool) Stop(ctx context.Context) error {
	return p.stop(ctx, false)
}

// Kill stops the pool at once: running executions fail with
// CancelledError, every worker process is killed (SIGKILL). It returns once
// no worker process is left.
func (p *Pool) Kill() {
	_ = p.stop(context.Background(), true)
}

func (p *Pool) stop(ctx context.Context, hard bool) error {
	p.mu.Lock()
	switch p.state {
	case stateNew:
		p.state = stateStopped
		close(p.stopped)
		p.mu.Unlock()
		return nil
	case stateStopping, stateStopped:
		p.mu.Unlock()
		select {
		case <-p.stopped:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("stopping the worker pool: %w", context.Cause(ctx))
		}
	}
	p.state = stateStopping
	p.failWaitersLocked(errStopping())
	p.mu.Unlock()
	p.superviseCancel()

	var err error
	if hard {
		p.killRunning()
	} else {
		drained := make(chan struct{})
		go func() { p.inflight.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-ctx.Done():
			err = fmt.Errorf("worker pool drain cut short: %w", context.Cause(ctx))
			p.killRunning()
			<-drained
		}
	}
	p.inflight.Wait()
	// A Start in progress ends its own processes when it sees the pool
	// stopping.
	p.starting.Wait()

	p.mu.Lock()
	var procs []*process
	for _, s := range p.slots {
		if s.proc != nil {
			s.proc.killedFor = killShutdown
			procs = append(procs, s.proc)
		}
		p.setStatusLocked(s, core.WorkerStopping)
	}
	p.idle = nil
	p.mu.Unlock()

	var wg sync.WaitGroup
	for _, proc := range procs {
		wg.Go(func() {
			if hard {
				proc.signalKill()
			}
			proc.close()
		})
	}
	wg.Wait()
	p.procCancel()
	p.bg.Wait()

	p.mu.Lock()
	for _, s := range p.slots {
		s.proc = nil
		s.current = ""
		p.setStatusLocked(s, core.WorkerStopped)
	}
	p.state = stateStopped
	p.mu.Unlock()
	p.notify.stop()
	close(p.stopped)
	p.log.Info("worker pool stopped")
	return err
}

// killRunning kills the workers of every running execution, which then
// fail with CancelledError.
func (p *Pool) killRunning() {
	p.mu.Lock()
	execs := make([]*execution, 0, len(p.running))
	for _, e := range p.running {
		execs = append(execs, e)
	}
	p.mu.Unlock()
	for _, e := range execs {
		e.markReason(killShutdown)
		p.killProcess(e.proc, killShutdown)
	}
}

// killProcess kills proc on purpose (reason says why; killUnhealthy counts
// as a crash). Its exit watcher replaces it.
func (p *Pool) killProcess(proc *process, reason string) {
	p.mu.Lock()
	if proc.killedFor == killNone {
		proc.killedFor = reason
	}
	p.mu.Unlock()
	proc.signalKill()
}

// Workers answers a snapshot of every worker, for GET /workers.
func (p *Pool) Workers() []core.Worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]core.Worker, len(p.slots))
	for i, s := range p.slots {
		out[i] = p.snapshotLocked(s)
	}
	return out
}

func (p *Pool) snapshotLocked(s *slot) core.Worker {
	w := core.Worker{
		ID:              s.id,
		Node:            p.cfg.Node,
		Status:          s.status,
		ExecutionsTotal: s.executions,
		FailuresTotal:   s.failures,
		Restarts:        s.restarts,
		MemoryBytes:     s.rss,
		StartedAt:       s.startedAt,
	}
	if s.proc != nil {
		w.PID = s.proc.pid
	}
	if s.current != "" {
		if id, err := strconv.ParseInt(s.current, 10, 64); err == nil {
			w.CurrentExecutionID = &id
		}
	}
	if !s.lastHeartbeat.IsZero() {
		t := s.lastHeartbeat
		w.LastHeartbeatAt = &t
	}
	return w
}

// setStatusLocked changes a slot's status and reports the change.
func (p *Pool) setStatusLocked(s *slot, st core.WorkerStatus) {
	if s.status == st {
		return
	}
	s.status = st
	p.notify.send(p.snapshotLocked(s))
}

func errStopping() error {
	return core.NewError(core.KindServiceUnavailable, "the worker pool is stopping")
}
