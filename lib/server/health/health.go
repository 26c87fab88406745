// Package health answers the liveness, detailed health and readiness
// probes (GET /health, /health/detailed, /ready) from checkers the
// composition root supplies: the database, the worker pool, the scheduler,
// the queue. It knows nothing of HTTP frameworks: each probe returns the
// status code and the body (the api module's types), and the server
// writes them.
package health

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
)

// Checker checks one dependency. Check must honour ctx (it is cancelled
// after Options.CheckTimeout) and return a status among apitypes.HealthOK,
// HealthDegraded and HealthUnhealthy; DurationMS is filled in when left 0.
type Checker interface {
	Name() string
	Check(ctx context.Context) apitypes.HealthCheck
}

// CheckerFunc makes a Checker of a function.
func CheckerFunc(name string, fn func(ctx context.Context) apitypes.HealthCheck) Checker {
	return funcChecker{name: name, fn: fn}
}

type funcChecker struct {
	name string
	fn   func(ctx context.Context) apitypes.HealthCheck
}

func (f funcChecker) Name() string                                   { return f.name }
func (f funcChecker) Check(ctx context.Context) apitypes.HealthCheck { return f.fn(ctx) }

// DefaultCheckTimeout bounds each check of /health/detailed.
const DefaultCheckTimeout = 5 * time.Second

// Options configure New.
type Options struct {
	// Version and Node are reported by /health/detailed.
	Version, Node string
	// Checkers run, concurrently, for every /health/detailed. Names must
	// be unique ("database", "workers", "scheduler", "queue").
	Checkers []Checker
	// QueueDepth, when set, fills HealthDetailed.QueueDepth.
	QueueDepth func(ctx context.Context) (int64, error)
	// CheckTimeout bounds each check (default DefaultCheckTimeout).
	CheckTimeout time.Duration
}

// Health answers the probes. It starts not ready: call SetReady once the
// server accepts work.
type Health struct {
	opts    Options
	started time.Time

	mu          sync.Mutex
	ready       bool
	readyReason string
}

// New makes the probes; the uptime counts from now.
func New(opts Options) (*Health, error) {
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	seen := map[string]bool{}
	for i, c := range opts.Checkers {
		if c == nil {
			return nil, fmt.Errorf("health: checker %d is nil", i)
		}
		if seen[c.Name()] || c.Name() == "" {
			return nil, fmt.Errorf("health: checker name %q is empty or used twice", c.Name())
		}
		seen[c.Name()] = true
	}
	return &Health{opts: opts, started: time.Now(), readyReason: "starting"}, nil
}

// SetReady says whether the server accepts work; reason explains a "not
// ready" (starting, shutting down, ...).
func (h *Health) SetReady(ready bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready, h.readyReason = ready, reason
}

// Ready reports what SetReady last said.
func (h *Health) Ready() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ready
}

// Uptime is the time since New.
func (h *Health) Uptime() time.Duration { return time.Since(h.started) }

// Liveness is the answer of GET /health: always 200 while the process
// answers.
func (h *Health) Liveness() (int, Liveness) {
	return http.StatusOK, Liveness{
		Health:        apitypes.Health{Status: apitypes.HealthOK, Time: time.Now().UTC()},
		UptimeSeconds: int64(h.Uptime().Seconds()),
	}
}

// Liveness is apitypes.Health with the process uptime.
type Liveness struct {
	apitypes.Health
	UptimeSeconds int64 `json:"uptime_seconds"`
}

// Readiness is the answer of GET /ready: 200 when ready, 503 otherwise.
func (h *Health) Readiness() (int, apitypes.Readiness) {
	h.mu.Lock()
	ready, reason := h.ready, h.readyReason
	h.mu.Unlock()
	check := apitypes.HealthCheck{Status: apitypes.HealthOK, Message: "accepting work"}
	r := apitypes.Readiness{Ready: ready, Status: "ready"}
	code := http.StatusOK
	if !ready {
		if reason == "" {
			reason = "not ready"
		}
		check = apitypes.HealthCheck{Status: apitypes.HealthUnhealthy, Message: reason}
		r.Status, code = "not_ready", http.StatusServiceUnavailable
	}
	r.Checks = map[string]apitypes.HealthCheck{"server": check}
	return code, r
}

// Detailed runs every checker (concurrently, each bounded by
// CheckTimeout) and answers GET /health/detailed: 200 when the worst
// status is ok or degraded, 503 when unhealthy.
func (h *Health) Detailed(ctx context.Context) (int, apitypes.HealthDetailed) {
	checks := make(map[string]apitypes.HealthCheck, len(h.opts.Checkers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range h.opts.Checkers {
		wg.Go(func() {
			res := h.run(ctx, c)
			mu.Lock()
			checks[c.Name()] = res
			mu.Unlock()
		})
	}
	var depth int64
	if h.opts.QueueDepth != nil {
		qctx, cancel := context.WithTimeout(ctx, h.opts.CheckTimeout)
		if n, err := h.opts.QueueDepth(qctx); err == nil {
			depth = n
		}
		cancel()
	}
	wg.Wait()
	d := apitypes.HealthDetailed{
		Status: apitypes.WorstHealth(checks), Time: time.Now().UTC(), Version: h.opts.Version, Node: h.opts.Node,
		UptimeSeconds: int64(h.Uptime().Seconds()), QueueDepth: depth, Checks: checks,
	}
	if d.Status == apitypes.HealthUnhealthy {
		return http.StatusServiceUnavailable, d
	}
	return http.StatusOK, d
}

// CheckNames lists the checkers' names, sorted.
func (h *Health) CheckNames() []string {
	out := make([]string, 0, len(h.opts.Checkers))
	for _, c := range h.opts.Checkers {
		out = append(out, c.Name())
	}
	sort.Strings(out)
	return out
}

// run is one check: bounded by CheckTimeout, a panic or an unknown status
// reported as unhealthy. A checker that ignores its ctx is reported
// unhealthy at the timeout; its goroutine ends when it returns.
func (h *Health) run(ctx context.Context, c Checker) apitypes.HealthCheck {
	ctx, cancel := context.WithTimeout(ctx, h.opts.CheckTimeout)
	defer cancel()
	start := time.Now()
	done := make(chan apitypes.HealthCheck, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- apitypes.HealthCheck{Status: apitypes.HealthUnhealthy, Message: fmt.Sprintf("check panicked: %v", v)}
			}
		}()
		done <- c.Check(ctx)
	}()
	var res apitypes.HealthCheck
	select {
	case res = <-done:
	case <-ctx.Done():
		res = apitypes.HealthCheck{Status: apitypes.HealthUnhealthy, Message: "check did not answer: " + context.Cause(ctx).Error()}
	}
	switch res.Status {
	case apitypes.HealthOK, apitypes.HealthDegraded, apitypes.HealthUnhealthy:
	default:
		res.Message = fmt.Sprintf("check returned unknown status %q: %s", res.Status, res.Message)
		res.Status = apitypes.HealthUnhealthy
	}
	if res.DurationMS == 0 {
		res.DurationMS = float64(time.Since(start).Nanoseconds()) / 1e6
	}
	return res
}
