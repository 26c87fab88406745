package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

var (
	// ErrAlreadyStarted is returned by Start on a runner or group that was
	// already started.
	ErrAlreadyStarted = errors.New("lifecycle: already started")
	// ErrStopped is returned by Start on a runner or group that was stopped,
	// and is the context.Cause of a loop stopped by Stop or Drain.
	ErrStopped = errors.New("lifecycle: stopped")
)

// RunFunc is a runner's loop. It returns when ctx is done (Stop), and
// should return after finishing its current work once stopping is closed
// (Drain). Loops that have nothing to finish may ignore stopping.
type RunFunc func(ctx context.Context, stopping <-chan struct{}) error

// Runner runs a RunFunc in a background goroutine. A Runner runs once: it
// cannot be started again after it stopped. Its methods are safe for
// concurrent use.
type Runner struct {
	run RunFunc

	mu       sync.Mutex
	started  bool
	stopped  bool
	cancel   context.CancelCauseFunc
	stopping chan struct{}
	done     chan struct{}
	err      error
}

// NewRunner returns a runner for run.
func NewRunner(run RunFunc) *Runner {
	if run == nil {
		panic("lifecycle: NewRunner needs a non-nil RunFunc")
	}
	return &Runner{
		run:      run,
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Start launches the loop with a context derived from ctx: cancelling ctx
// stops the loop too, so pass a context that lives as long as the
// component, not a start-up deadline. It returns ErrAlreadyStarted or
// ErrStopped when the runner was started or stopped before.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopped:
		return ErrStopped
	case r.started:
		return ErrAlreadyStarted
	}
	r.started = true
	runCtx, cancel := context.WithCancelCause(ctx)
	r.cancel = cancel
	go func() {
		err := r.run(runCtx, r.stopping)
		cancel(ErrStopped)
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		close(r.done)
	}()
	return nil
}

// Stop cancels the loop's context with cause ErrStopped and waits for the
// loop to return. It is idempotent, and safe before Start (the runner then
// never starts).
func (r *Runner) Stop() {
	if !r.markStopped() {
		return
	}
	r.cancel(ErrStopped)
	<-r.done
}

// Drain closes the loop's stopping channel and waits for the loop to return.
// When ctx ends first, it cancels the loop as Stop does, waits for it and
// returns an error wrapping ctx's cause. It is safe before Start and after
// Stop.
func (r *Runner) Drain(ctx context.Context) error {
	if !r.markStopped() {
		return nil
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		r.cancel(ErrStopped)
		<-r.done
		return fmt.Errorf("lifecycle: drain cut short: %w", context.Cause(ctx))
	}
}

// markStopped marks the runner stopped and closes stopping. It reports
// whether a loop was started, that is whether the caller must wait for done.
func (r *Runner) markStopped() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.stopped = true
		close(r.stopping)
		if !r.started {
			close(r.done)
		}
	}
	return r.started
}

// Started reports whether the loop is running: Start succeeded, and neither
// has the runner been stopped nor has the loop returned.
func (r *Runner) Started() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || r.stopped {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// Done returns a channel closed when the loop has returned, or when the
// runner was stopped before it started.
func (r *Runner) Done() <-chan struct{} { return r.done }

// Err returns the loop's error once it has returned, else nil.
func (r *Runner) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
