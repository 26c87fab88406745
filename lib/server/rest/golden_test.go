package rest_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/lib/server/rest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// headersShown are the response headers a golden file records.
var headersShown = []string{"Content-Type", "Location", "X-Total-Count", "Content-Range"}

// placeholders replace the values that change from run to run, by key.
var placeholders = map[string]string{
	"uuid": "<uuid>", "execution_uuid": "<uuid>", "trace_id": "<trace-id>",
	"created_at": "<time>", "updated_at": "<time>", "started_at": "<time>", "completed_at": "<time>",
	"queued_at": "<time>", "process_at": "<time>", "next_run_at": "<time>", "last_run_at": "<time>",
	"last_heartbeat_at": "<time>", "oldest_queued_at": "<time>", "timestamp": "<time>", "time": "<time>",
	"duration_ms": "<duration>", "pid": "<pid>", "memory_bytes": "<bytes>", "memory_bytes_total": "<bytes>",
	"worker_id": "<worker>", "stack": "<stack>", "schedule_uuid": "<uuid>", "triggered_at": "<time>",
}

// workerPlaceholders also hide which worker ran what (GET /workers...).
var workerPlaceholders = map[string]string{
	"status": "<status>", "current_execution_id": "<execution>", "executions_total": "<n>",
	"failures_total": "<n>", "busy": "<n>", "idle": "<n>", "by_status": "<counts>",
}

// normalise rewrites a JSON value with the placeholders; nulls and empty
// strings stay, so that a golden file still shows which fields are set.
func normalise(v any, extra map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p, ok := placeholders[k]
			if e, ok2 := extra[k]; ok2 {
				p, ok = e, true
			}
			if ok && val != nil && val != "" {
				x[k] = p
				continue
			}
			x[k] = normalise(val, extra)
		}
	case []any:
		for i := range x {
			x[i] = normalise(x[i], extra)
		}
	}
	return v
}

// golden renders a response for a golden file: the status line, the
// headers shown, the normalised body.
func (e *env) golden(r response, extra map[string]string, replace ...string) []byte {
	e.t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP %d\n", r.Status)
	for _, h := range headersShown {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	b.WriteString("\n")
	body := string(r.Body)
	for i := 0; i+1 < len(replace); i += 2 {
		body = strings.ReplaceAll(body, replace[i], replace[i+1])
	}
	body = strings.ReplaceAll(body, e.root, "<examples>")
	if strings.TrimSpace(body) == "" {
		return b.Bytes()
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		e.t.Fatalf("golden: body is not JSON: %v\n%s", err, body)
	}
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalise(v, extra)); err != nil {
		e.t.Fatal(err)
	}
	return b.Bytes()
}

// checkGolden compares got with testdata/<name>.golden, or writes it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to write it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, file, got, want)
	}
}

// TestGolden calls every route once, in an order that makes the answers
// deterministic on a fresh database, and compares each normalised answer
// with its golden file.
func TestGolden(t *testing.T) {
	e := newEnv(t)
	out := t.TempDir()
	dest := []map[string]any{{"type": "filesystem", "config": map[string]any{"path": filepath.Join(out, "{{task_name}}-{{job_id}}.json")}}}
	greeter := map[string]any{
		"metadata":      map[string]any{"name": "greeter", "label": "Greeter", "version": "1.0.0", "description": "Says hello."},
		"code":          "(function (input) { console.log('greeting ' + input.name); return {greeting: 'Hello, ' + input.name + '!'}; })",
		"input_schema":  map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}, "required": []string{"name"}},
		"output_schema": map[string]any{"type": "object", "properties": map[string]any{"greeting": map[string]any{"type": "string"}}},
		"tests":         []any{map[string]any{"file": "basic.json", "input": map[string]any{"name": "Ada"}, "expected_output": map[string]any{"greeting": "Hello, Ada!"}}},
	}

	ids := map[string]int64{}
	wait := func(name string) func() { return func() { e.waitJob(ids[name]) } }
	type step struct {
		name, method, path string
		body               any
		status             int
		extra              map[string]string
		// before runs first (waits for background work).
		before func()
		// save records the answer's id under this name; paths refer to
		// saved ids as {name}.
		save string
	}
	steps := []step{
		{name: "listTasks", method: "GET", path: "/api/v1/tasks?_sort=name&_order=asc", status: 200},
		{name: "getTask", method: "GET", path: "/api/v1/tasks/addition", status: 200},
		{name: "getTask_notFound", method: "GET", path: "/api/v1/tasks/no-such-task", status: 404},
		{name: "createTask", method: "POST", path: "/api/v1/tasks", body: greeter, status: 201},
		{name: "updateTask", method: "PATCH", path: "/api/v1/tasks/greeter", body: map[string]any{"description": "Says hello politely.", "label": "Polite greeter"}, status: 200},
		{name: "executeTask", method: "POST", path: "/api/v1/tasks/addition/execute", body: map[string]any{"input": map[string]any{"num1": 2, "num2": 3}}, status: 200},
		{name: "executeTask_failure", method: "POST", path: "/api/v1/tasks/order-validation/execute", body: map[string]any{"input": map[string]any{"items": []any{map[string]any{"sku": "sku-9", "quantity": 1}}}}, status: 404},
		{name: "executeTask_async", method: "POST", path: "/api/v1/tasks/greeter/execute", body: map[string]any{"input": map[string]any{"name": "Ada"}, "async": true}, status: 202, save: "async"},
		{name: "testTask", method: "POST", path: "/api/v1/tasks/addition/test", status: 200, before: wait("async")},
		{name: "testTask_given", method: "POST", path: "/api/v1/tasks/weather-api/test", body: map[string]any{"tests": []any{map[string]any{
			"file": "berlin.json", "name": "mocked forecast", "input": map[string]any{"latitude": 52.52, "longitude": 13.41},
			"mock": map[string]any{"http": map[string]any{"url": "api.open-meteo.com/v1/forecast", "method": "GET",
				"response": map[string]any{"status": 200, "body": map[string]any{"current_weather": map[string]any{"temperature": 21.4, "windspeed": 11.2, "weathercode": 2}}}}},
			"expected_output": map[string]any{"temperature": 21.4, "windspeed": 11.2, "conditions": "partly cloudy", "units": "celsius"},
		}}}, status: 200},
		{name: "validateTask", method: "POST", path: "/api/v1/tasks/addition/validate", body: map[string]any{"input": map[string]any{"num1": 1}}, status: 200},
		{name: "createJob", method: "POST", path: "/api/v1/jobs", body: map[string]any{"task_id": "addition", "input": map[string]any{"num1": 1, "num2": 1}, "idempotency_key": "golden-1", "priority": "high", "output_destinations": dest}, status: 201, save: "job"},
		{name: "createJob_repeat", method: "POST", path: "/api/v1/jobs", body: map[string]any{"task_id": "addition", "input": map[string]any{"num1": 1, "num2": 1}, "idempotency_key": "golden-1"}, status: 200, before: wait("job")},
		{name: "getJob", method: "GET", path: "/api/v1/jobs/{job}", status: 200},
		{name: "cancelJob_conflict", method: "POST", path: "/api/v1/jobs/{job}/cancel", status: 409},
		{name: "retryJob_conflict", method: "POST", path: "/api/v1/jobs/{job}/retry", status: 409},
		{name: "createJob_later", method: "POST", path: "/api/v1/jobs", body: map[string]any{"task_id": 3, "input": map[string]any{"items": []any{map[string]any{"sku": "sku-1", "quantity": 2}}}, "process_at": "2999-01-01T00:00:00Z", "max_retries": 0}, status: 201, save: "later"},
		{name: "cancelJob", method: "POST", path: "/api/v1/jobs/{later}/cancel", status: 200},
		{name: "retryJob", method: "POST", path: "/api/v1/jobs/{later}/retry", status: 200},
		{name: "listJobs", method: "GET", path: "/api/v1/jobs?_sort=id&_order=asc", status: 200, before: wait("later")},
		{name: "getJobStats", method: "GET", path: "/api/v1/jobs/stats", status: 200},
		{name: "listExecutions", method: "GET", path: "/api/v1/executions?_sort=id&_order=asc", status: 200},
		{name: "getExecution", method: "GET", path: "/api/v1/executions/1", status: 200},
		{name: "getExecutionLogs", method: "GET", path: "/api/v1/executions/1/logs", status: 200},
		{name: "createSchedule", method: "POST", path: "/api/v1/schedules", body: map[string]any{"task_id": "addition", "name": "nightly", "cron_expression": "0 3 * * *", "input": map[string]any{"num1": 4, "num2": 5}}, status: 201},
		{name: "getSchedule", method: "GET", path: "/api/v1/schedules/1", status: 200},
		{name: "updateSchedule", method: "PATCH", path: "/api/v1/schedules/1", body: map[string]any{"cron_expression": "30 4 * * 1-5", "timezone": "Europe/Paris", "max_executions": 10}, status: 200},
		{name: "disableSchedule", method: "POST", path: "/api/v1/schedules/1/disable", status: 200},
		{name: "enableSchedule", method: "POST", path: "/api/v1/schedules/1/enable", status: 200},
		{name: "triggerSchedule", method: "POST", path: "/api/v1/schedules/1/trigger", status: 202, save: "triggered"},
		{name: "listSchedules", method: "GET", path: "/api/v1/schedules", status: 200, before: wait("triggered")},
		{name: "listWorkers", method: "GET", path: "/api/v1/workers?_sort=id", status: 200, extra: workerPlaceholders},
		{name: "getWorker", method: "GET", path: "/api/v1/workers/node-a-worker-1", status: 200, extra: workerPlaceholders},
		{name: "getWorkerStats", method: "GET", path: "/api/v1/workers/stats", status: 200, extra: workerPlaceholders},
		{name: "listDeliveries", method: "GET", path: "/api/v1/deliveries?job_id={job}", status: 200, before: func() { e.waitDeliveries(ids["job"]) }},
		{name: "deleteSchedule", method: "DELETE", path: "/api/v1/schedules/1", status: 204},
		{name: "deleteJob", method: "DELETE", path: "/api/v1/jobs/{job}", status: 204},
		{name: "deleteTask", method: "DELETE", path: "/api/v1/tasks/greeter", status: 204},
		{name: "getTask_deleted", method: "GET", path: "/api/v1/tasks/greeter", status: 404},
	}
	covered := map[string]bool{}
	for _, s := range steps {
		op, _, _ := strings.Cut(s.name, "_")
		covered[op] = true
		if s.before != nil {
			s.before()
		}
		for name, id := range ids {
			s.path = strings.ReplaceAll(s.path, "{"+name+"}", strconv.FormatInt(id, 10))
		}
		r := e.do(s.method, s.path, s.body)
		if s.save != "" {
			var v struct{ ID int64 }
			_ = json.Unmarshal(r.Body, &v)
			ids[s.save] = v.ID
		}
		if r.Status != s.status {
			t.Errorf("%s: %s %s: status %d, want %d: %s", s.name, s.method, s.path, r.Status, s.status, r.Body)
		}
		checkGolden(t, s.name, e.golden(r, s.extra, out, "<tmp>"))
	}
	checkCovered(t, covered)
}

// checkCovered fails unless every operation Register mounts has a step.
func checkCovered(t *testing.T, covered map[string]bool) {
	t.Helper()
	served := map[string]bool{}
	for _, id := range rest.ServedByServer {
		served[id] = true
	}
	for _, r := range api.Routes() {
		if strings.HasPrefix(r.Path, api.V1Prefix+"/") && !served[r.OperationID] && !covered[r.OperationID] {
			t.Errorf("no golden step for %s (%s %s)", r.OperationID, r.Method, r.Path)
		}
	}
}

// waitDeliveries waits until job has a delivery record.
func (e *env) waitDeliveries(job int64) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := e.do(http.MethodGet, fmt.Sprintf("/api/v1/deliveries?job_id=%d", job), nil)
		if r.Status == 200 && r.Header.Get("X-Total-Count") != "0" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("no delivery for job %d after 10s", job)
}
