package health_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/lib/server/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fixed(name, status string) health.Checker {
	return health.CheckerFunc(name, func(context.Context) apitypes.HealthCheck {
		return apitypes.HealthCheck{Status: status}
	})
}

func TestDetailed(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	slowDone := make(chan struct{})
	tests := []struct {
		name     string
		checkers []health.Checker
		status   string
		code     int
		check    func(t *testing.T, d apitypes.HealthDetailed)
	}{
		{name: "ok", checkers: []health.Checker{fixed("database", "ok"), fixed("workers", "ok")}, status: "ok", code: 200},
		{name: "degraded", checkers: []health.Checker{fixed("database", "ok"), fixed("queue", "degraded")}, status: "degraded", code: 200},
		{name: "unhealthy", checkers: []health.Checker{fixed("database", "unhealthy"), fixed("queue", "degraded")}, status: "unhealthy", code: 503},
		{name: "unknown status", checkers: []health.Checker{fixed("database", "fine")}, status: "unhealthy", code: 503,
			check: func(t *testing.T, d apitypes.HealthDetailed) {
				if !strings.Contains(d.Checks["database"].Message, `unknown status "fine"`) {
					t.Errorf("%+v", d.Checks["database"])
				}
			}},
		{name: "panic", checkers: []health.Checker{health.CheckerFunc("scheduler", func(context.Context) apitypes.HealthCheck { panic("oops") })},
			status: "unhealthy", code: 503, check: func(t *testing.T, d apitypes.HealthDetailed) {
				if !strings.Contains(d.Checks["scheduler"].Message, "oops") {
					t.Errorf("%+v", d.Checks["scheduler"])
				}
			}},
		{name: "timeout honoured", checkers: []health.Checker{health.CheckerFunc("database", func(ctx context.Context) apitypes.HealthCheck {
			<-ctx.Done()
			return apitypes.HealthCheck{Status: apitypes.HealthUnhealthy, Message: "ping: " + ctx.Err().Error()}
		})}, status: "unhealthy", code: 503},
		{name: "timeout ignored", checkers: []health.Checker{health.CheckerFunc("workers", func(context.Context) apitypes.HealthCheck {
			defer close(slowDone)
			<-release
			return apitypes.HealthCheck{Status: apitypes.HealthOK}
		})}, status: "unhealthy", code: 503, check: func(t *testing.T, d apitypes.HealthDetailed) {
			if !strings.Contains(d.Checks["workers"].Message, "did not answer") {
				t.Errorf("%+v", d.Checks["workers"])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := health.New(health.Options{Version: "v", Node: "n", Checkers: tt.checkers, CheckTimeout: 50 * time.Millisecond,
				QueueDepth: func(context.Context) (int64, error) { return 3, nil }})
			if err != nil {
				t.Fatal(err)
			}
			code, d := h.Detailed(t.Context())
			if code != tt.code || d.Status != tt.status || d.QueueDepth != 3 || len(d.Checks) != len(tt.checkers) {
				t.Fatalf("%d %+v", code, d)
			}
			for name, c := range d.Checks {
				if c.DurationMS <= 0 {
					t.Errorf("check %s: duration %v", name, c.DurationMS)
				}
			}
			if tt.check != nil {
				tt.check(t, d)
			}
		})
	}
	release <- struct{}{} // let the checker that ignored its timeout finish
	<-slowDone
}

func TestNewRefusesBadCheckers(t *testing.T) {
	t.Parallel()
	for _, cs := range [][]health.Checker{{nil}, {fixed("a", "ok"), fixed("a", "ok")}, {fixed("", "ok")}} {
		if _, err := health.New(health.Options{Checkers: cs}); err == nil {
			t.Errorf("New accepted %v", cs)
		}
	}
}

func TestReadinessAndLiveness(t *testing.T) {
	t.Parallel()
	h, err := health.New(health.Options{QueueDepth: func(context.Context) (int64, error) { return 0, errors.New("x") }})
	if err != nil {
		t.Fatal(err)
	}
	code, r := h.Readiness()
	if code != http.StatusServiceUnavailable || r.Ready || r.Checks["server"].Message != "starting" {
		t.Fatalf("%d %+v", code, r)
	}
	h.SetReady(true, "")
	if code, r := h.Readiness(); code != 200 || !r.Ready || !h.Ready() {
		t.Fatalf("%d %+v", code, r)
	}
	code, l := h.Liveness()
	if code != 200 || l.Status != "ok" || l.UptimeSeconds < 0 || l.Time.IsZero() {
		t.Fatalf("%d %+v", code, l)
	}
	if code, d := h.Detailed(t.Context()); code != 200 || d.QueueDepth != 0 {
		t.Fatalf("%d %+v", code, d)
	}
}
