package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// State is the state of a circuit breaker.
type State int

// The states of a circuit breaker.
const (
	// Closed lets every call through and counts consecutive failures.
	Closed State = iota
	// Open rejects every call until the cool-down has passed.
	Open
	// HalfOpen lets a limited number of probe calls through.
	HalfOpen
)

// String returns the lowercase name of the state: "closed", "open" or
// "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// MarshalText encodes the state as its String form.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

type openSentinel struct{}

func (openSentinel) Error() string   { return "circuit breaker is open" }
func (openSentinel) Retryable() bool { return true }

// ErrOpen is returned (wrapped in an *OpenError) when a breaker rejects a
// call: it is open, or half-open with all probe slots taken. It is retryable:
// the destination may recover after the cool-down. Test with errors.Is.
var ErrOpen error = openSentinel{}

// OpenError is the error a breaker returns when it rejects a call. It wraps
// ErrOpen.
type OpenError struct {
	// Name is the breaker's name (its host or destination).
	Name string
	// State is the breaker's state when it rejected the call.
	State State
	// RetryAfter is how long until the breaker lets a probe through; 0 when
	// it is half-open and waiting for probes in flight.
	RetryAfter time.Duration
}

// NewOpenError returns the error a breaker named name in state s returns
// when it rejects a call.
func NewOpenError(name string, s State, retryAfter time.Duration) *OpenError {
	return &OpenError{Name: name, State: s, RetryAfter: retryAfter}
}

func (e *OpenError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("circuit breaker %q is %s: retry after %s", e.Name, e.State, e.RetryAfter)
	}
	return fmt.Sprintf("circuit breaker %q is %s", e.Name, e.State)
}

// Unwrap returns ErrOpen.
func (e *OpenError) Unwrap() error { return ErrOpen }

// Retryable reports true: the call may succeed once the breaker closes.
func (e *OpenError) Retryable() bool { return true }

// Config configures a breaker. Zero fields take the defaults named below.
type Config struct {
	// FailureThreshold is the number of consecutive failures that opens a
	// closed breaker. Default 5.
	FailureThreshold int
	// CoolDown is how long an open breaker rejects calls before it turns
	// half-open. Default 30s.
	CoolDown time.Duration
	// HalfOpenMaxCalls is the number of probe calls a half-open breaker lets
	// through at the same time. Default 1.
	HalfOpenMaxCalls int
	// SuccessThreshold is the number of successful probes that closes a
	// half-open breaker. Default 1.
	SuccessThreshold int
	// IsFailure tells Execute which errors count against the destination.
	// Default: every non-nil error except context.Canceled.
	IsFailure func(err error) bool
	// OnStateChange, when set, is called after every state change, outside
	// the breaker's lock, by the goroutine that caused it. Calls for changes
	// made by concurrent goroutines may arrive out of order; State tells the
	// current state. It must not block for long.
	OnStateChange func(name string, from, to State)
	// Now returns the current time. Default time.Now; tests inject a clock.
	Now func() time.Time
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.FailureThreshold < 0 {
		errs = append(errs, fmt.Errorf("failure threshold must not be negative, got %d", c.FailureThreshold))
	}
	if c.CoolDown < 0 {
		errs = append(errs, fmt.Errorf("cool-down must not be negative, got %s", c.CoolDown))
	}
	if c.HalfOpenMaxCalls < 0 {
		errs = append(errs, fmt.Errorf("half-open max calls must not be negative, got %d", c.HalfOpenMaxCalls))
	}
	if c.SuccessThreshold < 0 {
		errs = append(errs, fmt.Errorf("success threshold must not be negative, got %d", c.SuccessThreshold))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("invalid circuit breaker config: %w", err)
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = 5
	}
	if c.CoolDown == 0 {
		c.CoolDown = 30 * time.Second
	}
	if c.HalfOpenMaxCalls == 0 {
		c.HalfOpenMaxCalls = 1
	}
	if c.SuccessThreshold == 0 {
		c.SuccessThreshold = 1
	}
	if c.IsFailure == nil {
		c.IsFailure = DefaultIsFailure
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// DefaultIsFailure counts every non-nil error except context.Canceled (the
// caller gave up; the destination did nothing wrong) as a failure.
func DefaultIsFailure(err error) bool {
	return err != nil && !errors.Is(err, context.Canceled)
}

// Breaker is a circuit breaker. It is safe for concurrent use.
type Breaker struct {
	name string
	cfg  Config

	mu         sync.Mutex
	state      State
	generation uint64    // bumped on every state change; stale results are ignored
	failures   int       // consecutive failures while closed
	successes  int       // successful probes while half-open
	inFlight   int       // probes in flight while half-open
	openedAt   time.Time // when the breaker last opened
}

// transition is a state change to report to OnStateChange.
type transition struct{ from, to State }

// New returns a closed breaker named name (used in errors and
// OnStateChange), or an error when cfg has negative settings.
func New(name string, cfg Config) (*Breaker, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Breaker{name: name, cfg: cfg}, nil
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// State returns the breaker's current state. An open breaker whose cool-down
// has passed reports (and turns) half-open.
func (b *Breaker) State() State {
	b.mu.Lock()
	ts := b.advance(b.cfg.Now())
	s := b.state
	b.mu.Unlock()
	b.notify(ts)
	return s
}

// Allow asks to make one call. When the breaker lets it through, Allow
// returns a done function that must be called exactly once with the call's
// outcome (later calls are ignored); otherwise it returns an *OpenError
// wrapping ErrOpen.
func (b *Breaker) Allow() (done func(success bool), err error) {
	b.mu.Lock()
	now := b.cfg.Now()
	ts := b.advance(now)
	switch {
	case b.state == Open:
		err = NewOpenError(b.name, Open, b.openedAt.Add(b.cfg.CoolDown).Sub(now))
	case b.state == HalfOpen && b.inFlight >= b.cfg.HalfOpenMaxCalls:
		err = NewOpenError(b.name, HalfOpen, 0)
	case b.state == HalfOpen:
		b.inFlight++
	}
	gen := b.generation
	b.mu.Unlock()
	b.notify(ts)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func(success bool) {
		once.Do(func() { b.record(gen, success) })
	}, nil
}

// Execute runs fn when the breaker allows it and records its outcome: an
// error for which Config.IsFailure is true (or a panic) is a failure. It
// returns fn's error, or an *OpenError without calling fn.
func (b *Breaker) Execute(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	done, err := b.Allow()
	if err != nil {
		return err
	}
	success := false
	defer func() { done(success) }() // a panic in fn counts as a failure
	err = fn(ctx)
	success = !b.cfg.IsFailure(err)
	return err
}

// Reset closes the breaker and clears its counts.
func (b *Breaker) Reset() {
	b.mu.Lock()
	ts := b.setState(Closed, b.cfg.Now())
	b.mu.Unlock()
	b.notify(ts)
}

// record applies the outcome of a call admitted in generation gen.
func (b *Breaker) record(gen uint64, success bool) {
	b.mu.Lock()
	now := b.cfg.Now()
	ts := b.advance(now)
	if gen != b.generation {
		// The breaker changed state since the call was admitted: the result
		// says nothing about the current state.
		b.mu.Unlock()
		b.notify(ts)
		return
	}
	switch b.state {
	case Closed:
		if success {
			b.failures = 0
		} else if b.failures++; b.failures >= b.cfg.FailureThreshold {
			ts = append(ts, b.setState(Open, now)...)
		}
	case HalfOpen:
		b.inFlight--
		if !success {
			ts = append(ts, b.setState(Open, now)...)
		} else if b.successes++; b.successes >= b.cfg.SuccessThreshold {
			ts = append(ts, b.setState(Closed, now)...)
		}
	}
	b.mu.Unlock()
	b.notify(ts)
}

// advance turns an open breaker half-open once its cool-down has passed.
// b.mu must be held.
func (b *Breaker) advance(now time.Time) []transition {
	if b.state == Open && !now.Before(b.openedAt.Add(b.cfg.CoolDown)) {
		return b.setState(HalfOpen, now)
	}
	return nil
}

// setState moves to state s, resetting the counts. b.mu must be held.
func (b *Breaker) setState(s State, now time.Time) []transition {
	from := b.state
	b.state = s
	b.generation++
	b.failures, b.successes, b.inFlight = 0, 0, 0
	if s == Open {
		b.openedAt = now
	}
	if from == s {
		return nil
	}
	return []transition{{from, s}}
}

func (b *Breaker) notify(ts []transition) {
	if b.cfg.OnStateChange == nil {
		return
	}
	for _, t := range ts {
		b.cfg.OnStateChange(b.name, t.from, t.to)
	}
}
