package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// execution is one execution holding a worker.
type execution struct {
	id   string
	slot *slot
	proc *process

	mu        sync.Mutex
	finished  bool
	reason    string // why it is being interrupted; "" while not
	killTimer *time.Timer
}

// waiter is an Execute call waiting for an idle worker.
type waiter struct {
	id string
	// ch receives the execution handed to this waiter, or nil when it
	// cannot have one (err says why).
	ch  chan *execution
	err error
}

// Execute runs req on an idle worker, waiting for one if all are busy (at
// most AcquireTimeout, and while ctx lasts). The error is non-nil only when
// the execution never started: the pool is not running
// (ServiceUnavailableError), no worker became idle in time
// (ServiceUnavailableError), ctx ended while waiting (TimeoutError or
// CancelledError), or req.Context.ExecutionID is already running
// (ConflictError).
//
// Every execution that started ends in the Result: the task's output or
// failure; TimeoutError when req.Timeout() or ctx's deadline passed,
// CancelledError when ctx was cancelled or Cancel was called (a worker that
// does not stop within KillGrace is killed and replaced); WorkerCrashError
// when the worker process died (it is replaced).
func (p *Pool) Execute(ctx context.Context, req worker.Request) (worker.Result, error) {
	e, err := p.acquire(ctx, req.Context.ExecutionID)
	if err != nil {
		return worker.Result{}, err
	}
	res := p.run(ctx, e, req)
	p.release(e, &res)
	return res, nil
}

func (p *Pool) acquire(ctx context.Context, id string) (*execution, error) {
	if err := ctx.Err(); err != nil {
		return nil, waitError(ctx)
	}
	p.mu.Lock()
	if st := p.state; st != stateStarted {
		p.mu.Unlock()
		if st == stateNew {
			return nil, core.NewError(core.KindServiceUnavailable, "the worker pool is not started")
		}
		return nil, errStopping()
	}
	if id != "" {
		if _, dup := p.running[id]; dup {
			p.mu.Unlock()
			return nil, core.Errorf(core.KindConflict, "execution %s is already running", id)
		}
	}
	if n := len(p.idle); n > 0 {
		s := p.idle[n-1]
		p.idle = p.idle[:n-1]
		e := p.assignLocked(s, id)
		p.mu.Unlock()
		return e, nil
	}
	if !p.hasCapacityLocked() {
		p.mu.Unlock()
		return nil, core.NewError(core.KindServiceUnavailable, "no worker is running: every worker crashed and restart_on_crash is off")
	}
	w := &waiter{id: id, ch: make(chan *execution, 1)}
	elem := p.waiters.PushBack(w)
	p.mu.Unlock()

	var timeout <-chan time.Time
	if p.cfg.AcquireTimeout > 0 {
		t := time.NewTimer(p.cfg.AcquireTimeout)
		defer t.Stop()
		timeout = t.C
	}
	var waitErr error
	select {
	case e := <-w.ch:
		if e == nil {
			return nil, w.err
		}
		return e, nil
	case <-ctx.Done():
		waitErr = waitError(ctx)
	case <-timeout:
		waitErr = core.Errorf(core.KindServiceUnavailable, "no worker became available within %s: all %d workers are busy or restarting", p.cfg.AcquireTimeout, len(p.slots)).
			WithDetail("workers", len(p.slots))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case e := <-w.ch:
		// Handed a worker as we gave up: pass it on.
		if e != nil {
			p.unassignLocked(e)
		}
	default:
		p.waiters.Remove(elem)
	}
	return nil, waitErr
}

func waitError(ctx context.Context) error {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return core.WrapError(core.KindTimeout, cause, "timed out waiting for an idle worker")
	}
	return core.WrapError(core.KindCancelled, cause, "cancelled while waiting for an idle worker")
}

// assignLocked marks s busy with execution id.
func (p *Pool) assignLocked(s *slot, id string) *execution {
	e := &execution{id: id, slot: s, proc: s.proc}
	s.current = id
	if id != "" {
		p.running[id] = e
	}
	p.inflight.Add(1)
	p.setStatusLocked(s, core.WorkerBusy)
	return e
}

// unassignLocked undoes assignLocked for an execution that never ran.
func (p *Pool) unassignLocked(e *execution) {
	s := e.slot
	if e.id != "" && p.running[e.id] == e {
		delete(p.running, e.id)
	}
	s.current = ""
	p.inflight.Done()
	if s.proc == e.proc && e.proc.killedFor == killNone && !e.proc.isExited() {
		p.makeAvailableLocked(s)
	}
}

// makeAvailableLocked offers an idle slot to the oldest waiter, or puts it
// on the idle list.
func (p *Pool) makeAvailableLocked(s *slot) {
	if p.state != stateStarted {
		p.setStatusLocked(s, core.WorkerIdle)
		return
	}
	for p.waiters.Len() > 0 {
		w := p.waiters.Remove(p.waiters.Front()).(*waiter)
		if w.id != "" {
			if _, dup := p.running[w.id]; dup {
				w.err = core.Errorf(core.KindConflict, "execution %s is already running", w.id)
				w.ch <- nil
				continue
			}
		}
		w.ch <- p.assignLocked(s, w.id)
		return
	}
	p.setStatusLocked(s, core.WorkerIdle)
	p.idle = append(p.idle, s)
}

func (p *Pool) removeIdleLocked(s *slot) {
	for i, x := range p.idle {
		if x == s {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return
		}
	}
}

func (p *Pool) failWaitersLocked(err error) {
	for p.waiters.Len() > 0 {
		w := p.waiters.Remove(p.waiters.Front()).(*waiter)
		w.err = err
		w.ch <- nil
	}
}

// hasCapacityLocked reports whether some worker runs or will run again.
func (p *Pool) hasCapacityLocked() bool {
	for _, s := range p.slots {
		if !s.down {
			return true
		}
	}
	return false
}

// run executes on the worker. The call to the worker is detached from ctx:
// when ctx ends, or the execution's timeout passes, the worker is asked to
// interrupt it (and answers with the result so far), and killed when it has
// not answered within KillGrace.
func (p *Pool) run(ctx context.Context, e *execution, req worker.Request) worker.Result {
	rpcCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stopAfter := context.AfterFunc(ctx, func() {
		reason := killCancelled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = killTimeout
		}
		p.interrupt(e, reason)
	})
	// The worker interrupts the execution when its timeout passes; if it has
	// not answered then, it is asked again and killed after KillGrace.
	timer := time.AfterFunc(req.Timeout(), func() { p.interrupt(e, killTimeout) })
	res, err := e.proc.wc.Execute(rpcCtx, req)
	stopAfter()
	timer.Stop()
	reason := e.finish()
	if err == nil {
		return res
	}
	return worker.Result{Err: p.failure(e, reason, err)}
}

// finish marks the execution over and answers why it was interrupted, if
// it was.
func (e *execution) finish() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.finished = true
	if e.killTimer != nil {
		e.killTimer.Stop()
	}
	return e.reason
}

// markReason records why the execution is being interrupted; the first
// reason wins. It answers false when the execution is over or was already
// being interrupted.
func (e *execution) markReason(reason string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.finished || e.reason != "" {
		return false
	}
	e.reason = reason
	return true
}

// interrupt asks the worker to stop the execution and arms the kill.
func (p *Pool) interrupt(e *execution, reason string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.finished || e.reason != "" {
		return
	}
	e.reason = reason
	e.killTimer = time.AfterFunc(p.cfg.KillGrace, func() {
		e.mu.Lock()
		finished := e.finished
		e.mu.Unlock()
		if finished {
			return
		}
		p.log.Warn("execution did not stop in time; killing its worker",
			slog.String("execution_id", e.id), slog.String("worker_id", e.slot.id),
			slog.Int("pid", e.proc.pid), slog.String("reason", reason), slog.Duration("grace", p.cfg.KillGrace))
		p.killProcess(e.proc, reason)
	})
	if e.id == "" {
		return
	}
	// Registered while the execution holds its worker, so Stop's wait for
	// background work covers it.
	p.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.KillGrace)
		defer cancel()
		if _, err := e.proc.wc.Cancel(ctx, e.id, reason); err != nil {
			p.log.Debug("cancel call failed", slog.String("execution_id", e.id), slog.Any("error", err))
		}
	})
}

// exitWait is how long a worker whose connection broke may take to be seen
// exiting before it is killed.
const exitWait = 200 * time.Millisecond

// failure is the error of an execution whose worker call failed.
func (p *Pool) failure(e *execution, reason string, err error) *core.Error {
	p.mu.Lock()
	killedFor := e.proc.killedFor
	p.mu.Unlock()
	if !errors.Is(err, worker.ErrGone) {
		var ce *core.Error
		if errors.As(err, &ce) {
			return ce
		}
		return core.WrapError(core.KindInternal, err, "worker call failed")
	}
	if killedFor == killNone && !e.proc.isExited() {
		// The connection broke: give the process a moment to be seen
		// exiting, and make sure it does not linger when it does not.
		t := time.NewTimer(exitWait)
		select {
		case <-e.proc.exited():
		case <-t.C:
			p.killProcess(e.proc, killUnhealthy)
		}
		t.Stop()
	}
	var ce *core.Error
	switch {
	case reason == killTimeout:
		ce = core.Errorf(core.KindTimeout, "execution timed out; the worker did not stop within %s and was replaced", p.cfg.KillGrace)
	case reason == killShutdown:
		ce = core.NewError(core.KindCancelled, "execution cancelled: the worker pool was stopped")
	case reason == killCancelled:
		ce = core.Errorf(core.KindCancelled, "execution cancelled; the worker did not stop within %s and was replaced", p.cfg.KillGrace)
	case killedFor == killUnhealthy:
		ce = core.NewError(core.KindWorkerCrash, "the worker stopped answering health checks and was replaced")
	default:
		ce = core.NewError(core.KindWorkerCrash, "the worker process died during the execution")
	}
	ce.Err = err
	return ce.WithDetail("worker_id", e.slot.id).WithDetail("pid", e.proc.pid)
}

// release gives the worker back after an execution.
func (p *Pool) release(e *execution, res *worker.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := e.slot
	if e.id != "" && p.running[e.id] == e {
		delete(p.running, e.id)
	}
	s.executions++
	if res.Err != nil {
		s.failures++
	}
	if res.Stats.PID != 0 {
		s.rss = res.Stats.RSSBytes
		s.lastHeartbeat = time.Now()
	}
	if s.proc == e.proc {
		s.current = ""
		if e.proc.killedFor == killNone && !e.proc.isExited() {
			p.makeAvailableLocked(s)
		}
		// Otherwise the exit watcher replaces the process.
	}
	p.inflight.Done()
}

// Cancel interrupts the running execution with that id: the worker is asked
// to stop it, and killed and replaced if it has not within KillGrace. The
// execution ends with CancelledError. Cancel answers false when no such
// execution runs.
func (p *Pool) Cancel(executionID string) bool {
	p.mu.Lock()
	e, ok := p.running[executionID]
	p.mu.Unlock()
	if !ok {
		return false
	}
	p.interrupt(e, killCancelled)
	return true
}

// String describes the pool for logs.
func (p *Pool) String() string { return fmt.Sprintf("worker pool of %d", len(p.slots)) }
