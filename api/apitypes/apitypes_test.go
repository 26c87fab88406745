package apitypes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

func keysOf(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSpecFields checks that every field SPEC §4.1 lists for a resource is
// always in its JSON, even for zero values.
func TestSpecFields(t *testing.T) {
	t.Parallel()
	spec := map[string]struct {
		v      any
		fields string
	}{
		"task": {FromTask(core.Task{}), "id, uuid, name, label, version, description, enabled, input_schema, output_schema, source, load_error, created_at, updated_at"},
		"job": {FromJob(core.Job{}), "id, uuid, task_id, task_name, status, priority, input, output, error_type, error_message, attempts, max_retries, " +
			"retry_delay_seconds, process_at, schedule_id, idempotency_key, execution_id, output_destinations, created_at, started_at, completed_at"},
		"execution": {FromExecution(core.Execution{}), "id, uuid, task_id, job_id, status, input, output, error_type, error_message, error_details, logs, " +
			"http_requests, worker_id, attempt, queued_at, started_at, completed_at, duration_ms"},
		"schedule": {FromSchedule(core.Schedule{}), "id, uuid, task_id, name, cron_expression, timezone, input, enabled, max_executions, execution_count, " +
			"next_run_at, last_run_at, output_destinations"},
		"worker": {FromWorker(core.Worker{}), "id, node, pid, status, current_execution_id, executions_total, failures_total, restarts, memory_bytes, " +
			"started_at, last_heartbeat_at"},
		"delivery": {FromDelivery(core.DeliveryResult{}), "id, job_id, execution_id, destination_type, success, attempts, status_code, error_message, " +
			"duration_ms, created_at"},
	}
	for name, s := range spec {
		got := keysOf(t, s.v)
		for _, f := range strings.Split(s.fields, ", ") {
			if _, ok := got[f]; !ok {
				t.Errorf("%s has no %q in its JSON", name, f)
			}
		}
	}
}

func TestConversions(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	local := time.Date(2025, 1, 2, 4, 4, 5, 0, paris)
	id := int64(3)
	j := FromJob(core.Job{ID: 1, Priority: core.PriorityUrgent, Status: core.JobRetrying, CreatedAt: local, StartedAt: &local,
		ExecutionID: &id, OutputDestinations: []core.OutputDestination{{Type: "filesystem"}}})
	b, _ := json.Marshal(j)
	for _, want := range []string{`"priority":"urgent"`, `"status":"retrying"`, `"created_at":"2025-01-02T03:04:05Z"`,
		`"started_at":"2025-01-02T03:04:05Z"`, `"execution_id":3`, `"schedule_id":null`, `"output":null`, `"metadata":{}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("job JSON %s lacks %s", b, want)
		}
	}
	task := FromTask(core.Task{Timeout: 90 * time.Second})
	if task.TimeoutSeconds != 90 || task.Tags == nil {
		t.Errorf("task %+v", task)
	}
	if d := FromDelivery(core.DeliveryResult{ExecutionID: 0}); d.ExecutionID != nil {
		t.Error("execution_id 0 should be null")
	}
	if l := FromJobs(nil); l == nil || len(l) != 0 {
		t.Error("FromJobs(nil) should be empty, not nil")
	}
	for _, f := range []func() int{
		func() int { return len(FromTasks([]core.Task{{}})) }, func() int { return len(FromExecutions([]core.Execution{{}})) },
		func() int { return len(FromSchedules([]core.Schedule{{}})) }, func() int { return len(FromWorkers([]core.Worker{{}})) },
		func() int { return len(FromDeliveries([]core.DeliveryResult{{}})) },
	} {
		if f() != 1 {
			t.Error("list conversion lost items")
		}
	}
	if ToDestinations(nil) != nil || len(ToDestinations([]OutputDestination{{Type: "webhook"}})) != 1 {
		t.Error("ToDestinations")
	}
}

func TestTaskRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    TaskRef
		id      int64
		wantErr bool
	}{
		{`{"task_id":12}`, "12", 12, false},
		{`{"task_id":"12"}`, "12", 12, false},
		{`{"task_id":"hello"}`, "hello", 0, false},
		{`{"task_id":" 5b1c "}`, "5b1c", 0, false},
		{`{"task_id":null}`, "", 0, false},
		{`{"task_id":1.5}`, "", 0, true},
		{`{"task_id":-1}`, "", 0, true},
		{`{"task_id":true}`, "", 0, true},
	}
	for _, tt := range tests {
		var r CreateJobRequest
		err := json.Unmarshal([]byte(tt.in), &r)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v", tt.in, err)
			continue
		}
		if err != nil {
			continue
		}
		if r.TaskID != tt.want {
			t.Errorf("%s: got %q", tt.in, r.TaskID)
		}
		if id, ok := r.TaskID.ID(); id != tt.id || ok != (tt.id > 0) {
			t.Errorf("%s: ID() = %d, %v", tt.in, id, ok)
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	neg := -1
	empty := ""
	tests := []struct {
		name  string
		v     interface{ Validate() error }
		field string
	}{
		{"ok job", CreateJobRequest{TaskID: "x", Priority: "critical"}, ""},
		{"job without task", CreateJobRequest{}, "task_id"},
		{"job bad priority", CreateJobRequest{TaskID: "x", Priority: "asap"}, "priority"},
		{"job negative retries", CreateJobRequest{TaskID: "x", MaxRetries: &neg}, "max_retries"},
		{"job bad destination", CreateJobRequest{TaskID: "x", OutputDestinations: []OutputDestination{{Type: "ftp"}}}, "output_destinations[0].type"},
		{"ok task", CreateTaskRequest{Code: "x", Metadata: json.RawMessage(` {"a":1}`)}, ""},
		{"task without code", CreateTaskRequest{}, "code"},
		{"task metadata not object", CreateTaskRequest{Code: "x", Metadata: json.RawMessage(`[]`)}, "metadata"},
		{"task test not object", CreateTaskRequest{Code: "x", Tests: []json.RawMessage{json.RawMessage(`1`)}}, "tests[0]"},
		{"update removes schema", UpdateTaskRequest{InputSchema: json.RawMessage(`null`)}, ""},
		{"update empty code", UpdateTaskRequest{Code: &empty}, "code"},
		{"update bad schema", UpdateTaskRequest{OutputSchema: json.RawMessage(`"x"`)}, "output_schema"},
		{"ok schedule", CreateScheduleRequest{TaskID: "x", CronExpression: "@hourly"}, ""},
		{"schedule without cron", CreateScheduleRequest{TaskID: "x"}, "cron_expression"},
		{"schedule without task", CreateScheduleRequest{CronExpression: "@hourly"}, "task_id"},
		{"schedule update empty cron", UpdateScheduleRequest{CronExpression: &empty}, "cron_expression"},
		{"schedule update negative max", UpdateScheduleRequest{MaxExecutions: &neg}, "max_executions"},
		{"execute bad timeout", ExecuteRequest{TimeoutSeconds: &neg}, "timeout_seconds"},
		{"execute ok", ExecuteRequest{Priority: "LOW"}, ""},
	}
	for _, tt := range tests {
		err := tt.v.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Kind != core.KindInvalidArgument || ce.Details["field"] != tt.field {
			t.Errorf("%s: got %v (%+v), want an invalid argument on %s", tt.name, err, ce, tt.field)
		}
	}
	if p, err := (ExecuteRequest{}).ParsedPriority(); err != nil || p != core.PriorityNormal {
		t.Errorf("default priority %v %v", p, err)
	}
	if p, _ := (CreateJobRequest{Priority: "critical"}).ParsedPriority(); p != core.PriorityUrgent {
		t.Errorf("critical = %v", p)
	}
	if !(UpdateTaskRequest{Code: &empty}).ChangesContent() || (UpdateTaskRequest{Enabled: new(bool)}).ChangesContent() {
		t.Error("ChangesContent")
	}
}

func TestErrorEnvelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		err                error
		status             int
		typ, code, message string
	}{
		{"not found", fmt.Errorf("loading: %w", core.Errorf(core.KindNotFound, "job 5 not found")), 404, "NotFoundError", "NOT_FOUND", "job 5 not found"},
		{"sentinel", core.ErrConflict, 409, "ConflictError", "CONFLICT", "ConflictError"},
		{"invalid", core.NewError(core.KindInvalidArgument, "bad"), 400, "InvalidArgumentError", "INVALID_ARGUMENT", "bad"},
		{"input validation", core.NewError(core.KindInputValidation, "x"), 400, "InputValidationError", "INPUT_VALIDATION", "x"},
		{"output validation", core.NewError(core.KindOutputValidation, "x"), 422, "OutputValidationError", "OUTPUT_VALIDATION", "x"},
		{"rate", core.NewError(core.KindRateLimit, "slow down"), 429, "RateLimitError", "RATE_LIMIT", "slow down"},
		{"http teapot", &core.Error{Kind: core.KindHTTP, Status: 418, Message: "tea"}, 418, "HttpError", "HTTP", "tea"},
		{"service", core.NewError(core.KindServiceUnavailable, "x"), 503, "ServiceUnavailableError", "SERVICE_UNAVAILABLE", "x"},
		{"plain error hides text", errors.New("pq: relation jobs does not exist"), 500, "InternalError", "INTERNAL", "internal server error"},
		{"deadline", fmt.Errorf("q: %w", context.DeadlineExceeded), 504, "TimeoutError", "TIMEOUT", "the request timed out"},
		{"nil", nil, 500, "InternalError", "INTERNAL", "internal server error"},
		{"task error", ExecutionError(core.Execution{ID: 9, ErrorType: "TypeError", ErrorMessage: "boom"}), 500, "TypeError", "TASK_ERROR", "boom"},
	}
	for _, tt := range tests {
		env := NewErrorEnvelope(tt.err, "trace-1")
		if env.StatusCode != tt.status || env.Error.Type != tt.typ || env.Error.Code != tt.code ||
			env.Error.Message != tt.message || env.Message != tt.message || env.Error.TraceID != "trace-1" {
			t.Errorf("%s: got %+v", tt.name, env)
		}
		if env.Error.Details == nil || time.Since(env.Error.Timestamp) > time.Minute || env.Error.Timestamp.Location() != time.UTC {
			t.Errorf("%s: details %v timestamp %v", tt.name, env.Error.Details, env.Error.Timestamp)
		}
	}
	m := keysOf(t, NewErrorEnvelope(core.ErrNotFound, ""))
	if _, ok := m["statusCode"]; !ok {
		t.Error("no statusCode")
	}
	inner := m["error"].(map[string]any)
	for _, k := range []string{"type", "message", "code", "details", "trace_id", "timestamp"} {
		if _, ok := inner[k]; !ok {
			t.Errorf("error.%s missing", k)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range Kinds {
		if !k.Known() {
			t.Errorf("%s is not a core kind", k)
		}
		c := ErrorCode(k)
		if seen[c] || c == "" || strings.ToUpper(c) != c {
			t.Errorf("code %q of %s", c, k)
		}
		seen[c] = true
	}
	if ErrorCode(core.KindNotFound) != "NOT_FOUND" || ErrorCode(core.KindWorkerCrash) != "WORKER_CRASH" || ErrorCode("TypeError") != CodeTaskError {
		t.Error("codes")
	}
	if !slices.Contains(ErrorCodes(), CodeTaskError) {
		t.Error("ErrorCodes lacks TASK_ERROR")
	}
}

func TestErrorForStatus(t *testing.T) {
	t.Parallel()
	for status, kind := range map[int]core.ErrorKind{
		400: core.KindInvalidArgument, 401: core.KindUnauthorized, 403: core.KindAuthorization, 404: core.KindNotFound,
		409: core.KindConflict, 422: core.KindData, 429: core.KindRateLimit, 500: core.KindInternal, 502: core.KindNetwork,
		503: core.KindServiceUnavailable, 504: core.KindTimeout, 405: core.KindHTTP, 413: core.KindHTTP,
	} {
		e := ErrorForStatus(status, "")
		if e.Kind != kind || e.HTTPStatus() != status || e.Message != http.StatusText(status) {
			t.Errorf("%d: got %+v (status %d)", status, e, e.HTTPStatus())
		}
	}
}

func TestExecutionError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ     string
		details string
		status  int
	}{
		{"ValidationError", "", 400}, {"InputValidationError", "", 400}, {"AuthenticationError", "", 401},
		{"AuthorizationError", "", 403}, {"NotFoundError", "", 404}, {"DataError", "", 422},
		{"OutputValidationError", "", 422}, {"RateLimitError", "", 429}, {"NetworkError", "", 502},
		{"ServiceUnavailableError", "", 503}, {"TimeoutError", "", 504}, {"HttpError", `{"status":418}`, 418},
		{"HttpError", "", 500}, {"TypeError", "", 500}, {"CompileError", "", 500}, {"", "", 500},
	}
	for _, tt := range tests {
		e := ExecutionError(core.Execution{ID: 4, UUID: "u4", Status: core.ExecutionFailed, ErrorType: tt.typ,
			ErrorMessage: "m", ErrorDetails: json.RawMessage(tt.details)})
		env := NewErrorEnvelope(e, "")
		if env.StatusCode != tt.status || env.Error.Details["execution_id"] != int64(4) {
			t.Errorf("%s: status %d details %v, want %d", tt.typ, env.StatusCode, env.Error.Details, tt.status)
		}
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	s := NewJobStats([]JobCount{
		{core.JobQueued, core.PriorityHigh, 2}, {core.JobRetrying, core.PriorityLow, 1},
		{core.JobProcessing, core.PriorityHigh, 3}, {core.JobCompleted, core.PriorityNormal, 10},
	})
	if s.Total != 16 || s.QueueDepth != 3 || s.Active != 6 || s.ByStatus["completed"] != 10 || s.ByStatus["failed"] != 0 ||
		s.ByPriority["high"] != 5 || s.ByPriority["normal"] != 0 || len(s.ByStatus) != len(core.JobStatuses) {
		t.Errorf("job stats %+v", s)
	}
	w := NewWorkerStats([]core.Worker{
		{Node: "a", Status: core.WorkerBusy, ExecutionsTotal: 5, Restarts: 1, MemoryBytes: 10},
		{Node: "b", Status: core.WorkerIdle, FailuresTotal: 2, MemoryBytes: 5},
	})
	if w.Total != 2 || w.Busy != 1 || w.Idle != 1 || w.Nodes != 2 || w.ExecutionsTotal != 5 || w.FailuresTotal != 2 ||
		w.RestartsTotal != 1 || w.MemoryBytesTotal != 15 || w.ByStatus["crashed"] != 0 {
		t.Errorf("worker stats %+v", w)
	}
	if WorstHealth(map[string]HealthCheck{"a": {Status: "ok"}, "b": {Status: "degraded"}}) != HealthDegraded ||
		WorstHealth(map[string]HealthCheck{"a": {Status: "unhealthy"}, "b": {Status: "degraded"}}) != HealthUnhealthy ||
		WorstHealth(nil) != HealthOK {
		t.Error("WorstHealth")
	}
	r := NewValidationReport("t", []ValidationProblem{{Severity: "warning"}, {Severity: "error"}}, nil)
	if r.Valid || r.Errors != 1 || r.Warnings != 1 {
		t.Errorf("report %+v", r)
	}
	if r := NewValidationReport("t", nil, nil); !r.Valid || r.Problems == nil {
		t.Errorf("empty report %+v", r)
	}
}
