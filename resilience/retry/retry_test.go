package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/quick"
	"time"

	"github.com/ratchet-go/ratchet/resilience/retry"
)

// fixed returns a random source that always yields r.
func fixed(r float64) func() float64 { return func() float64 { return r } }

func TestDelay(t *testing.T) {
	t.Parallel()
	base := retry.Policy{InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second, Multiplier: 2}
	with := func(mod func(*retry.Policy)) retry.Policy {
		p := base
		mod(&p)
		return p
	}
	tests := []struct {
		name    string
		policy  retry.Policy
		attempt int
		want    time.Duration
	}{
		{"first attempt", base, 1, 100 * time.Millisecond},
		{"second attempt doubles", base, 2, 200 * time.Millisecond},
		{"fourth attempt", base, 4, 800 * time.Millisecond},
		{"capped at max delay", base, 5, time.Second},
		{"huge attempt stays capped", base, 10_000, time.Second},
		{"attempt zero is treated as one", base, 0, 100 * time.Millisecond},
		{"negative attempt is treated as one", base, -3, 100 * time.Millisecond},
		{"zero multiplier defaults to two", with(func(p *retry.Policy) { p.Multiplier = 0 }), 3, 400 * time.Millisecond},
		{"multiplier below one is constant", with(func(p *retry.Policy) { p.Multiplier = 0.5 }), 3, 100 * time.Millisecond},
		{"multiplier three", with(func(p *retry.Policy) { p.Multiplier = 3 }), 3, 900 * time.Millisecond},
		{"no max delay means no cap", with(func(p *retry.Policy) { p.MaxDelay = 0 }), 6, 3200 * time.Millisecond},
		{"zero initial delay", with(func(p *retry.Policy) { p.InitialDelay = 0 }), 4, 0},
		{"negative initial delay", with(func(p *retry.Policy) { p.InitialDelay = -time.Second }), 4, 0},
		{"jitter at the bottom of the band", with(func(p *retry.Policy) { p.Jitter = 0.2; p.Rand = fixed(0) }), 2, 160 * time.Millisecond},
		{"jitter in the middle is the plain value", with(func(p *retry.Policy) { p.Jitter = 0.2; p.Rand = fixed(0.5) }), 2, 200 * time.Millisecond},
		{"jitter near the top of the band", with(func(p *retry.Policy) { p.Jitter = 0.5; p.Rand = fixed(0.75) }), 2, 250 * time.Millisecond},
		{"jitter never exceeds max delay", with(func(p *retry.Policy) { p.Jitter = 0.5; p.Rand = fixed(0.99) }), 8, time.Second},
		{"jitter above one is clamped", with(func(p *retry.Policy) { p.Jitter = 3; p.Rand = fixed(0) }), 2, 0},
		{"negative jitter is none", with(func(p *retry.Policy) { p.Jitter = -1; p.Rand = fixed(0) }), 2, 200 * time.Millisecond},
		{"bad random source is clamped", with(func(p *retry.Policy) { p.Jitter = 0.5; p.Rand = fixed(-7) }), 2, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.policy.Delay(tt.attempt); got != tt.want {
				t.Errorf("Delay(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
		})
	}
}

func TestDelayUsesDefaultRandomSource(t *testing.T) {
	t.Parallel()
	p := retry.Policy{InitialDelay: time.Second, Multiplier: 1, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 50 {
		d := p.Delay(1)
		if d < 500*time.Millisecond || d > 1500*time.Millisecond {
			t.Fatalf("Delay(1) = %s, outside the jitter band", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Errorf("50 jittered delays were all %v: jitter is not applied", seen)
	}
}

// checkBounds asserts the Delay invariants for one policy and attempt.
func checkBounds(p retry.Policy, attempt int) error {
	d := p.Delay(attempt)
	if d < 0 {
		return fmt.Errorf("Delay(%d) = %s is negative", attempt, d)
	}
	if p.MaxDelay > 0 && d > p.MaxDelay {
		return fmt.Errorf("Delay(%d) = %s exceeds MaxDelay %s", attempt, d, p.MaxDelay)
	}
	exp := float64(p.Backoff(attempt))
	j := math.Max(0, math.Min(p.Jitter, 1))
	if math.IsNaN(p.Jitter) {
		j = 0
	}
	// One nanosecond of slack for float rounding.
	lo, hi := exp*(1-j)-1, exp*(1+j)+1
	if float64(d) < lo || float64(d) > hi {
		return fmt.Errorf("Delay(%d) = %s outside jitter band [%.0f, %.0f] around %s", attempt, d, lo, hi, time.Duration(exp))
	}
	return nil
}

func TestDelayProperties(t *testing.T) {
	t.Parallel()
	f := func(initialMs uint16, maxMs uint32, mult8 uint8, jitterPct uint8, attempt uint8, seed uint64) bool {
		rng := rand.New(rand.NewPCG(seed, 0))
		p := retry.Policy{
			InitialDelay: time.Duration(initialMs) * time.Millisecond,
			MaxDelay:     time.Duration(maxMs) * time.Millisecond,
			Multiplier:   1 + float64(mult8)/32,
			Jitter:       float64(jitterPct%101) / 100,
			Rand:         rng.Float64,
		}
		if err := checkBounds(p, int(attempt)); err != nil {
			t.Log(err)
			return false
		}
		return true
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 5000}); err != nil {
		t.Error(err)
	}
}

func FuzzDelay(f *testing.F) {
	f.Add(int64(time.Second), int64(time.Minute), 2.0, 0.2, 0.5, 3)
	f.Add(int64(0), int64(0), 0.0, 0.0, 0.0, 0)
	f.Add(int64(-5), int64(-5), -1.0, -1.0, -1.0, -1)
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), math.Inf(1), 1.0, 0.999, math.MaxInt)
	f.Add(int64(time.Millisecond), int64(0), 1e300, 0.9, 1.0, 2000)
	f.Add(int64(time.Millisecond), int64(time.Hour), math.NaN(), math.NaN(), math.NaN(), 7)
	f.Fuzz(func(t *testing.T, initial, maxDelay int64, mult, jitter, r float64, attempt int) {
		p := retry.Policy{
			InitialDelay: time.Duration(initial),
			MaxDelay:     time.Duration(maxDelay),
			Multiplier:   mult,
			Jitter:       jitter,
			Rand:         fixed(r),
		}
		d := p.Delay(attempt)
		if d < 0 {
			t.Fatalf("Delay(%d) = %s is negative for %+v", attempt, d, p)
		}
		if p.MaxDelay > 0 && d > p.MaxDelay {
			t.Fatalf("Delay(%d) = %s exceeds MaxDelay for %+v", attempt, d, p)
		}
		if b := p.Backoff(attempt); b < 0 || (p.MaxDelay > 0 && b > p.MaxDelay) {
			t.Fatalf("Backoff(%d) = %s out of range for %+v", attempt, b, p)
		}
		if !math.IsNaN(r) && r >= 0 && r < 1 && p.Validate() == nil {
			if err := checkBounds(p, attempt); err != nil {
				t.Fatal(err)
			}
		}
	})
}

type retryableErr struct{ retryable bool }

func (e retryableErr) Error() string   { return fmt.Sprintf("retryable=%v", e.retryable) }
func (e retryableErr) Retryable() bool { return e.retryable }

func TestDefaultClassifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), true},
		{"context canceled", context.Canceled, false},
		{"wrapped context canceled", fmt.Errorf("fetch: %w", context.Canceled), false},
		{"deadline exceeded", context.DeadlineExceeded, true},
		{"retryable true", retryableErr{true}, true},
		{"retryable false", retryableErr{false}, false},
		{"wrapped retryable false", fmt.Errorf("deliver: %w", retryableErr{false}), false},
		{"permanent", retry.Permanent(errors.New("bad input")), false},
		{"wrapped permanent", fmt.Errorf("x: %w", retry.Permanent(errors.New("bad input"))), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := retry.DefaultClassifier(tt.err); got != tt.want {
				t.Errorf("DefaultClassifier(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	if retry.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	inner := errors.New("bad input")
	err := retry.Permanent(inner)
	if !errors.Is(err, inner) || err.Error() != "bad input" {
		t.Errorf("Permanent(%v) = %v, does not wrap it transparently", inner, err)
	}
}

func TestShouldRetry(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	three := retry.Policy{MaxAttempts: 3}
	tests := []struct {
		name    string
		policy  retry.Policy
		attempt int
		err     error
		want    bool
	}{
		{"first failure of three", three, 1, boom, true},
		{"second failure of three", three, 2, boom, true},
		{"last attempt", three, 3, boom, false},
		{"past the last attempt", three, 4, boom, false},
		{"success", three, 1, nil, false},
		{"not retryable", three, 1, retryableErr{false}, false},
		{"canceled", three, 1, context.Canceled, false},
		{"zero max attempts is one attempt", retry.Policy{}, 1, boom, false},
		{"custom classifier", retry.Policy{MaxAttempts: 3, Classifier: func(error) bool { return false }}, 1, boom, false},
		{"custom classifier overrides Retryable", retry.Policy{MaxAttempts: 3, Classifier: func(error) bool { return true }}, 1, retryableErr{false}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.policy.ShouldRetry(tt.attempt, tt.err); got != tt.want {
				t.Errorf("ShouldRetry(%d, %v) = %v, want %v", tt.attempt, tt.err, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		policy  retry.Policy
		wantErr string
	}{
		{"default", retry.DefaultPolicy(), ""},
		{"zero value", retry.Policy{}, ""},
		{"negative attempts", retry.Policy{MaxAttempts: -1}, "max attempts"},
		{"negative initial delay", retry.Policy{InitialDelay: -1}, "initial delay"},
		{"negative max delay", retry.Policy{MaxDelay: -1}, "max delay"},
		{"initial above max", retry.Policy{InitialDelay: time.Hour, MaxDelay: time.Second}, "exceeds max delay"},
		{"shrinking multiplier", retry.Policy{Multiplier: 0.5}, "multiplier"},
		{"NaN multiplier", retry.Policy{Multiplier: math.NaN()}, "multiplier"},
		{"jitter above one", retry.Policy{Jitter: 1.5}, "jitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.policy.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func fastPolicy(attempts int) retry.Policy {
	return retry.Policy{MaxAttempts: attempts, InitialDelay: time.Microsecond, MaxDelay: 10 * time.Microsecond}
}

func TestDo(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name         string
		policy       retry.Policy
		failures     int   // attempts that fail before success
		failWith     error // error of failing attempts
		wantAttempts int
		wantErr      error
		wantMsg      string
	}{
		{"success first time", fastPolicy(3), 0, boom, 1, nil, ""},
		{"success on third", fastPolicy(3), 2, boom, 3, nil, ""},
		{"gives up after max attempts", fastPolicy(3), 10, boom, 3, boom, "after 3 attempts: boom"},
		{"single attempt", fastPolicy(1), 10, boom, 1, boom, "after 1 attempt: boom"},
		{"permanent error stops at once", fastPolicy(5), 10, retry.Permanent(boom), 1, boom, "after 1 attempt: boom"},
		{"canceled stops at once", fastPolicy(5), 10, context.Canceled, 1, context.Canceled, "after 1 attempt: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls []int
			err := retry.Do(t.Context(), tt.policy, func(ctx context.Context, attempt int) error {
				calls = append(calls, attempt)
				if attempt <= tt.failures {
					return tt.failWith
				}
				return nil
			})
			if len(calls) != tt.wantAttempts {
				t.Errorf("fn called %d times (%v), want %d", len(calls), calls, tt.wantAttempts)
			}
			for i, a := range calls {
				if a != i+1 {
					t.Errorf("call %d got attempt %d, want %d", i, a, i+1)
				}
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("Do() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Do() = %v, want it to wrap %v", err, tt.wantErr)
			}
			var re *retry.Error
			if !errors.As(err, &re) || re.Attempts != tt.wantAttempts {
				t.Errorf("Do() = %#v, want *retry.Error with Attempts %d", err, tt.wantAttempts)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("Do() message = %q, want %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestDoSleepsBetweenAttempts(t *testing.T) {
	t.Parallel()
	p := retry.Policy{MaxAttempts: 3, InitialDelay: 5 * time.Millisecond, Multiplier: 2}
	var times []time.Time
	_ = retry.Do(t.Context(), p, func(context.Context, int) error {
		times = append(times, time.Now())
		return errors.New("boom")
	})
	if len(times) != 3 {
		t.Fatalf("fn called %d times, want 3", len(times))
	}
	// Timers never fire early: the gaps are at least the policy's delays.
	for i, want := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond} {
		if gap := times[i+1].Sub(times[i]); gap < want {
			t.Errorf("gap after attempt %d = %s, want at least %s", i+1, gap, want)
		}
	}
}

func TestDoStopsWhenContextEndsDuringSleep(t *testing.T) {
	t.Parallel()
	stop := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(t.Context())
	boom := errors.New("boom")
	calls := 0
	p := retry.Policy{MaxAttempts: 10, InitialDelay: time.Hour}
	err := retry.Do(ctx, p, func(context.Context, int) error {
		calls++
		cancel(stop)
		return boom
	})
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}
	if !errors.Is(err, boom) || !errors.Is(err, stop) {
		t.Errorf("Do() = %v, want it to wrap both the last error and the cause", err)
	}
	var re *retry.Error
	if !errors.As(err, &re) || re.Attempts != 1 || re.Cause != stop {
		t.Errorf("Do() = %#v, want Attempts 1 and Cause %v", err, stop)
	}
}

func TestDoWithDoneContextMakesNoAttempt(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := retry.Do(ctx, retry.DefaultPolicy(), func(context.Context, int) error {
		called = true
		return nil
	})
	if called {
		t.Error("fn was called with a done context")
	}
	var re *retry.Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || re.Attempts != 0 {
		t.Errorf("Do() = %v, want *retry.Error with 0 attempts wrapping context.Canceled", err)
	}
}

func TestDoPassesContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "v")
	err := retry.Do(ctx, fastPolicy(1), func(got context.Context, _ int) error {
		if got.Value(key{}) != "v" {
			return errors.New("fn did not get Do's context")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
