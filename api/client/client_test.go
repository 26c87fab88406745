package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/core"
)

// recorded is one request the fake server saw.
type recorded struct {
	method, path, rawPath, query, body, contentType, auth, ua string
}

// fake answers every request with the next canned answer and records it.
type fake struct {
	mu      sync.Mutex
	last    recorded
	status  int
	body    string
	headers map[string]string
	hits    map[string]bool // "METHOD /template" of the documented routes hit
}

func newFake(t *testing.T) (*fake, *client.Client) {
	t.Helper()
	f := &fake{hits: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.last = recorded{method: r.Method, path: r.URL.Path, rawPath: r.URL.EscapedPath(), query: r.URL.RawQuery,
			body: string(b), contentType: r.Header.Get("Content-Type"), auth: r.Header.Get("Authorization"),
			ua: r.Header.Get("User-Agent")}
		if rt := matchRoute(r.Method, r.URL.EscapedPath()); rt != "" {
			f.hits[rt] = true
		}
		for k, v := range f.headers {
			w.Header().Set(k, v)
		}
		if f.body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.status)
		_, _ = io.WriteString(w, f.body)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, client.WithToken("secret"), client.WithUserAgent("test-agent"))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

func (f *fake) answer(status int, body string, headers map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body, f.headers = status, body, headers
}

func (f *fake) request() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// matchRoute finds the documented route a request path matches.
func matchRoute(method, path string) string {
	parts := strings.Split(path, "/")
	var best string
	for _, r := range api.Routes() {
		if r.Method != method {
			continue
		}
		tp := strings.Split(r.Path, "/")
		if len(tp) != len(parts) {
			continue
		}
		ok, params := true, 0
		for i := range tp {
			if strings.HasPrefix(tp[i], "{") {
				params++
				continue
			}
			if tp[i] != parts[i] {
				ok = false
				break
			}
		}
		if ok && (best == "" || params == 0) {
			best = r.Method + " " + r.Path
		}
	}
	return best
}

func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	if want == "" && got == "" {
		return
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body %s, want %s", got, want)
	}
}

const (
	taskJSON     = `{"id":1,"uuid":"u1","name":"hello world","version":"1.0.0","enabled":true,"tags":[],"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`
	jobJSON      = `{"id":5,"uuid":"j5","task_id":1,"status":"queued","priority":"high","input":{"a":1},"output":null,"process_at":"2025-01-02T03:04:05Z","created_at":"2025-01-02T03:04:05Z"}`
	execJSON     = `{"id":9,"uuid":"e9","task_id":1,"job_id":null,"status":"completed","input":{"a":1},"output":{"b":2},"attempt":1,"logs":[],"http_requests":[],"queued_at":"2025-01-02T03:04:05Z"}`
	scheduleJSON = `{"id":3,"uuid":"s3","task_id":1,"name":"nightly","cron_expression":"0 2 * * *","timezone":"UTC","enabled":true}`
	workerJSON   = `{"id":"n1-w0","node":"n1","pid":42,"status":"idle","started_at":"2025-01-02T03:04:05Z"}`
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	ctx := t.Context()
	yes := true
	three := 3
	when := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	listHeaders := map[string]string{"X-Total-Count": "42", "Content-Range": "x 0-0/42"}

	tests := []struct {
		name                      string
		status                    int
		answer                    string
		headers                   map[string]string
		call                      func() (any, error)
		method, path, query, body string
		contentType               string
		check                     func(t *testing.T, got any)
	}{
		{name: "ListTasks", status: 200, answer: "[" + taskJSON + "]", headers: listHeaders,
			call: func() (any, error) {
				items, total, err := c.ListTasks(ctx, client.ListOptions{Start: 10, End: 20, Sort: "name,id", Order: "asc,desc",
					Filters: map[string][]string{"enabled": {"true"}, "id": {"1", "2"}, "name_like": {"hel"}}, Q: "x y"})
				return []any{items, total}, err
			},
			method: "GET", path: "/api/v1/tasks",
			query: "_end=20&_order=asc%2Cdesc&_sort=name%2Cid&_start=10&enabled=true&id=1&id=2&name_like=hel&q=x+y",
			check: func(t *testing.T, got any) {
				r := got.([]any)
				if items := r[0].([]apitypes.Task); len(items) != 1 || items[0].Name != "hello world" || r[1].(int) != 42 {
					t.Errorf("got %+v", r)
				}
			}},
		{name: "GetTask", status: 200, answer: taskJSON,
			call:   func() (any, error) { return c.GetTask(ctx, "hello world") },
			method: "GET", path: "/api/v1/tasks/hello%20world",
			check: func(t *testing.T, got any) {
				if got.(*apitypes.Task).CreatedAt != time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) {
					t.Errorf("got %+v", got)
				}
			}},
		{name: "CreateTask", status: 201, answer: taskJSON,
			call: func() (any, error) {
				return c.CreateTask(ctx, apitypes.CreateTaskRequest{Code: "function(i){return i}", Metadata: json.RawMessage(`{"name":"hello"}`)})
			},
			method: "POST", path: "/api/v1/tasks", body: `{"code":"function(i){return i}","metadata":{"name":"hello"}}`, contentType: "application/json"},
		{name: "UploadTaskZip", status: 201, answer: taskJSON,
			call:   func() (any, error) { return c.UploadTaskZip(ctx, "hello", strings.NewReader("PK\x03\x04")) },
			method: "POST", path: "/api/v1/tasks", query: "name=hello", contentType: "application/zip"},
		{name: "UpdateTask", status: 200, answer: taskJSON,
			call:   func() (any, error) { return c.UpdateTask(ctx, "7", apitypes.UpdateTaskRequest{Enabled: &yes}) },
			method: "PATCH", path: "/api/v1/tasks/7", body: `{"enabled":true}`},
		{name: "DeleteTask", status: 204,
			call:   func() (any, error) { return nil, c.DeleteTask(ctx, "a/b") },
			method: "DELETE", path: "/api/v1/tasks/a%2Fb"},
		{name: "ExecuteTask", status: 200, answer: execJSON,
			call: func() (any, error) {
				return c.ExecuteTask(ctx, "hello", apitypes.ExecuteRequest{Input: json.RawMessage(`{"a":1}`), Async: true, TimeoutSeconds: &three})
			},
			method: "POST", path: "/api/v1/tasks/hello/execute", body: `{"input":{"a":1},"timeout_seconds":3}`,
			check: func(t *testing.T, got any) {
				if e := got.(*apitypes.Execution); string(e.Output) != `{"b":2}` || e.Status != core.ExecutionCompleted {
					t.Errorf("got %+v", e)
				}
			}},
		{name: "ExecuteTaskAsync", status: 202, answer: jobJSON,
			call: func() (any, error) {
				return c.ExecuteTaskAsync(ctx, "hello", apitypes.ExecuteRequest{Priority: "high"})
			},
			method: "POST", path: "/api/v1/tasks/hello/execute", body: `{"priority":"high","async":true}`,
			check: func(t *testing.T, got any) {
				if j := got.(*apitypes.Job); j.Priority != core.PriorityHigh || j.Status != core.JobQueued {
					t.Errorf("got %+v", j)
				}
			}},
		{name: "TestTask", status: 200, answer: `{"task":"hello","passed":2,"failed":0,"ok":true,"tests":[]}`,
			call:   func() (any, error) { return c.TestTask(ctx, "hello", apitypes.TestTaskRequest{}) },
			method: "POST", path: "/api/v1/tasks/hello/test", body: `{}`},
		{name: "ValidateTask", status: 200, answer: `{"task":"hello","valid":true,"problems":[]}`,
			call: func() (any, error) {
				return c.ValidateTask(ctx, "hello", apitypes.ValidateTaskRequest{Input: json.RawMessage(`{"a":1}`)})
			},
			method: "POST", path: "/api/v1/tasks/hello/validate", body: `{"input":{"a":1}}`},
		{name: "ListJobs", status: 200, answer: "[" + jobJSON + "]", headers: map[string]string{"Content-Range": "jobs 0-0/7"},
			call: func() (any, error) {
				_, total, err := c.ListJobs(ctx, client.ListOptions{Filters: map[string][]string{"status": {"failed", "cancelled"}}})
				return total, err
			},
			method: "GET", path: "/api/v1/jobs", query: "status=failed&status=cancelled",
			check: func(t *testing.T, got any) {
				if got.(int) != 7 {
					t.Errorf("total from Content-Range = %v", got)
				}
			}},
		{name: "CreateJob", status: 201, answer: jobJSON,
			call: func() (any, error) {
				return c.CreateJob(ctx, apitypes.CreateJobRequest{TaskID: apitypes.TaskRefID(1), Priority: "high", ProcessAt: &when,
					MaxRetries: &three, IdempotencyKey: "k",
					OutputDestinations: []apitypes.OutputDestination{{Type: "webhook", Config: map[string]any{"url": "http://h"}}}})
			},
			method: "POST", path: "/api/v1/jobs",
			body: `{"task_id":"1","priority":"high","process_at":"2025-06-01T00:00:00Z","max_retries":3,"idempotency_key":"k","output_destinations":[{"type":"webhook","config":{"url":"http://h"}}]}`},
		{name: "GetJob", status: 200, answer: jobJSON,
			call:   func() (any, error) { return c.GetJob(ctx, 5) },
			method: "GET", path: "/api/v1/jobs/5"},
		{name: "GetJobByRef", status: 200, answer: jobJSON,
			call:   func() (any, error) { return c.GetJobByRef(ctx, "0190f5c2-7b7e-7cc0-8c4e-1234567890ab") },
			method: "GET", path: "/api/v1/jobs/0190f5c2-7b7e-7cc0-8c4e-1234567890ab"},
		{name: "GetExecutionByRef", status: 200, answer: execJSON,
			call:   func() (any, error) { return c.GetExecutionByRef(ctx, "9") },
			method: "GET", path: "/api/v1/executions/9"},
		{name: "GetScheduleByRef", status: 200, answer: scheduleJSON,
			call:   func() (any, error) { return c.GetScheduleByRef(ctx, "0190f5c2-7b7e-7cc0-8c4e-1234567890ab") },
			method: "GET", path: "/api/v1/schedules/0190f5c2-7b7e-7cc0-8c4e-1234567890ab"},
		{name: "DeleteJob", status: 204,
			call:   func() (any, error) { return nil, c.DeleteJob(ctx, 5) },
			method: "DELETE", path: "/api/v1/jobs/5"},
		{name: "CancelJob", status: 200, answer: jobJSON,
			call:   func() (any, error) { return c.CancelJob(ctx, 5) },
			method: "POST", path: "/api/v1/jobs/5/cancel"},
		{name: "RetryJob", status: 200, answer: jobJSON,
			call:   func() (any, error) { return c.RetryJob(ctx, 5) },
			method: "POST", path: "/api/v1/jobs/5/retry"},
		{name: "JobStats", status: 200, answer: `{"total":3,"by_status":{"queued":3},"by_priority":{"low":3},"queue_depth":3,"active":3,"oldest_queued_at":null}`,
			call:   func() (any, error) { return c.JobStats(ctx) },
			method: "GET", path: "/api/v1/jobs/stats",
			check: func(t *testing.T, got any) {
				if s := got.(*apitypes.JobStats); s.ByStatus["queued"] != 3 {
					t.Errorf("got %+v", s)
				}
			}},
		{name: "ListExecutions", status: 200, answer: "[" + execJSON + "]", headers: listHeaders,
			call: func() (any, error) {
				_, total, err := c.ListExecutions(ctx, client.ListOptions{End: 5})
				return total, err
			},
			method: "GET", path: "/api/v1/executions", query: "_end=5&_start=0"},
		{name: "GetExecution", status: 200, answer: execJSON,
			call:   func() (any, error) { return c.GetExecution(ctx, 9) },
			method: "GET", path: "/api/v1/executions/9"},
		{name: "ExecutionLogs", status: 200, answer: `{"execution_id":9,"logs":[{"time":"2025-01-02T03:04:05Z","level":"info","message":"hi"}],"http_requests":[]}`,
			call:   func() (any, error) { return c.ExecutionLogs(ctx, 9) },
			method: "GET", path: "/api/v1/executions/9/logs",
			check: func(t *testing.T, got any) {
				if l := got.(*apitypes.ExecutionLogs); len(l.Logs) != 1 || l.Logs[0].Message != "hi" {
					t.Errorf("got %+v", l)
				}
			}},
		{name: "ListSchedules", status: 200, answer: "[" + scheduleJSON + "]", headers: listHeaders,
			call: func() (any, error) {
				_, _, err := c.ListSchedules(ctx, client.ListOptions{Q: "nightly"})
				return nil, err
			},
			method: "GET", path: "/api/v1/schedules", query: "q=nightly"},
		{name: "CreateSchedule", status: 201, answer: scheduleJSON,
			call: func() (any, error) {
				return c.CreateSchedule(ctx, apitypes.CreateScheduleRequest{TaskID: "hello", CronExpression: "0 2 * * *", Enabled: &yes})
			},
			method: "POST", path: "/api/v1/schedules", body: `{"task_id":"hello","cron_expression":"0 2 * * *","enabled":true}`},
		{name: "GetSchedule", status: 200, answer: scheduleJSON,
			call:   func() (any, error) { return c.GetSchedule(ctx, 3) },
			method: "GET", path: "/api/v1/schedules/3"},
		{name: "UpdateSchedule", status: 200, answer: scheduleJSON,
			call: func() (any, error) {
				expr := "@hourly"
				return c.UpdateSchedule(ctx, 3, apitypes.UpdateScheduleRequest{CronExpression: &expr, OutputDestinations: &[]apitypes.OutputDestination{}})
			},
			method: "PATCH", path: "/api/v1/schedules/3", body: `{"cron_expression":"@hourly","output_destinations":[]}`},
		{name: "DeleteSchedule", status: 204,
			call:   func() (any, error) { return nil, c.DeleteSchedule(ctx, 3) },
			method: "DELETE", path: "/api/v1/schedules/3"},
		{name: "EnableSchedule", status: 200, answer: scheduleJSON,
			call:   func() (any, error) { return c.EnableSchedule(ctx, 3) },
			method: "POST", path: "/api/v1/schedules/3/enable"},
		{name: "DisableSchedule", status: 200, answer: scheduleJSON,
			call:   func() (any, error) { return c.DisableSchedule(ctx, 3) },
			method: "POST", path: "/api/v1/schedules/3/disable"},
		{name: "TriggerSchedule", status: 202, answer: jobJSON,
			call:   func() (any, error) { return c.TriggerSchedule(ctx, 3) },
			method: "POST", path: "/api/v1/schedules/3/trigger"},
		{name: "ListWorkers", status: 200, answer: "[" + workerJSON + "]", headers: listHeaders,
			call: func() (any, error) {
				items, _, err := c.ListWorkers(ctx, client.ListOptions{})
				return items, err
			},
			method: "GET", path: "/api/v1/workers",
			check: func(t *testing.T, got any) {
				if w := got.([]apitypes.Worker); len(w) != 1 || w[0].Status != core.WorkerIdle {
					t.Errorf("got %+v", w)
				}
			}},
		{name: "GetWorker", status: 200, answer: workerJSON,
			call:   func() (any, error) { return c.GetWorker(ctx, "n1-w0") },
			method: "GET", path: "/api/v1/workers/n1-w0"},
		{name: "WorkerStats", status: 200, answer: `{"total":1,"by_status":{"idle":1},"by_node":{"n1":1},"nodes":1}`,
			call:   func() (any, error) { return c.WorkerStats(ctx) },
			method: "GET", path: "/api/v1/workers/stats"},
		{name: "ListDeliveries", status: 200, answer: `[]`, headers: map[string]string{"X-Total-Count": "0"},
			call: func() (any, error) {
				items, total, err := c.ListDeliveries(ctx, client.ListOptions{Filters: map[string][]string{"job_id": {"5"}}})
				return []any{items, total}, err
			},
			method: "GET", path: "/api/v1/deliveries", query: "job_id=5",
			check: func(t *testing.T, got any) {
				r := got.([]any)
				if items := r[0].([]apitypes.Delivery); items == nil || len(items) != 0 || r[1].(int) != 0 {
					t.Errorf("got %+v", r)
				}
			}},
		{name: "Health", status: 200, answer: `{"status":"ok","time":"2025-01-02T03:04:05Z"}`,
			call:   func() (any, error) { return c.Health(ctx) },
			method: "GET", path: "/health"},
		{name: "HealthDetailed unhealthy", status: 503, answer: `{"status":"unhealthy","checks":{"database":{"status":"unhealthy","message":"down"}}}`,
			call:   func() (any, error) { return c.HealthDetailed(ctx) },
			method: "GET", path: "/health/detailed",
			check: func(t *testing.T, got any) {
				if h := got.(*apitypes.HealthDetailed); h.Status != "unhealthy" || h.Checks["database"].Message != "down" {
					t.Errorf("got %+v", h)
				}
			}},
		{name: "Ready", status: 503, answer: `{"ready":false,"status":"not_ready","checks":{}}`,
			call:   func() (any, error) { return c.Ready(ctx) },
			method: "GET", path: "/ready",
			check: func(t *testing.T, got any) {
				if r := got.(*apitypes.Readiness); r.Ready {
					t.Errorf("got %+v", r)
				}
			}},
		{name: "Version", status: 200, answer: `{"version":"v1.2.3","api_version":"v1"}`,
			call:   func() (any, error) { return c.Version(ctx) },
			method: "GET", path: "/version"},
		{name: "Metrics", status: 200, answer: "# HELP x\nx 1\n", headers: map[string]string{"Content-Type": "text/plain"},
			call:   func() (any, error) { return c.Metrics(ctx) },
			method: "GET", path: "/metrics",
			check: func(t *testing.T, got any) {
				if string(got.([]byte)) != "# HELP x\nx 1\n" {
					t.Errorf("got %q", got)
				}
			}},
		{name: "OpenAPIJSON", status: 200, answer: `{"openapi":"3.0.3"}`,
			call:   func() (any, error) { return c.OpenAPIJSON(ctx) },
			method: "GET", path: "/api/v1/openapi.json"},
		{name: "OpenAPIYAML", status: 200, answer: "openapi: 3.0.3\n", headers: map[string]string{"Content-Type": "application/yaml"},
			call:   func() (any, error) { return c.OpenAPIYAML(ctx) },
			method: "GET", path: "/api/v1/openapi.yaml"},
		{name: "APIReference", status: 200, answer: "<!DOCTYPE html>", headers: map[string]string{"Content-Type": "text/html"},
			call:   func() (any, error) { return c.APIReference(ctx) },
			method: "GET", path: "/api/v1/docs"},
	}
	for _, tt := range tests {
		// Sequential: the subtests share the fake server's answer.
		t.Run(tt.name, func(t *testing.T) {
			f.answer(tt.status, tt.answer, tt.headers)
			got, err := tt.call()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			r := f.request()
			if r.method != tt.method || r.rawPath != tt.path {
				t.Errorf("request %s %s, want %s %s", r.method, r.rawPath, tt.method, tt.path)
			}
			if q, _ := url.ParseQuery(r.query); tt.query != "" || len(q) > 0 {
				want, _ := url.ParseQuery(tt.query)
				if !reflect.DeepEqual(q, want) {
					t.Errorf("query %q, want %q", r.query, tt.query)
				}
			}
			if tt.contentType == "application/zip" {
				if r.body != "PK\x03\x04" {
					t.Errorf("zip body %q", r.body)
				}
			} else {
				jsonEqual(t, r.body, tt.body)
			}
			if tt.body != "" && r.contentType != "application/json" {
				t.Errorf("Content-Type %q", r.contentType)
			}
			if tt.contentType != "" && r.contentType != tt.contentType {
				t.Errorf("Content-Type %q, want %q", r.contentType, tt.contentType)
			}
			if tt.method == "GET" && r.body != "" {
				t.Errorf("GET with a body %q", r.body)
			}
			if r.auth != "Bearer secret" || r.ua != "test-agent" {
				t.Errorf("Authorization %q, User-Agent %q", r.auth, r.ua)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
	// Every documented route is called by some client method.
	for _, r := range api.Routes() {
		if !f.hits[r.Method+" "+r.Path] {
			t.Errorf("no client method calls %s %s (%s)", r.Method, r.Path, r.OperationID)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	f, c := newFake(t)
	ctx := t.Context()

	t.Run("envelope", func(t *testing.T) {
		env := apitypes.NewErrorEnvelope(core.Errorf(core.KindNotFound, "job 5 not found").WithDetail("id", 5), "req-42")
		b, _ := json.Marshal(env)
		f.answer(404, string(b), nil)
		_, err := c.GetJob(ctx, 5)
		var ae *client.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("error %T %v is not an *APIError", err, err)
		}
		if ae.Status != 404 || ae.Type != "NotFoundError" || ae.Code != "NOT_FOUND" || ae.Message != "job 5 not found" ||
			ae.TraceID != "req-42" || ae.Details["id"] != float64(5) || ae.Timestamp.IsZero() {
			t.Errorf("decoded %+v", ae)
		}
		if !errors.Is(err, core.ErrNotFound) || errors.Is(err, core.ErrConflict) {
			t.Error("errors.Is does not match the kind")
		}
		if core.KindOf(err) != core.KindNotFound || core.HTTPStatusOf(err) != 404 {
			t.Errorf("KindOf %s, HTTPStatusOf %d", core.KindOf(err), core.HTTPStatusOf(err))
		}
		if !strings.Contains(err.Error(), "job 5 not found") || !strings.Contains(err.Error(), "req-42") {
			t.Errorf("Error() = %q", err)
		}
	})

	t.Run("every kind round-trips", func(t *testing.T) {
		for _, kind := range apitypes.Kinds {
			cause := core.NewError(kind, "boom")
			if kind == core.KindHTTP {
				cause.Status = 418
			}
			b, _ := json.Marshal(apitypes.NewErrorEnvelope(cause, ""))
			status := cause.HTTPStatus()
			f.answer(status, string(b), nil)
			_, err := c.GetTask(ctx, "x")
			if core.KindOf(err) != kind || core.HTTPStatusOf(err) != status {
				t.Errorf("%s: got kind %s status %d, want status %d", kind, core.KindOf(err), core.HTTPStatusOf(err), status)
			}
			if !errors.Is(err, &core.Error{Kind: kind}) {
				t.Errorf("%s: errors.Is fails", kind)
			}
		}
	})

	t.Run("failed execution", func(t *testing.T) {
		e := apitypes.ExecutionError(core.Execution{ID: 77, Status: core.ExecutionFailed, ErrorType: "TypeError", ErrorMessage: "x is undefined"})
		b, _ := json.Marshal(apitypes.NewErrorEnvelope(e, "r"))
		f.answer(500, string(b), nil)
		_, err := c.ExecuteTask(ctx, "hello", apitypes.ExecuteRequest{})
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Type != "TypeError" || ae.Code != apitypes.CodeTaskError {
			t.Fatalf("got %v", err)
		}
		if id, ok := ae.ExecutionID(); !ok || id != 77 {
			t.Errorf("ExecutionID = %d, %v", id, ok)
		}
	})

	t.Run("not an envelope", func(t *testing.T) {
		f.answer(502, "<html>bad gateway</html>", map[string]string{"Content-Type": "text/html", "X-Request-ID": "px"})
		_, err := c.Version(ctx)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 502 || ae.Type != "NetworkError" || ae.Message != "Bad Gateway" || ae.TraceID != "px" {
			t.Fatalf("got %+v", ae)
		}
		f.answer(405, "method not allowed", nil)
		_, err = c.Version(ctx)
		if !errors.As(err, &ae) || ae.Kind() != core.KindHTTP || core.HTTPStatusOf(err) != 405 || ae.Message != "method not allowed" {
			t.Fatalf("got %+v", ae)
		}
	})

	t.Run("bad JSON answer", func(t *testing.T) {
		f.answer(200, "{", nil)
		if _, err := c.Version(ctx); err == nil || !strings.Contains(err.Error(), "decoding") {
			t.Errorf("got %v", err)
		}
	})
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
	}))
	defer srv.Close()
	c, err := client.New(srv.URL + "/api/v1/")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err = c.Health(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want a deadline error", err)
	}
	if c.BaseURL() != srv.URL {
		t.Errorf("BaseURL %q, want %q (the /api/v1 suffix trimmed)", c.BaseURL(), srv.URL)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "localhost:8080", "ftp://x", "http://", "://x"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q) succeeded", bad)
		}
	}
	hc := &http.Client{Timeout: time.Second}
	c, err := client.New("https://ratchet.example.com/base/", client.WithHTTPClient(hc))
	if err != nil || c.BaseURL() != "https://ratchet.example.com/base" {
		t.Errorf("New = %v, %v", c, err)
	}
}

func TestListOptionsValues(t *testing.T) {
	t.Parallel()
	v := client.ListOptions{}.Values()
	if len(v) != 0 {
		t.Errorf("empty options give %v", v)
	}
	v = client.ListOptions{Start: 5}.Values()
	if v.Encode() != "_start=5" {
		t.Errorf("got %s", v.Encode())
	}
	var buf bytes.Buffer
	buf.WriteString(client.ListOptions{End: 10, Filters: map[string][]string{"created_at_gte": {"2025-01-01"}}}.Values().Encode())
	if buf.String() != "_end=10&_start=0&created_at_gte=2025-01-01" {
		t.Errorf("got %s", buf.String())
	}
}
