package lifecycle_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/resilience/lifecycle"
)

// blockUntilCancelled is a loop that runs until its context ends and
// reports the cause.
func blockUntilCancelled(causes chan<- error) lifecycle.RunFunc {
	return func(ctx context.Context, _ <-chan struct{}) error {
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return ctx.Err()
	}
}

func TestRunnerStartStop(t *testing.T) {
	t.Parallel()
	causes := make(chan error, 1)
	r := lifecycle.NewRunner(blockUntilCancelled(causes))
	if r.Started() {
		t.Fatal("Started() before Start")
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !r.Started() {
		t.Fatal("Started() = false after Start")
	}
	if err := r.Start(t.Context()); !errors.Is(err, lifecycle.ErrAlreadyStarted) {
		t.Errorf("second Start() = %v, want ErrAlreadyStarted", err)
	}
	r.Stop()
	select {
	case <-r.Done():
	default:
		t.Fatal("Done() not closed after Stop returned")
	}
	if cause := <-causes; !errors.Is(cause, lifecycle.ErrStopped) {
		t.Errorf("loop context cause = %v, want ErrStopped", cause)
	}
	if r.Started() {
		t.Error("Started() = true after Stop")
	}
	if !errors.Is(r.Err(), context.Canceled) {
		t.Errorf("Err() = %v, want the loop's context.Canceled", r.Err())
	}
	r.Stop() // idempotent
	if err := r.Start(t.Context()); !errors.Is(err, lifecycle.ErrStopped) {
		t.Errorf("Start() after Stop = %v, want ErrStopped", err)
	}
}

func TestRunnerStopBeforeStart(t *testing.T) {
	t.Parallel()
	ran := false
	r := lifecycle.NewRunner(func(context.Context, <-chan struct{}) error { ran = true; return nil })
	r.Stop()
	select {
	case <-r.Done():
	default:
		t.Error("Done() not closed after Stop before Start")
	}
	if err := r.Drain(t.Context()); err != nil {
		t.Errorf("Drain() after Stop = %v", err)
	}
	if err := r.Start(t.Context()); !errors.Is(err, lifecycle.ErrStopped) {
		t.Errorf("Start() after Stop = %v, want ErrStopped", err)
	}
	if ran {
		t.Error("loop ran although the runner was stopped before Start")
	}
}

func TestRunnerParentContextStopsLoop(t *testing.T) {
	t.Parallel()
	causes := make(chan error, 1)
	r := lifecycle.NewRunner(blockUntilCancelled(causes))
	ctx, cancel := context.WithCancel(t.Context())
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-r.Done()
	if cause := <-causes; !errors.Is(cause, context.Canceled) {
		t.Errorf("cause = %v, want context.Canceled", cause)
	}
	r.Stop()
}

func TestRunnerLoopReturnsOnItsOwn(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := lifecycle.NewRunner(func(context.Context, <-chan struct{}) error { return boom })
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-r.Done()
	if !errors.Is(r.Err(), boom) {
		t.Errorf("Err() = %v, want %v", r.Err(), boom)
	}
	if r.Started() {
		t.Error("Started() = true after the loop returned")
	}
	r.Stop()
}

func TestRunnerDrain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		finishAfter time.Duration // how long the loop takes to finish once stopping closes
		timeout     time.Duration
		wantErr     bool
		wantCancel  bool
	}{
		{"finishes in time", 0, time.Minute, false, false},
		{"cut short", time.Hour, 10 * time.Millisecond, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cancelled := make(chan bool, 1)
			r := lifecycle.NewRunner(func(ctx context.Context, stopping <-chan struct{}) error {
				<-stopping
				select {
				case <-time.After(tt.finishAfter):
					cancelled <- false
					return nil
				case <-ctx.Done():
					cancelled <- true
					return ctx.Err()
				}
			})
			if err := r.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), tt.timeout)
			defer cancel()
			err := r.Drain(ctx)
			if (err != nil) != tt.wantErr {
				t.Errorf("Drain() = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Drain() = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if got := <-cancelled; got != tt.wantCancel {
				t.Errorf("loop cancelled = %v, want %v", got, tt.wantCancel)
			}
			select {
			case <-r.Done():
			default:
				t.Error("Done() not closed after Drain returned")
			}
			r.Stop()
		})
	}
}

func TestRunnerConcurrentStops(t *testing.T) {
	t.Parallel()
	causes := make(chan error, 1)
	r := lifecycle.NewRunner(blockUntilCancelled(causes))
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if i%2 == 0 {
				r.Stop()
			} else {
				_ = r.Drain(t.Context())
			}
			select {
			case <-r.Done():
			default:
				t.Error("a Stop or Drain returned before the loop did")
			}
		})
	}
	wg.Wait()
	<-causes
}
