package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/resilience/breaker"
)

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// changes records OnStateChange calls.
type changes struct {
	mu  sync.Mutex
	log []string
}

func (c *changes) record(name string, from, to breaker.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, fmt.Sprintf("%s:%s->%s", name, from, to))
}

func (c *changes) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

func newBreaker(t *testing.T, cfg breaker.Config) (*breaker.Breaker, *clock, *changes) {
	t.Helper()
	clk, ch := newClock(), &changes{}
	cfg.Now = clk.Now
	cfg.OnStateChange = ch.record
	b, err := breaker.New("api.example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, clk, ch
}

var errBoom = errors.New("boom")

func fail(context.Context) error    { return errBoom }
func succeed(context.Context) error { return nil }

func TestStateString(t *testing.T) {
	t.Parallel()
	for s, want := range map[breaker.State]string{
		breaker.Closed: "closed", breaker.Open: "open", breaker.HalfOpen: "half-open", breaker.State(9): "state(9)",
	} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
		if b, _ := s.MarshalText(); string(b) != want {
			t.Errorf("State(%d).MarshalText() = %q, want %q", int(s), b, want)
		}
	}
}

func TestErrOpenIsRetryable(t *testing.T) {
	t.Parallel()
	var r interface{ Retryable() bool }
	if !errors.As(fmt.Errorf("fetch: %w", breaker.ErrOpen), &r) || !r.Retryable() {
		t.Error("a wrapped ErrOpen does not report Retryable() == true")
	}
	if !errors.As(breaker.ErrOpen, &r) || !r.Retryable() {
		t.Error("ErrOpen does not report Retryable() == true")
	}
	oe := breaker.NewOpenError("h", breaker.Open, time.Second)
	if !errors.Is(oe, breaker.ErrOpen) || !oe.Retryable() {
		t.Errorf("OpenError %v does not wrap ErrOpen or is not retryable", oe)
	}
}

func TestOpensAfterConsecutiveFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outcomes []bool // true = success
		wantOpen bool
	}{
		{"below threshold", []bool{false, false}, false},
		{"at threshold", []bool{false, false, false}, true},
		{"success resets the count", []bool{false, false, true, false, false}, false},
		{"three in a row after a success", []bool{false, true, false, false, false}, true},
		{"only successes", []bool{true, true, true, true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _, _ := newBreaker(t, breaker.Config{FailureThreshold: 3})
			for i, ok := range tt.outcomes {
				done, err := b.Allow()
				if err != nil {
					t.Fatalf("call %d rejected: %v", i, err)
				}
				done(ok)
			}
			if got := b.State() == breaker.Open; got != tt.wantOpen {
				t.Errorf("state = %s, want open=%v", b.State(), tt.wantOpen)
			}
		})
	}
}

func TestFullCycle(t *testing.T) {
	t.Parallel()
	b, clk, ch := newBreaker(t, breaker.Config{FailureThreshold: 2, CoolDown: 10 * time.Second, SuccessThreshold: 2})
	ctx := t.Context()

	for range 2 {
		if err := b.Execute(ctx, fail); !errors.Is(err, errBoom) {
			t.Fatalf("Execute() = %v, want %v", err, errBoom)
		}
	}
	if s := b.State(); s != breaker.Open {
		t.Fatalf("state after 2 failures = %s, want open", s)
	}

	clk.Advance(4 * time.Second)
	called := false
	err := b.Execute(ctx, func(context.Context) error { called = true; return nil })
	var oe *breaker.OpenError
	if !errors.Is(err, breaker.ErrOpen) || !errors.As(err, &oe) {
		t.Fatalf("Execute() on open breaker = %v, want ErrOpen", err)
	}
	if called {
		t.Error("open breaker called fn")
	}
	if oe.Name != "api.example.com" || oe.State != breaker.Open || oe.RetryAfter != 6*time.Second {
		t.Errorf("OpenError = %+v, want name api.example.com, state open, RetryAfter 6s", oe)
	}
	if !strings.Contains(err.Error(), `"api.example.com" is open: retry after 6s`) {
		t.Errorf("error message %q lacks name, state and retry-after", err)
	}

	clk.Advance(6 * time.Second)
	if s := b.State(); s != breaker.HalfOpen {
		t.Fatalf("state after cool-down = %s, want half-open", s)
	}
	if err := b.Execute(ctx, succeed); err != nil {
		t.Fatalf("first probe: %v", err)
	}
	if s := b.State(); s != breaker.HalfOpen {
		t.Fatalf("state after 1 of 2 successes = %s, want half-open", s)
	}
	if err := b.Execute(ctx, succeed); err != nil {
		t.Fatalf("second probe: %v", err)
	}
	if s := b.State(); s != breaker.Closed {
		t.Fatalf("state after 2 successes = %s, want closed", s)
	}

	want := []string{
		"api.example.com:closed->open",
		"api.example.com:open->half-open",
		"api.example.com:half-open->closed",
	}
	if got := ch.get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("state changes = %v, want %v", got, want)
	}
}

func TestFailedProbeReopens(t *testing.T) {
	t.Parallel()
	b, clk, ch := newBreaker(t, breaker.Config{FailureThreshold: 1, CoolDown: time.Second})
	_ = b.Execute(t.Context(), fail)
	clk.Advance(time.Second)
	if err := b.Execute(t.Context(), fail); !errors.Is(err, errBoom) {
		t.Fatalf("probe = %v, want %v", err, errBoom)
	}
	if s := b.State(); s != breaker.Open {
		t.Fatalf("state after failed probe = %s, want open", s)
	}
	// The cool-down restarts from the failed probe.
	clk.Advance(999 * time.Millisecond)
	if _, err := b.Allow(); !errors.Is(err, breaker.ErrOpen) {
		t.Errorf("Allow() before the new cool-down ended = %v, want ErrOpen", err)
	}
	want := "[api.example.com:closed->open api.example.com:open->half-open api.example.com:half-open->open]"
	if got := fmt.Sprint(ch.get()); got != want {
		t.Errorf("state changes = %v, want %v", got, want)
	}
}

func TestHalfOpenMaxCalls(t *testing.T) {
	t.Parallel()
	b, clk, _ := newBreaker(t, breaker.Config{FailureThreshold: 1, CoolDown: time.Second, HalfOpenMaxCalls: 2, SuccessThreshold: 3})
	_ = b.Execute(t.Context(), fail)
	clk.Advance(time.Second)

	d1, err1 := b.Allow()
	d2, err2 := b.Allow()
	if err1 != nil || err2 != nil {
		t.Fatalf("first two probes rejected: %v, %v", err1, err2)
	}
	_, err := b.Allow()
	var oe *breaker.OpenError
	if !errors.As(err, &oe) || oe.State != breaker.HalfOpen || oe.RetryAfter != 0 {
		t.Fatalf("third concurrent probe = %v, want OpenError in half-open", err)
	}
	d1(true)
	d1(false) // a second call of done is ignored
	d3, err := b.Allow()
	if err != nil {
		t.Fatalf("probe after a slot freed = %v", err)
	}
	d2(true)
	d3(true)
	if s := b.State(); s != breaker.Closed {
		t.Errorf("state after 3 successful probes = %s, want closed", s)
	}
}

func TestStaleResultsAreIgnored(t *testing.T) {
	t.Parallel()
	b, clk, _ := newBreaker(t, breaker.Config{FailureThreshold: 1, CoolDown: time.Second})
	slow, err := b.Allow() // admitted while closed
	if err != nil {
		t.Fatal(err)
	}
	_ = b.Execute(t.Context(), fail) // opens
	clk.Advance(time.Second)
	probe, err := b.Allow() // half-open probe
	if err != nil {
		t.Fatal(err)
	}
	slow(false) // from the closed generation: must not reopen
	if s := b.State(); s != breaker.HalfOpen {
		t.Fatalf("stale failure changed the state to %s", s)
	}
	probe(true)
	if s := b.State(); s != breaker.Closed {
		t.Errorf("state after successful probe = %s, want closed", s)
	}
}

func TestIsFailure(t *testing.T) {
	t.Parallel()
	notFound := errors.New("404")
	tests := []struct {
		name      string
		isFailure func(error) bool
		err       error
		wantOpen  bool
	}{
		{"default counts errors", nil, errBoom, true},
		{"default ignores cancellation", nil, fmt.Errorf("fetch: %w", context.Canceled), false},
		{"default counts deadline exceeded", nil, context.DeadlineExceeded, true},
		{"custom ignores 404", func(err error) bool { return err != nil && !errors.Is(err, notFound) }, notFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, _, _ := newBreaker(t, breaker.Config{FailureThreshold: 1, IsFailure: tt.isFailure})
			if err := b.Execute(t.Context(), func(context.Context) error { return tt.err }); err != tt.err {
				t.Errorf("Execute() = %v, want fn's error %v unchanged", err, tt.err)
			}
			if got := b.State() == breaker.Open; got != tt.wantOpen {
				t.Errorf("state = %s, want open=%v", b.State(), tt.wantOpen)
			}
		})
	}
}

func TestExecutePanicCountsAsFailure(t *testing.T) {
	t.Parallel()
	b, _, _ := newBreaker(t, breaker.Config{FailureThreshold: 1})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Execute swallowed the panic")
			}
		}()
		_ = b.Execute(t.Context(), func(context.Context) error { panic("bug") })
	}()
	if s := b.State(); s != breaker.Open {
		t.Errorf("state after panic = %s, want open", s)
	}
}

func TestExecutePassesContext(t *testing.T) {
	t.Parallel()
	b, _, _ := newBreaker(t, breaker.Config{})
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, 1)
	var got any
	_ = b.Execute(ctx, func(ctx context.Context) error { got = ctx.Value(key{}); return nil })
	if got != 1 {
		t.Error("fn did not get Execute's context")
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	b, _, ch := newBreaker(t, breaker.Config{FailureThreshold: 1})
	_ = b.Execute(t.Context(), fail)
	b.Reset()
	if s := b.State(); s != breaker.Closed {
		t.Errorf("state after Reset = %s, want closed", s)
	}
	if got := fmt.Sprint(ch.get()); got != "[api.example.com:closed->open api.example.com:open->closed]" {
		t.Errorf("state changes = %s", got)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	clk := newClock()
	b, err := breaker.New("x", breaker.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if s := b.State(); s != breaker.Closed {
			t.Fatalf("open after %d failures, default threshold is 5", i)
		}
		_ = b.Execute(t.Context(), fail)
	}
	if s := b.State(); s != breaker.Open {
		t.Fatalf("state after 5 failures = %s, want open", s)
	}
	clk.Advance(30*time.Second - 1)
	if s := b.State(); s != breaker.Open {
		t.Fatalf("state before the default 30s cool-down = %s, want open", s)
	}
	clk.Advance(1)
	if s := b.State(); s != breaker.HalfOpen {
		t.Fatalf("state after 30s = %s, want half-open", s)
	}
}

func TestNewRejectsNegativeConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  breaker.Config
		want string
	}{
		{breaker.Config{FailureThreshold: -1}, "failure threshold"},
		{breaker.Config{CoolDown: -time.Second}, "cool-down"},
		{breaker.Config{HalfOpenMaxCalls: -1}, "half-open max calls"},
		{breaker.Config{SuccessThreshold: -1}, "success threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if _, err := breaker.New("x", tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one mentioning %q", err, tt.want)
			}
			if _, err := breaker.NewRegistry(tt.cfg); err == nil {
				t.Error("NewRegistry() accepted an invalid config")
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b, clk, _ := newBreaker(t, breaker.Config{FailureThreshold: 3, CoolDown: time.Millisecond, HalfOpenMaxCalls: 2})
	var calls, rejected atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				err := b.Execute(t.Context(), func(context.Context) error {
					calls.Add(1)
					if (g+i)%3 == 0 {
						return errBoom
					}
					return nil
				})
				if errors.Is(err, breaker.ErrOpen) {
					rejected.Add(1)
				}
				if i%50 == 0 {
					clk.Advance(time.Millisecond)
				}
				_ = b.State()
			}
		})
	}
	wg.Wait()
	if calls.Load()+rejected.Load() != 8*500 {
		t.Errorf("calls %d + rejected %d != %d", calls.Load(), rejected.Load(), 8*500)
	}
}
