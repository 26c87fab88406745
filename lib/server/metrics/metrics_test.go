package metrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestCounters(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{Version: "1.0.0", Commit: "c0ffee", NoRuntimeCollectors: true})
	m.ObserveHTTP("GET", "/api/v1/tasks", 200, 3*time.Millisecond)
	m.ObserveHTTP("GET", "/api/v1/tasks", 200, 5*time.Millisecond)
	m.ObserveHTTP("POST", "/api/v1/jobs", 429, time.Millisecond)
	m.JobFinished("hello", core.JobCompleted)
	m.JobFinished("hello", core.JobFailed)
	m.JobFinished("hello", core.JobCompleted)
	m.ObserveExecution("hello", core.ExecutionCompleted, 12*time.Millisecond)
	m.DeliveryAttempted(core.DestinationWebhook, true)
	m.DeliveryAttempted(core.DestinationWebhook, false)
	m.DeliveryAttempted(core.DestinationFilesystem, true)

	text := scrape(t, m)
	for _, want := range []string{
		`ratchet_http_requests_total{method="GET",route="/api/v1/tasks",status="200"} 2`,
		`ratchet_http_requests_total{method="POST",route="/api/v1/jobs",status="429"} 1`,
		`ratchet_http_request_duration_seconds_count{method="GET",route="/api/v1/tasks"} 2`,
		`ratchet_http_request_duration_seconds_sum{method="GET",route="/api/v1/tasks"} 0.008`,
		`ratchet_jobs_total{status="completed",task="hello"} 2`,
		`ratchet_jobs_total{status="failed",task="hello"} 1`,
		`ratchet_execution_duration_seconds_count{status="completed",task="hello"} 1`,
		`ratchet_deliveries_total{destination_type="webhook",outcome="success"} 1`,
		`ratchet_deliveries_total{destination_type="webhook",outcome="failure"} 1`,
		`ratchet_deliveries_total{destination_type="filesystem",outcome="success"} 1`,
		`ratchet_build_info{commit="c0ffee"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(text, "ratchet_queue_depth") || strings.Contains(text, "ratchet_workers{") {
		t.Error("callback metrics present before their callbacks are set")
	}
	if strings.Contains(text, "go_goroutines") {
		t.Error("runtime collectors despite NoRuntimeCollectors")
	}
	if n, err := testutil.GatherAndCount(m.Registry(), "ratchet_http_requests_total"); err != nil || n != 2 {
		t.Errorf("%d series, %v", n, err)
	}
}

func TestCallbacks(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Options{NoRuntimeCollectors: true})
	var gotDeadline bool
	m.SetQueueDepthFunc(func(ctx context.Context) (int64, error) {
		_, gotDeadline = ctx.Deadline()
		return 42, nil
	})
	m.SetWorkersFunc(func(context.Context) ([]core.Worker, error) {
		return []core.Worker{{Status: core.WorkerBusy}, {Status: core.WorkerBusy}, {Status: core.WorkerIdle}, {Status: "mystery"}}, nil
	})
	text := scrape(t, m)
	for _, want := range []string{
		"ratchet_queue_depth 42",
		`ratchet_workers{state="busy"} 2`,
		`ratchet_workers{state="idle"} 1`,
		`ratchet_workers{state="starting"} 0`,
		`ratchet_workers{state="mystery"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if !gotDeadline {
		t.Error("the callback's context has no deadline")
	}

	// A failing callback leaves its metric out; the rest is served.
	m.SetQueueDepthFunc(func(context.Context) (int64, error) { return 0, errors.New("db down") })
	text = scrape(t, m)
	if strings.Contains(text, "ratchet_queue_depth 0") || !strings.Contains(text, `ratchet_workers{state="busy"} 2`) {
		t.Errorf("after a failing callback:\n%s", text)
	}
}

func TestNilMetricsIsNoOp(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.ObserveHTTP("GET", "/", 200, time.Millisecond)
	m.JobFinished("t", core.JobCompleted)
	m.ObserveExecution("t", core.ExecutionFailed, time.Second)
	m.DeliveryAttempted("webhook", true)
	m.SetQueueDepthFunc(nil)
	m.SetWorkersFunc(nil)
}

func TestRuntimeCollectors(t *testing.T) {
	t.Parallel()
	text := scrape(t, metrics.New(metrics.Options{}))
	if !strings.Contains(text, "go_goroutines") {
		t.Error("no Go runtime metrics")
	}
}
