package retry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Classifier reports whether an attempt that failed with err may succeed when
// tried again.
type Classifier func(err error) bool

// DefaultClassifier treats nil and context.Canceled as not retryable, asks
// the first error in err's chain implementing interface{ Retryable() bool },
// and otherwise treats err as retryable.
func DefaultClassifier(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return true
}

// Policy describes how often and how fast to retry. The zero value makes a
// single attempt; DefaultPolicy returns a useful starting point.
type Policy struct {
	// MaxAttempts is the total number of attempts, the first one included.
	// Values below 1 mean 1 (no retry).
	MaxAttempts int
	// InitialDelay is the delay after the first failed attempt.
	InitialDelay time.Duration
	// MaxDelay caps every delay, jitter included. 0 means no cap.
	MaxDelay time.Duration
	// Multiplier grows the delay after each failed attempt. 0 means 2;
	// values below 1 mean 1 (constant delay).
	Multiplier float64
	// Jitter spreads each delay uniformly over ±Jitter of its exponential
	// value (0.2 gives 80%..120%). Clamped to [0, 1].
	Jitter float64
	// Classifier decides which errors are retried. nil means DefaultClassifier.
	Classifier Classifier
	// Rand returns a number in [0, 1) and drives the jitter. nil means
	// math/rand/v2's Float64. Tests inject a fixed source.
	Rand func() float64
}

// DefaultPolicy is three attempts starting at one second, doubling, capped
// at one minute, with 20% jitter.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts:  3,
		InitialDelay: time.Second,
		MaxDelay:     time.Minute,
		Multiplier:   2,
		Jitter:       0.2,
	}
}

// Validate reports settings that are out of range. Delay and ShouldRetry
// still behave sensibly on an invalid policy (see the field docs); Validate
// is for configuration that a user wrote.
func (p Policy) Validate() error {
	var errs []error
	if p.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts must not be negative, got %d", p.MaxAttempts))
	}
	if p.InitialDelay < 0 {
		errs = append(errs, fmt.Errorf("initial delay must not be negative, got %s", p.InitialDelay))
	}
	if p.MaxDelay < 0 {
		errs = append(errs, fmt.Errorf("max delay must not be negative, got %s", p.MaxDelay))
	}
	if p.MaxDelay > 0 && p.InitialDelay > p.MaxDelay {
		errs = append(errs, fmt.Errorf("initial delay %s exceeds max delay %s", p.InitialDelay, p.MaxDelay))
	}
	if math.IsNaN(p.Multiplier) || math.IsInf(p.Multiplier, 0) || p.Multiplier < 0 || (p.Multiplier > 0 && p.Multiplier < 1) {
		errs = append(errs, fmt.Errorf("multiplier must be 0 (default 2) or at least 1, got %v", p.Multiplier))
	}
	if math.IsNaN(p.Jitter) || p.Jitter < 0 || p.Jitter > 1 {
		errs = append(errs, fmt.Errorf("jitter must be between 0 and 1, got %v", p.Jitter))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid retry policy: %w", err)
	}
	return nil
}

// maxDuration is the largest delay Delay returns when MaxDelay is 0.
const maxDuration = time.Duration(math.MaxInt64)

// Backoff returns the delay before the attempt after attempt (attempt counts
// from 1) without jitter: InitialDelay·Multiplier^(attempt-1), capped at
// MaxDelay.
func (p Policy) Backoff(attempt int) time.Duration {
	return durationOf(p.backoff(attempt), p.limit())
}

// Delay returns how long to wait after failed attempt number attempt
// (counting from 1) before the next one: Backoff(attempt) spread by Jitter,
// never negative and never above MaxDelay.
func (p Policy) Delay(attempt int) time.Duration {
	base := p.backoff(attempt)
	if j := p.jitter(); j > 0 && base > 0 {
		r := p.random()
		base *= 1 + j*(2*r-1)
	}
	return durationOf(base, p.limit())
}

// ShouldRetry reports whether failed attempt number attempt (counting from
// 1) should be followed by another: err is retryable and attempts remain.
func (p Policy) ShouldRetry(attempt int, err error) bool {
	if err == nil || attempt >= p.maxAttempts() {
		return false
	}
	classify := p.Classifier
	if classify == nil {
		classify = DefaultClassifier
	}
	return classify(err)
}

// backoff is the exponential delay in nanoseconds, before the cap.
func (p Policy) backoff(attempt int) float64 {
	if attempt < 1 {
		attempt = 1
	}
	initial := float64(max(p.InitialDelay, 0))
	if initial == 0 {
		return 0
	}
	limit := float64(p.limit())
	d := initial * math.Pow(p.multiplier(), float64(attempt-1))
	if math.IsNaN(d) || d > limit {
		return limit
	}
	return d
}

func (p Policy) limit() time.Duration {
	if p.MaxDelay <= 0 {
		return maxDuration
	}
	return p.MaxDelay
}

func (p Policy) multiplier() float64 {
	m := p.Multiplier
	switch {
	case m == 0:
		return 2
	case math.IsNaN(m) || m < 1:
		return 1
	case math.IsInf(m, 1):
		return math.MaxFloat64
	}
	return m
}

func (p Policy) jitter() float64 {
	j := p.Jitter
	if math.IsNaN(j) || j <= 0 {
		return 0
	}
	return min(j, 1)
}

func (p Policy) maxAttempts() int { return max(p.MaxAttempts, 1) }

func (p Policy) random() float64 {
	if p.Rand == nil {
		return rand.Float64()
	}
	r := p.Rand()
	if math.IsNaN(r) || r < 0 {
		return 0
	}
	return min(r, 1)
}

// durationOf converts nanoseconds to a Duration in [0, limit].
func durationOf(ns float64, limit time.Duration) time.Duration {
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return 0
	case ns >= float64(limit):
		// float64(limit) may round up past limit; compare before converting.
		return limit
	}
	return min(time.Duration(ns), limit)
}

// Error is returned by Do when it gives up: it carries the number of attempts
// made, the last attempt's error and, when the context ended Do, the
// context's cause. errors.Is and errors.As see both.
type Error struct {
	// Attempts is the number of attempts made.
	Attempts int
	// Err is the last attempt's error; nil when no attempt was made.
	Err error
	// Cause is context.Cause of Do's context when that ended the retries,
	// else nil.
	Cause error
}

func (e *Error) Error() string {
	switch {
	case e.Err == nil:
		return fmt.Sprintf("retry: no attempt made: %v", e.Cause)
	case e.Cause != nil:
		return fmt.Sprintf("retry: stopped after %s: %v (last error: %v)", attempts(e.Attempts), e.Cause, e.Err)
	}
	return fmt.Sprintf("after %s: %v", attempts(e.Attempts), e.Err)
}

// Unwrap returns the last attempt's error and the context's cause.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// Do calls fn with attempt numbers counting from 1 until it returns nil,
// its error is not retryable, policy.MaxAttempts is reached or ctx ends,
// sleeping policy.Delay between attempts. It returns nil on success and an
// *Error otherwise.
func Do(ctx context.Context, policy Policy, fn func(ctx context.Context, attempt int) error) error {
	if ctx.Err() != nil {
		return &Error{Cause: context.Cause(ctx)}
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for attempt := 1; ; attempt++ {
		err := fn(ctx, attempt)
		if err == nil {
			return nil
		}
		if !policy.ShouldRetry(attempt, err) {
			return &Error{Attempts: attempt, Err: err}
		}
		d := policy.Delay(attempt)
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return &Error{Attempts: attempt, Err: err, Cause: context.Cause(ctx)}
		case <-timer.C:
		}
		if ctx.Err() != nil {
			return &Error{Attempts: attempt, Err: err, Cause: context.Cause(ctx)}
		}
	}
}

// Permanent wraps err so that DefaultClassifier does not retry it. It
// returns nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Retryable() bool { return false }
