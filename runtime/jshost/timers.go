package jshost

import (
	"context"
	"sort"
	"time"

	"github.com/dop251/goja"
)

// Timers gives a runtime setTimeout, clearTimeout, setInterval and
// clearInterval. Callbacks run only when the engine waits for a promise to
// settle (RunNext), on the runtime's goroutine, in due order. A task that
// returns without waiting for its timers leaves them unrun.
type Timers struct {
	// MaxPending bounds the timers waiting at once. Zero means 10000.
	MaxPending int

	rt      *goja.Runtime
	next    int64
	pending map[int64]*timer
}

type timer struct {
	id       int64
	due      time.Time
	seq      int64
	fn       goja.Callable
	args     []goja.Value
	interval time.Duration // > 0 for setInterval
}

// Install defines the timer functions in rt.
func (t *Timers) Install(rt *goja.Runtime) error {
	t.rt = rt
	t.pending = map[int64]*timer{}
	add := func(repeat bool) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			fn, ok := goja.AssertFunction(call.Argument(0))
			if !ok {
				Throw(rt, "TypeError", "the first argument must be a function", nil)
			}
			max := t.MaxPending
			if max <= 0 {
				max = 10000
			}
			if len(t.pending) >= max {
				Throw(rt, "RuntimeError", "too many pending timers", nil)
			}
			delay := time.Duration(call.Argument(1).ToFloat() * float64(time.Millisecond))
			if delay < 0 || delay != delay {
				delay = 0
			}
			t.next++
			tm := &timer{id: t.next, seq: t.next, due: time.Now().Add(delay), fn: fn}
			if len(call.Arguments) > 2 {
				tm.args = append([]goja.Value(nil), call.Arguments[2:]...)
			}
			if repeat {
				tm.interval = max1ms(delay)
			}
			t.pending[tm.id] = tm
			return rt.ToValue(tm.id)
		}
	}
	clear := func(call goja.FunctionCall) goja.Value {
		delete(t.pending, call.Argument(0).ToInteger())
		return goja.Undefined()
	}
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"setTimeout": add(false), "setInterval": add(true), "clearTimeout": clear, "clearInterval": clear,
	} {
		if err := rt.Set(name, fn); err != nil {
			return err
		}
	}
	return nil
}

func max1ms(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return time.Millisecond
	}
	return d
}

// Pending reports how many timers wait.
func (t *Timers) Pending() int { return len(t.pending) }

// RunNext waits for the earliest timer and runs its callback. It returns
// false when no timer is pending, and ctx's error when ctx ends first.
func (t *Timers) RunNext(ctx context.Context) (bool, error) {
	if len(t.pending) == 0 {
		return false, nil
	}
	all := make([]*timer, 0, len(t.pending))
	for _, tm := range t.pending {
		all = append(all, tm)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].due.Equal(all[j].due) {
			return all[i].due.Before(all[j].due)
		}
		return all[i].seq < all[j].seq
	})
	tm := all[0]
	if wait := time.Until(tm.due); wait > 0 {
		w := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			w.Stop()
			return true, context.Cause(ctx)
		case <-w.C:
		}
	}
	if tm.interval > 0 {
		t.next++
		tm.seq = t.next
		tm.due = time.Now().Add(tm.interval)
	} else {
		delete(t.pending, tm.id)
	}
	_, err := tm.fn(goja.Undefined(), tm.args...)
	return true, err
}
