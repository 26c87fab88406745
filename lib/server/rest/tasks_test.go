package rest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/core"
)

// TestAsyncExecute: async:true answers 202 with the job and its Location;
// the job completes and its execution is readable.
func TestAsyncExecute(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.do(http.MethodPost, "/api/v1/tasks/addition/execute", map[string]any{"input": map[string]any{"num1": 20, "num2": 22}, "async": true, "priority": "high"})
	expect(t, r, http.StatusAccepted, "async execute")
	var job apitypes.Job
	r.decode(t, &job)
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/jobs/%d", job.ID) {
		t.Errorf("Location %q for job %d", loc, job.ID)
	}
	if job.Status != core.JobQueued || job.TaskName != "addition" || job.Priority != core.PriorityHigh {
		t.Errorf("job %+v", job)
	}
	// Follow the Location.
	done := e.waitJob(job.ID)
	if done.Status != core.JobCompleted || string(done.Output) != `{"sum":42}` || done.ExecutionID == nil {
		t.Fatalf("job ended %s with %s (%s: %s)", done.Status, done.Output, done.ErrorType, done.ErrorMessage)
	}
	exec, err := e.client.GetExecution(ctx, *done.ExecutionID)
	if err != nil {
		t.Fatal(err)
	}
	if exec.JobID == nil || *exec.JobID != job.ID || exec.Status != core.ExecutionCompleted || string(exec.Output) != `{"sum":42}` || exec.Attempt != 1 {
		t.Errorf("execution %+v", exec)
	}
	logs, err := e.client.ExecutionLogs(ctx, exec.ID)
	if err != nil || len(logs.Logs) != 1 || !strings.Contains(logs.Logs[0].Message, "adding 20 and 22") {
		t.Errorf("logs %+v, %v", logs, err)
	}
	// The execution is listed under its job.
	list, total, err := e.client.ListExecutions(ctx, clientFilter("job_id", fmt.Sprint(job.ID)))
	if err != nil || total != 1 || list[0].ID != exec.ID {
		t.Errorf("executions of job %d: %v %d %v", job.ID, list, total, err)
	}

	// The client's async execute.
	j2, err := e.client.ExecuteTaskAsync(ctx, "async-pipeline", apitypes.ExecuteRequest{Input: []byte(`{"words":[" B","a","b"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	done = e.waitJob(j2.ID)
	if done.Status != core.JobCompleted || string(done.Output) != `{"words":["b","a"],"count":2}` {
		t.Errorf("async-pipeline job: %s %s %s", done.Status, done.Output, done.ErrorMessage)
	}

	// A synchronous execute with output destinations runs as a job, waits
	// for it, answers the execution, and the delivery is recorded.
	out := filepath.Join(t.TempDir(), "sum.json")
	execSync, err := e.client.ExecuteTask(ctx, "addition", apitypes.ExecuteRequest{
		Input:              []byte(`{"num1":1,"num2":1}`),
		OutputDestinations: []apitypes.OutputDestination{{Type: "filesystem", Config: map[string]any{"path": out}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(execSync.Output) != `{"sum":2}` || execSync.JobID == nil {
		t.Fatalf("sync execute with destinations: %+v", execSync)
	}
	e.waitDeliveries(*execSync.JobID)
	ds, total, err := e.client.ListDeliveries(ctx, clientFilter("job_id", fmt.Sprint(*execSync.JobID)))
	if err != nil || total != 1 || !ds[0].Success || ds[0].Destination != out {
		t.Errorf("deliveries: %+v %d %v", ds, total, err)
	}
	if b, err := os.ReadFile(out); err != nil || !bytes.Contains(b, []byte(`"sum"`)) {
		t.Errorf("delivered file: %s %v", b, err)
	}
}

// TestIdempotentJob: a repeated idempotency_key answers 200 with the
// first job and queues nothing.
func TestIdempotentJob(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"task_id": "addition", "input": map[string]any{"num1": 1, "num2": 2}, "idempotency_key": "once"}
	r1 := e.do(http.MethodPost, "/api/v1/jobs", body)
	expect(t, r1, http.StatusCreated, "first")
	r2 := e.do(http.MethodPost, "/api/v1/jobs", body)
	expect(t, r2, http.StatusOK, "repeat")
	var j1, j2 apitypes.Job
	r1.decode(t, &j1)
	r2.decode(t, &j2)
	if j1.ID != j2.ID || r2.Header.Get("Location") != r1.Header.Get("Location") {
		t.Errorf("repeat gave job %d (%s), first %d (%s)", j2.ID, r2.Header.Get("Location"), j1.ID, r1.Header.Get("Location"))
	}
	r := e.do(http.MethodGet, "/api/v1/jobs?idempotency_key=once", nil)
	if r.Header.Get("X-Total-Count") != "1" {
		t.Errorf("%s jobs with the key", r.Header.Get("X-Total-Count"))
	}
}

// TestTaskUpload: tasks created as JSON, as a zip and as multipart, then
// changed and deleted.
func TestTaskUpload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	greeter := map[string]any{
		"metadata":     map[string]any{"name": "greeter", "label": "Greeter", "description": "Says hello.", "owner": "team-a"},
		"code":         "(function (input) { return {greeting: 'Hello, ' + input.name + '!'}; })",
		"input_schema": map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}, "required": []string{"name"}},
		"tests": []any{
			map[string]any{"file": "ada.json", "input": map[string]any{"name": "Ada"}, "expected_output": map[string]any{"greeting": "Hello, Ada!"}},
			map[string]any{"input": map[string]any{}, "expected_error": "InputValidationError"},
		},
	}
	r := e.do(http.MethodPost, "/api/v1/tasks", greeter)
	if r.Status == http.StatusServiceUnavailable {
		t.Skipf("the app has no registry to upload through yet: %s", r.Body)
	}
	expect(t, r, http.StatusCreated, "create JSON")
	var task apitypes.Task
	r.decode(t, &task)
	if r.Header.Get("Location") != fmt.Sprintf("/api/v1/tasks/%d", task.ID) {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	if task.Name != "greeter" || task.Label != "Greeter" || task.Source != "api" || !task.Enabled || len(task.InputSchema) == 0 {
		t.Errorf("created %+v", task)
	}
	if !strings.Contains(string(task.Metadata), `"owner":"team-a"`) {
		t.Errorf("unknown metadata fields are kept: %s", task.Metadata)
	}
	// A second task of the same name is a conflict.
	r = e.do(http.MethodPost, "/api/v1/tasks", greeter)
	checkEnvelope(t, r, http.StatusConflict, "ConflictError", nil)

	// Its tests run, named as given.
	rep, err := e.client.TestTask(ctx, "greeter", apitypes.TestTaskRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Passed != 2 || rep.Tests[0].File != "tests/002.json" || rep.Tests[1].File != "tests/ada.json" {
		t.Errorf("test report %+v", rep)
	}
	exec, err := e.client.ExecuteTask(ctx, "greeter", apitypes.ExecuteRequest{Input: []byte(`{"name":"Bob"}`)})
	if err != nil || string(exec.Output) != `{"greeting":"Hello, Bob!"}` {
		t.Fatalf("execute: %+v %v", exec, err)
	}

	// PATCH the code: a new version, run at once.
	checksum := task.Checksum
	r = e.do(http.MethodPatch, "/api/v1/tasks/greeter", map[string]any{"code": "(function (input) { return {greeting: 'Hi, ' + input.name}; })", "label": "Hi"})
	expect(t, r, http.StatusOK, "patch code")
	r.decode(t, &task)
	if task.Checksum == checksum || task.Label != "Hi" || len(task.InputSchema) == 0 {
		t.Errorf("patched %+v", task)
	}
	exec, err = e.client.ExecuteTask(ctx, "greeter", apitypes.ExecuteRequest{Input: []byte(`{"name":"Bob"}`)})
	if err != nil || string(exec.Output) != `{"greeting":"Hi, Bob"}` {
		t.Fatalf("execute after patch: %+v %v", exec, err)
	}
	// The stored tests now fail; replacing them makes them pass.
	rep, err = e.client.TestTask(ctx, "greeter", apitypes.TestTaskRequest{})
	if err != nil || rep.OK || rep.Failed != 1 {
		t.Errorf("tests after the code changed: %+v %v", rep, err)
	}
	r = e.do(http.MethodPatch, "/api/v1/tasks/greeter", map[string]any{"tests": []any{map[string]any{"input": map[string]any{"name": "Ada"}, "expected_output": map[string]any{"greeting": "Hi, Ada"}}}})
	expect(t, r, http.StatusOK, "patch tests")
	rep, err = e.client.TestTask(ctx, "greeter", apitypes.TestTaskRequest{})
	if err != nil || !rep.OK || rep.Passed != 1 {
		t.Errorf("tests after replacing them: %+v %v", rep, err)
	}
	// A schema set to null is removed.
	r = e.do(http.MethodPatch, "/api/v1/tasks/greeter", map[string]any{"input_schema": nil})
	expect(t, r, http.StatusOK, "remove the schema")
	r.decode(t, &task)
	if task.InputSchema != nil && string(task.InputSchema) != "null" {
		t.Errorf("input schema after removal: %s", task.InputSchema)
	}
	// Disabled tasks do not run.
	r = e.do(http.MethodPatch, "/api/v1/tasks/greeter", map[string]any{"enabled": false})
	expect(t, r, http.StatusOK, "disable")
	r = e.do(http.MethodPost, "/api/v1/tasks/greeter/execute", map[string]any{"input": map[string]any{"name": "x"}})
	checkEnvelope(t, r, http.StatusConflict, "ConflictError", nil)

	// A zip of a folder, named by ?name=.
	zipped := zipOf(t, map[string]string{
		"main.js":                "module.exports = function (input) { return {n: input.n * 2}; };",
		"input.schema.json":      `{"type":"object","properties":{"n":{"type":"number"}},"required":["n"]}`,
		"tests/double.json":      `{"input":{"n":2},"expected_output":{"n":4}}`,
		"README.md":              "ignored",
		"metadata.json":          `{"label":"Doubler","version":"2.0.0"}`,
		"output.schema.json":     `{"type":"object"}`,
		"tests/zz-negative.json": `{"input":{"n":-1},"expected_output":{"n":-2}}`,
	}, "doubler/")
	up, err := e.client.UploadTaskZip(ctx, "doubler", bytes.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "doubler" || up.Label != "Doubler" || up.Version != "2.0.0" {
		t.Errorf("zip upload: %+v", up)
	}
	if rep, err := e.client.TestTask(ctx, "doubler", apitypes.TestTaskRequest{}); err != nil || !rep.OK || rep.Passed != 2 {
		t.Errorf("doubler tests: %+v %v", rep, err)
	}

	// Multipart: the zip as a file part, named by its file name.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "tripler.zip")
	_, _ = fw.Write(zipOf(t, map[string]string{"main.js": "(function (input) { return {n: input.n * 3}; })"}, ""))
	_ = mw.Close()
	r = e.do(http.MethodPost, "/api/v1/tasks", body.Bytes(), "Content-Type", mw.FormDataContentType())
	expect(t, r, http.StatusCreated, "multipart zip")
	r.decode(t, &task)
	if task.Name != "tripler" {
		t.Errorf("multipart task named %q", task.Name)
	}
	// Multipart: one part per file, named by path.
	body.Reset()
	mw = multipart.NewWriter(&body)
	_ = mw.WriteField("name", "halver")
	fw, _ = mw.CreateFormFile("main.js", "main.js")
	_, _ = io.WriteString(fw, "(function (input) { return {n: input.n / 2}; })")
	fw, _ = mw.CreateFormFile("tests/half.json", "half.json")
	_, _ = io.WriteString(fw, `{"input":{"n":3},"expected_output":{"n":1.5}}`)
	_ = mw.Close()
	r = e.do(http.MethodPost, "/api/v1/tasks", body.Bytes(), "Content-Type", mw.FormDataContentType())
	expect(t, r, http.StatusCreated, "multipart files")
	if rep, err := e.client.TestTask(ctx, "halver", apitypes.TestTaskRequest{}); err != nil || !rep.OK || rep.Passed != 1 {
		t.Errorf("halver tests: %+v %v", rep, err)
	}
	// An uploaded task that does not compile is refused with the problem.
	r = e.do(http.MethodPost, "/api/v1/tasks", map[string]any{"name": "broken", "code": "(function ( {"})
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
		t.Errorf("broken task: %d %s", r.Status, r.Body)
	}

	// Created disabled.
	r = e.do(http.MethodPost, "/api/v1/tasks", map[string]any{"name": "dormant", "code": "(function () { return 1; })", "enabled": false})
	expect(t, r, http.StatusCreated, "create disabled")
	r.decode(t, &task)
	if task.Enabled {
		t.Errorf("created enabled despite enabled:false")
	}
	// Tests given in the request run instead of the stored ones, named by
	// their file (else numbered), in file order.
	r = e.do(http.MethodPost, "/api/v1/tasks/halver/test", map[string]any{"tests": []any{
		map[string]any{"input": map[string]any{"n": 1}, "expected_output": map[string]any{"n": 0.5}},
		map[string]any{"file": "wrong", "input": map[string]any{"n": 4}, "expected_output": map[string]any{"n": 3}},
	}})
	expect(t, r, http.StatusOK, "given tests")
	var given apitypes.TaskTestReport
	r.decode(t, &given)
	if len(given.Tests) != 2 || given.Tests[0].File != "tests/001.json" || !given.Tests[0].Passed ||
		given.Tests[1].File != "tests/wrong.json" || given.Tests[1].Passed || given.Passed != 1 || given.Failed != 1 {
		t.Errorf("given tests: %s", r.Body)
	}
	// Two tests of one name are a 400.
	r = e.do(http.MethodPost, "/api/v1/tasks/halver/test", map[string]any{"tests": []any{
		map[string]any{"file": "a.json", "input": map[string]any{}}, map[string]any{"file": "a", "input": map[string]any{}},
	}})
	checkEnvelope(t, r, http.StatusBadRequest, "InvalidArgumentError", map[string]any{"field": "tests[1].file"})

	// Delete: 204, then 404.
	for _, name := range []string{"greeter", "doubler", "tripler", "halver", "dormant"} {
		if err := e.client.DeleteTask(ctx, name); err != nil {
			t.Errorf("DeleteTask(%s): %v", name, err)
		}
		if _, err := e.client.GetTask(ctx, name); err == nil {
			t.Errorf("%s still there", name)
		}
	}
}

// TestValidateTask: the report of a stored task, with and without input.
func TestValidateTask(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rep, err := e.client.ValidateTask(ctx, "order-validation", apitypes.ValidateTaskRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || rep.Errors != 0 || rep.InputValid != nil || rep.Task != "order-validation" {
		t.Errorf("report %+v", rep)
	}
	rep, err = e.client.ValidateTask(ctx, "order-validation", apitypes.ValidateTaskRequest{Input: []byte(`{"items":[{"sku":"sku-1","quantity":1}]}`)})
	if err != nil || rep.InputValid == nil || !*rep.InputValid || !rep.Valid {
		t.Errorf("valid input: %+v %v", rep, err)
	}
	rep, err = e.client.ValidateTask(ctx, "order-validation", apitypes.ValidateTaskRequest{Input: []byte(`{"items":"none"}`)})
	if err != nil || rep.InputValid == nil || *rep.InputValid || rep.Valid || len(rep.Problems) == 0 || rep.Problems[0].File != "input" {
		t.Errorf("invalid input: %+v %v", rep, err)
	}
	// Without a body at all.
	r := e.do(http.MethodPost, "/api/v1/tasks/addition/validate", nil)
	expect(t, r, http.StatusOK, "validate without a body")
}

func clientFilter(field, value string) (o client.ListOptions) {
	o.Filters = map[string][]string{field: {value}}
	return o
}

// zipOf zips files under prefix (a folder name with its slash, or "").
func zipOf(t *testing.T, files map[string]string, prefix string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, err := zw.Create(prefix + name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
