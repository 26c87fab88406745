package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func loadDoc(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		t.Fatalf("loading the document: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3: %v", err)
	}
	return doc
}

func TestOpenAPIValidates(t *testing.T) {
	t.Parallel()
	fromJSON := loadDoc(t, OpenAPIJSON())
	fromYAML := loadDoc(t, OpenAPIYAML())
	a, err := json.Marshal(fromJSON)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("the YAML document does not read back as the JSON one")
	}
	if fromJSON.OpenAPI != "3.0.3" {
		t.Errorf("openapi %q", fromJSON.OpenAPI)
	}
}

func TestRoutesAreDocumented(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t, OpenAPIJSON())
	ids := map[string]bool{}
	seen := map[string]bool{}
	for _, r := range Routes() {
		if ids[r.OperationID] {
			t.Errorf("operation id %s used twice", r.OperationID)
		}
		ids[r.OperationID] = true
		item := doc.Paths.Find(r.Path)
		if item == nil {
			t.Errorf("%s %s is not in the document", r.Method, r.Path)
			continue
		}
		op := item.GetOperation(r.Method)
		if op == nil || op.OperationID != r.OperationID {
			t.Errorf("%s %s: operation %+v, want id %s", r.Method, r.Path, op, r.OperationID)
			continue
		}
		seen[r.Method+" "+r.Path] = true
		if op.Responses.Value(strconv.Itoa(r.Status)) == nil {
			t.Errorf("%s: no %d response", r.OperationID, r.Status)
		}
		if strings.HasPrefix(r.Path, V1Prefix) && r.Tag != tagMeta && op.Responses.Value("401") == nil {
			t.Errorf("%s: 401 is not documented", r.OperationID)
		}
		if r.List != nil {
			resp := op.Responses.Value("200").Value
			for _, h := range []string{"X-Total-Count", "Content-Range"} {
				if resp.Headers[h] == nil {
					t.Errorf("%s: list without the %s header", r.OperationID, h)
				}
			}
		}
		for _, p := range strings.Split(r.Path, "/") {
			if strings.HasPrefix(p, "{") && op.Parameters.GetByInAndName("path", strings.Trim(p, "{}")) == nil {
				t.Errorf("%s: path parameter %s is not documented", r.OperationID, p)
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !seen[method+" "+path] {
				t.Errorf("documented %s %s is not in Routes()", method, path)
			}
		}
	}
	for _, want := range []string{
		"GET /api/v1/tasks", "POST /api/v1/tasks", "GET /api/v1/tasks/{id}", "PATCH /api/v1/tasks/{id}",
		"DELETE /api/v1/tasks/{id}", "POST /api/v1/tasks/{id}/execute", "POST /api/v1/tasks/{id}/test",
		"POST /api/v1/tasks/{id}/validate", "GET /api/v1/jobs", "POST /api/v1/jobs", "GET /api/v1/jobs/{id}",
		"POST /api/v1/jobs/{id}/cancel", "POST /api/v1/jobs/{id}/retry", "GET /api/v1/jobs/stats",
		"GET /api/v1/executions", "GET /api/v1/executions/{id}", "GET /api/v1/executions/{id}/logs",
		"GET /api/v1/schedules", "POST /api/v1/schedules", "GET /api/v1/schedules/{id}",
		"PATCH /api/v1/schedules/{id}", "DELETE /api/v1/schedules/{id}", "POST /api/v1/schedules/{id}/enable",
		"POST /api/v1/schedules/{id}/disable", "POST /api/v1/schedules/{id}/trigger", "GET /api/v1/workers",
		"GET /api/v1/workers/stats", "GET /api/v1/deliveries", "GET /health", "GET /health/detailed",
		"GET /ready", "GET /version", "GET /metrics", "GET /api/v1/openapi.json",
	} {
		if !seen[want] {
			t.Errorf("SPEC route %s is missing", want)
		}
	}
}

func TestColonPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/api/v1/tasks/{id}/execute": "/api/v1/tasks/:id/execute",
		"/health":                    "/health",
		"/":                          "/",
	} {
		if got := (Route{Path: path}).ColonPath(); got != want {
			t.Errorf("ColonPath(%s) = %s, want %s", path, got, want)
		}
	}
	if r, ok := RouteByOperation("executeTask"); !ok || r.Method != http.MethodPost {
		t.Errorf("RouteByOperation(executeTask) = %+v, %v", r, ok)
	}
}

func TestOpenAPIGolden(t *testing.T) {
	t.Parallel()
	for name, got := range map[string][]byte{"openapi.json": OpenAPIJSON(), "openapi.yaml": OpenAPIYAML()} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the document: run `go test -run TestOpenAPIGolden -update` and review the diff", path)
		}
	}
}

// TestWireTypesMatchSchemas validates real API values against the
// document's schemas, so the document describes what the server sends.
func TestWireTypesMatchSchemas(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t, OpenAPIJSON())
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
	id := int64(7)
	status := 200
	maxExec := 10
	task := core.Task{ID: 1, UUID: "u", Name: "hello", Version: "1.0.0", Enabled: true,
		InputSchema: json.RawMessage(`{"type":"object"}`), CreatedAt: now, UpdatedAt: now, Timeout: 30 * time.Second}
	job := core.Job{ID: 2, UUID: "j", TaskID: 1, Status: core.JobFailed, Priority: core.PriorityHigh,
		Input: json.RawMessage(`{"a":1}`), ErrorType: "TypeError", ProcessAt: now, ExecutionID: &id, CreatedAt: now,
		StartedAt: &now, OutputDestinations: []core.OutputDestination{{Type: "webhook", Config: map[string]any{"url": "http://x"}}}}
	exec := core.Execution{ID: 7, UUID: "e", TaskID: 1, JobID: &job.ID, Status: core.ExecutionCompleted,
		Input: json.RawMessage(`null`), Output: json.RawMessage(`[1,2]`), Attempt: 1, QueuedAt: now,
		Logs:         []core.LogEntry{{Time: now, Level: "info", Message: "hi"}},
		HTTPRequests: []core.HTTPRequestLog{{Method: "GET", URL: "http://x", Status: 200, StartedAt: now}}}
	sched := core.Schedule{ID: 3, UUID: "s", TaskID: 1, Name: "n", CronExpression: "@hourly", Timezone: "UTC",
		Enabled: true, MaxExecutions: &maxExec, NextRunAt: &now, CreatedAt: now, UpdatedAt: now}
	worker := core.Worker{ID: "w1", Node: "a", PID: 3, Status: core.WorkerBusy, CurrentExecutionID: &id, StartedAt: now}
	delivery := core.DeliveryResult{ID: 4, JobID: 2, ExecutionID: 7, DestinationType: "webhook", Success: true,
		StatusCode: &status, CreatedAt: now}
	yes := true
	values := map[string]any{
		"Task":           apitypes.FromTask(task),
		"Job":            apitypes.FromJob(job),
		"Execution":      apitypes.FromExecution(exec),
		"ExecutionLogs":  apitypes.FromExecutionLogs(exec),
		"Schedule":       apitypes.FromSchedule(sched),
		"Worker":         apitypes.FromWorker(worker),
		"Delivery":       apitypes.FromDelivery(delivery),
		"JobStats":       apitypes.NewJobStats([]apitypes.JobCount{{Status: core.JobQueued, Priority: core.PriorityLow, Count: 3}}),
		"WorkerStats":    apitypes.NewWorkerStats([]core.Worker{worker}),
		"ErrorEnvelope":  apitypes.NewErrorEnvelope(core.ErrNotFound, "req-1"),
		"Health":         apitypes.Health{Status: "ok", Time: now},
		"Version":        apitypes.Version{Version: "v1.0.0", APIVersion: "v1"},
		"HealthDetailed": apitypes.HealthDetailed{Status: "degraded", Checks: map[string]apitypes.HealthCheck{"database": {Status: "ok"}}},
		"Readiness":      apitypes.Readiness{Ready: true, Status: "ready", Checks: map[string]apitypes.HealthCheck{}},
		"ValidationReport": apitypes.NewValidationReport("hello",
			[]apitypes.ValidationProblem{{File: "main.js", Severity: "error", Message: "x"}}, &yes),
		"TaskTestReport": apitypes.TaskTestReport{Task: "hello", Tests: []apitypes.TaskTestResult{
			{File: "tests/a.json", Diff: []string{}, Logs: []apitypes.LogEntry{}, HTTP: []apitypes.HTTPRequest{},
				Error: &apitypes.TaskError{Type: "TypeError", Message: "x"}},
		}},
		"CreateJobRequest":      apitypes.CreateJobRequest{TaskID: "hello", Priority: "critical", MaxRetries: &maxExec},
		"CreateScheduleRequest": apitypes.CreateScheduleRequest{TaskID: apitypes.TaskRefID(5), CronExpression: "* * * * *"},
		"CreateTaskRequest":     apitypes.CreateTaskRequest{Code: "function(i){return i}", Tests: []json.RawMessage{json.RawMessage(`{"input":1}`)}},
		"ExecuteRequest":        apitypes.ExecuteRequest{Input: json.RawMessage(`{"x":1}`), Async: true},
	}
	for name, v := range values {
		ref := doc.Components.Schemas[name]
		if ref == nil {
			t.Errorf("no component schema %s", name)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var decoded any
		if err := json.Unmarshal(b, &decoded); err != nil {
			t.Fatal(err)
		}
		if err := ref.Value.VisitJSON(decoded); err != nil {
			t.Errorf("%s %s does not match its schema: %v", name, b, err)
		}
	}
}

func TestCompareRoutes(t *testing.T) {
	t.Parallel()
	var served []ServedRoute
	for _, r := range Routes() {
		served = append(served, ServedRoute{Method: r.Method, Path: r.ColonPath()})
	}
	served = append(served,
		ServedRoute{"GET", "/debug/pprof/*"}, ServedRoute{"POST", "/graphql"}, ServedRoute{"GET", "/debug/config"},
		ServedRoute{"OPTIONS", "/api/v1/tasks"}, ServedRoute{"echo_route_not_found", "/api/v1/*"},
		ServedRoute{"GET", "/api/v1/jobs/{id}"}, // {param} form is accepted too
	)
	if u, m := CompareRoutes(served); len(u) != 0 || len(m) != 0 {
		t.Fatalf("undocumented %v, missing %v", u, m)
	}
	served = append(served[:1], ServedRoute{"GET", "/api/v1/secret"})
	u, m := CompareRoutes(served)
	if len(u) != 1 || u[0] != "GET /api/v1/secret" || len(m) != len(Routes())-1 {
		t.Errorf("undocumented %v, missing %d", u, len(m))
	}
}
