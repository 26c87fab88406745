package rest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
)

// checkEnvelope checks an error answer: status, the envelope's type,
// statusCode and message repeated at the top, the request id as trace_id,
// and the details wanted (a value of "*" only needs the key).
func checkEnvelope(t *testing.T, r response, status int, typ string, details map[string]any) apitypes.ErrorEnvelope {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	env := r.envelope(t)
	if env.Error.Type != typ {
		t.Errorf("error.type %q, want %q (%s)", env.Error.Type, typ, r.Body)
	}
	if env.StatusCode != status || env.Message != env.Error.Message || env.Error.Message == "" {
		t.Errorf("statusCode %d / message %q do not repeat the error (%s)", env.StatusCode, env.Message, r.Body)
	}
	if env.Error.Code == "" || env.Error.Timestamp.IsZero() {
		t.Errorf("no code or timestamp: %s", r.Body)
	}
	if env.Error.TraceID == "" || env.Error.TraceID != r.Header.Get("X-Request-ID") {
		t.Errorf("trace_id %q, X-Request-ID %q", env.Error.TraceID, r.Header.Get("X-Request-ID"))
	}
	for k, want := range details {
		got, ok := env.Error.Details[k]
		if !ok {
			t.Errorf("details.%s missing: %s", k, r.Body)
			continue
		}
		if want != "*" && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("details.%s = %v, want %v", k, got, want)
		}
	}
	return env
}

// TestErrors: each kind of error reachable over HTTP answers its status
// with the envelope.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	later := time.Now().Add(time.Hour).UTC()
	queued, err := e.client.CreateJob(ctx, apitypes.CreateJobRequest{TaskID: "addition", ProcessAt: &later})
	if err != nil {
		t.Fatal(err)
	}
	done, err := e.client.CreateJob(ctx, apitypes.CreateJobRequest{TaskID: "addition", Input: []byte(`{"num1":1,"num2":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	e.waitJob(done.ID)

	cases := []struct {
		name         string
		method, path string
		body         any
		header       []string
		status       int
		typ          string
		details      map[string]any
	}{
		// Lists.
		{"unknown filter field", "GET", "/api/v1/tasks?bogus=1", nil, nil, 400, "InvalidArgumentError", map[string]any{"field": "bogus"}},
		{"unknown sort field", "GET", "/api/v1/jobs?_sort=nope", nil, nil, 400, "InvalidArgumentError", map[string]any{"field": "nope", "parameter": "_sort"}},
		{"bad filter value", "GET", "/api/v1/jobs?priority=extreme", nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "priority"}},
		{"like on a number", "GET", "/api/v1/jobs?attempts_like=1", nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "attempts_like"}},
		{"bad page", "GET", "/api/v1/executions?_start=5&_end=2", nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "_end"}},
		{"page too large", "GET", "/api/v1/schedules?_start=0&_end=5000", nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "_end"}},
		{"bad order", "GET", "/api/v1/deliveries?_sort=id&_order=up", nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "_order"}},
		{"search too long", "GET", "/api/v1/jobs?q=" + strings.Repeat("%25", 60000), nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "q", "max_length": 1000}},
		{"like pattern too long", "GET", "/api/v1/tasks?name_like=" + strings.Repeat("a", 60000), nil, nil, 400, "InvalidArgumentError", map[string]any{"parameter": "name_like", "max_length": 1000}},
		{"unknown worker filter", "GET", "/api/v1/workers?colour=red", nil, nil, 400, "InvalidArgumentError", map[string]any{"field": "colour"}},
		// Unknown ids.
		{"unknown task", "GET", "/api/v1/tasks/no-such-task", nil, nil, 404, "NotFoundError", nil},
		{"unknown task id", "GET", "/api/v1/tasks/9999", nil, nil, 404, "NotFoundError", nil},
		{"unknown job", "GET", "/api/v1/jobs/9999", nil, nil, 404, "NotFoundError", nil},
		{"unknown job uuid", "GET", "/api/v1/jobs/0194d2a4-0000-7000-8000-000000000000", nil, nil, 404, "NotFoundError", nil},
		{"unknown execution", "GET", "/api/v1/executions/9999", nil, nil, 404, "NotFoundError", nil},
		{"unknown execution logs", "GET", "/api/v1/executions/9999/logs", nil, nil, 404, "NotFoundError", nil},
		{"unknown schedule", "GET", "/api/v1/schedules/9999", nil, nil, 404, "NotFoundError", nil},
		{"unknown worker", "GET", "/api/v1/workers/nobody", nil, nil, 404, "NotFoundError", nil},
		{"cancel unknown job", "POST", "/api/v1/jobs/9999/cancel", nil, nil, 404, "NotFoundError", nil},
		{"delete unknown task", "DELETE", "/api/v1/tasks/no-such-task", nil, nil, 404, "NotFoundError", nil},
		{"execute unknown task", "POST", "/api/v1/tasks/no-such-task/execute", map[string]any{"input": map[string]any{}}, nil, 404, "NotFoundError", nil},
		{"job for unknown task", "POST", "/api/v1/jobs", map[string]any{"task_id": "no-such-task"}, nil, 404, "NotFoundError", nil},
		{"schedule for unknown task", "POST", "/api/v1/schedules", map[string]any{"task_id": 9999, "cron_expression": "@hourly"}, nil, 404, "NotFoundError", nil},
		// Forbidden state changes.
		{"cancel a completed job", "POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", done.ID), nil, nil, 409, "ConflictError", nil},
		{"retry a queued job", "POST", fmt.Sprintf("/api/v1/jobs/%d/retry", queued.ID), nil, nil, 409, "ConflictError", map[string]any{"status": "queued"}},
		{"delete a task with unfinished jobs", "DELETE", "/api/v1/tasks/addition", nil, nil, 409, "ConflictError", map[string]any{"unfinished_jobs": "*"}},
		{"delete a queued job", "DELETE", fmt.Sprintf("/api/v1/jobs/%d", queued.ID), nil, nil, 409, "ConflictError", nil},
		// Bodies.
		{"unknown body field", "POST", "/api/v1/jobs", map[string]any{"task_id": "addition", "bogus": 1}, nil, 400, "InvalidArgumentError", map[string]any{"field": "bogus"}},
		{"field names match exactly", "POST", "/api/v1/jobs", map[string]any{"Task_ID": "addition"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "Task_ID"}},
		{"wrong type", "POST", "/api/v1/jobs", map[string]any{"task_id": "addition", "max_retries": "three"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "max_retries"}},
		{"invalid priority", "POST", "/api/v1/jobs", map[string]any{"task_id": "addition", "priority": "extreme"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "priority"}},
		{"invalid task_id", "POST", "/api/v1/jobs", map[string]any{"task_id": true}, nil, 400, "InvalidArgumentError", map[string]any{"field": "task_id"}},
		{"missing task_id", "POST", "/api/v1/jobs", map[string]any{"input": map[string]any{}}, nil, 400, "InvalidArgumentError", map[string]any{"field": "task_id"}},
		{"negative max_retries", "POST", "/api/v1/jobs", map[string]any{"task_id": "addition", "max_retries": -1}, nil, 400, "InvalidArgumentError", map[string]any{"field": "max_retries"}},
		{"bad destination", "POST", "/api/v1/jobs", map[string]any{"task_id": "addition", "output_destinations": []any{map[string]any{"type": "ftp"}}}, nil, 400, "InvalidArgumentError", map[string]any{"field": "output_destinations[0].type"}},
		{"bad process_at", "POST", "/api/v1/jobs", map[string]any{"task_id": "addition", "process_at": "tomorrow"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "process_at"}},
		{"body not an object", "POST", "/api/v1/jobs", "[1, 2]", nil, 400, "InvalidArgumentError", nil},
		{"malformed JSON", "POST", "/api/v1/jobs", `{"task_id": `, nil, 400, "InvalidArgumentError", nil},
		{"empty body", "POST", "/api/v1/jobs", "", nil, 400, "InvalidArgumentError", nil},
		{"not JSON", "POST", "/api/v1/jobs", "task_id=addition", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "HttpError", nil},
		{"unknown execute field", "POST", "/api/v1/tasks/addition/execute", map[string]any{"inputs": map[string]any{}}, nil, 400, "InvalidArgumentError", map[string]any{"field": "inputs"}},
		{"negative timeout", "POST", "/api/v1/tasks/addition/execute", map[string]any{"timeout_seconds": -1}, nil, 400, "InvalidArgumentError", map[string]any{"field": "timeout_seconds"}},
		{"invalid cron", "POST", "/api/v1/schedules", map[string]any{"task_id": "addition", "cron_expression": "every tuesday"}, nil, 400, "InvalidArgumentError", nil},
		{"invalid time zone", "POST", "/api/v1/schedules", map[string]any{"task_id": "addition", "cron_expression": "@daily", "timezone": "Mars/Olympus"}, nil, 400, "InvalidArgumentError", nil},
		{"missing cron", "POST", "/api/v1/schedules", map[string]any{"task_id": "addition"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "cron_expression"}},
		{"empty patch value", "PATCH", "/api/v1/tasks/addition", map[string]any{"code": " "}, nil, 400, "InvalidArgumentError", map[string]any{"field": "code"}},
		{"task without code", "POST", "/api/v1/tasks", map[string]any{"name": "x"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "code"}},
		{"task schema not an object", "POST", "/api/v1/tasks", map[string]any{"code": "(function(){})", "input_schema": "yes"}, nil, 400, "InvalidArgumentError", map[string]any{"field": "input_schema"}},
		{"task name and metadata differ", "POST", "/api/v1/tasks", map[string]any{"name": "a", "code": "(function(){})", "metadata": map[string]any{"name": "b"}}, nil, 400, "InvalidArgumentError", map[string]any{"field": "name"}},
		{"task upload of another type", "POST", "/api/v1/tasks", "code", []string{"Content-Type", "text/plain"}, 415, "HttpError", nil},
		{"unknown route", "GET", "/api/v1/nothing-here", nil, nil, 404, "NotFoundError", nil},
		{"method not allowed", "PUT", "/api/v1/jobs/1", nil, nil, 405, "HttpError", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.body, c.header...)
			checkEnvelope(t, r, c.status, c.typ, c.details)
		})
	}

	t.Run("client sees the error", func(t *testing.T) {
		_, err := e.client.CancelJob(ctx, done.ID)
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || !errors.Is(err, core.ErrConflict) {
			t.Errorf("CancelJob of a completed job: %v", err)
		}
		_, err = e.client.GetTask(ctx, "no-such-task")
		if !errors.Is(err, core.ErrNotFound) {
			t.Errorf("GetTask of an unknown task: %v", err)
		}
	})
}

// TestQueueFull: beyond server.job_queue.max_queue_size, enqueues answer
// 429.
func TestQueueFull(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Server.JobQueue.MaxQueueSize = 2 })
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for i := range 2 {
		r := e.do(http.MethodPost, "/api/v1/jobs", map[string]any{"task_id": "addition", "process_at": later})
		expect(t, r, http.StatusCreated, fmt.Sprintf("job %d", i))
	}
	r := e.do(http.MethodPost, "/api/v1/jobs", map[string]any{"task_id": "addition", "process_at": later})
	checkEnvelope(t, r, http.StatusTooManyRequests, "RateLimitError", map[string]any{"max_queue_size": 2})
	r = e.do(http.MethodPost, "/api/v1/tasks/addition/execute", map[string]any{"async": true})
	checkEnvelope(t, r, http.StatusTooManyRequests, "RateLimitError", nil)
}

// TestExecuteFailures: a synchronous execute of a failing task answers
// the status of SPEC §2.4 with the execution's id, and the execution is
// stored failed with the same error type.
func TestExecuteFailures(t *testing.T) {
	e := newEnv(t)
	// Tasks that throw each kind (stored directly: they test execution,
	// not upload).
	for name, code := range map[string]string{
		"throws-type-error":   "(function () { return null.x; })",
		"throws-auth":         "(function () { throw new AuthenticationError('who are you'); })",
		"throws-forbidden":    "(function () { throw new AuthorizationError('not yours'); })",
		"throws-rate-limit":   "(function () { throw new RateLimitError('slow down'); })",
		"throws-unavailable":  "(function () { throw new ServiceUnavailableError('down'); })",
		"throws-runtime":      "(function () { throw new RuntimeError('broken'); })",
		"fetches-closed-port": "(function () { return fetch('http://127.0.0.1:1/x').body; })",
		"loops-forever":       "(function () { while (true) {} })",
		"bad-output":          "(function () { return {sum: 'not a number'}; })",
		"does-not-compile":    "(function ( {",
	} {
		req := map[string]any{"code": code}
		if name == "bad-output" {
			req["output_schema"] = map[string]any{"type": "object", "properties": map[string]any{"sum": map[string]any{"type": "number"}}}
		}
		e.storeTask(name, req)
	}
	cases := []struct {
		name, task string
		input      any
		timeout    int
		status     int
		typ        string
	}{
		{"input validation", "addition", map[string]any{"num1": "x"}, 0, 400, "InputValidationError"},
		{"ValidationError", "order-validation", map[string]any{"items": []any{}}, 0, 400, "ValidationError"},
		{"NotFoundError", "order-validation", map[string]any{"items": []any{map[string]any{"sku": "sku-9", "quantity": 1}}}, 0, 404, "NotFoundError"},
		{"DataError", "order-validation", map[string]any{"items": []any{map[string]any{"sku": "sku-2", "quantity": 1}}}, 0, 422, "DataError"},
		{"HttpError keeps its status", "order-validation", map[string]any{"items": []any{map[string]any{"sku": "sku-1", "quantity": 1}}, "coupon": "FREE"}, 0, 402, "HttpError"},
		{"denied host", "weather-api", map[string]any{"latitude": 48.8, "longitude": 2.3}, 0, 500, "ConfigurationError"},
		{"AuthenticationError", "throws-auth", nil, 0, 401, "AuthenticationError"},
		{"AuthorizationError", "throws-forbidden", nil, 0, 403, "AuthorizationError"},
		{"RateLimitError", "throws-rate-limit", nil, 0, 429, "RateLimitError"},
		{"ServiceUnavailableError", "throws-unavailable", nil, 0, 503, "ServiceUnavailableError"},
		{"RuntimeError", "throws-runtime", nil, 0, 500, "RuntimeError"},
		{"TypeError", "throws-type-error", nil, 0, 500, "TypeError"},
		{"NetworkError", "fetches-closed-port", nil, 0, 502, "NetworkError"},
		{"OutputValidationError", "bad-output", nil, 0, 422, "OutputValidationError"},
		{"CompileError", "does-not-compile", nil, 0, 500, "CompileError"},
		{"TimeoutError", "loops-forever", nil, 1, 504, "TimeoutError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := map[string]any{"input": c.input}
			if c.timeout > 0 {
				body["timeout_seconds"] = c.timeout
			}
			r := e.do(http.MethodPost, "/api/v1/tasks/"+c.task+"/execute", body)
			env := checkEnvelope(t, r, c.status, c.typ, map[string]any{"execution_id": "*"})
			id, ok := env.Error.Details["execution_id"].(float64)
			if !ok {
				return
			}
			exec, err := e.client.GetExecution(context.Background(), int64(id))
			if err != nil {
				t.Fatalf("GetExecution(%v): %v", id, err)
			}
			if exec.Status != core.ExecutionFailed || exec.ErrorType != c.typ || exec.ErrorMessage != env.Error.Message {
				t.Errorf("execution %d: %s %s %q; envelope %q", exec.ID, exec.Status, exec.ErrorType, exec.ErrorMessage, env.Error.Message)
			}
			if exec.TaskName != c.task {
				t.Errorf("execution of %q, want %q", exec.TaskName, c.task)
			}
			// The client reports the execution too.
			_, err = e.client.ExecuteTask(context.Background(), c.task, apitypes.ExecuteRequest{Input: mustJSON(c.input), TimeoutSeconds: ptrIf(c.timeout)})
			var apiErr *client.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != c.status || apiErr.Type != c.typ {
				t.Errorf("client: %v", err)
			} else if n, ok := apiErr.ExecutionID(); !ok || n <= 0 {
				t.Errorf("client: no execution id in %v", apiErr.Details)
			}
		})
	}
	// The failures are listed, filterable by error type.
	r := e.do(http.MethodGet, "/api/v1/executions?status=failed&error_type=DataError", nil)
	expect(t, r, http.StatusOK, "list failed executions")
	if got := r.Header.Get("X-Total-Count"); got != "2" {
		t.Errorf("DataError executions: %s, want 2 (%s)", got, r.Body)
	}
	if !strings.Contains(string(r.Body), `"error_type":"DataError"`) {
		t.Errorf("list body: %s", r.Body)
	}
}

func mustJSON(v any) []byte {
	if v == nil {
		return nil
	}
	b, err := jsonMarshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func ptrIf(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
