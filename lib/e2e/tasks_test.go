package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/service"
)

func TestTaskUploadTestValidateAndSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	folder := filepath.Join(dir, "tasks", "adder")
	if err := os.MkdirAll(filepath.Join(folder, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(folder, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.js", `function main(input) { return {sum: input.a + input.b}; }`)
	write("metadata.json", `{"name": "adder", "version": "1.0.0"}`)
	write("tests/basic.json", `{"input": {"a": 1, "b": 2}, "expected_output": {"sum": 3}}`)
	e := newEnv(t, "", func(c *config.Config, _ *app.Options) {
		c.Registry.Sources = []config.RegistrySource{{Name: "local", URI: "file://" + filepath.Join(dir, "tasks")}}
	})
	ctx := context.Background()

	// Loaded from registry.sources at start.
	adder, err := e.svc.Tasks().Get(ctx, "adder")
	if err != nil || !adder.Enabled {
		t.Fatalf("registry task: %+v %v", adder, err)
	}
	job := e.enqueue(service.CreateJob{TaskRef: "adder", Input: json.RawMessage(`{"a":2,"b":3}`)})
	if done := e.waitJob(job.ID, 10*time.Second, core.JobCompleted); string(done.Output) != `{"sum":5}` {
		t.Errorf("output = %s", done.Output)
	}

	// Uploaded through the service.
	up := service.TaskUpload{Name: "greeter", Files: map[string][]byte{
		"main.js":            []byte(`function main(input) { return {greeting: "hello " + input.name}; }`),
		"input.schema.json":  []byte(`{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}`),
		"tests/01-ok.json":   []byte(`{"input": {"name": "bob"}, "expected_output": {"greeting": "hello bob"}}`),
		"tests/02-bad.json":  []byte(`{"input": {}, "expected_error": "InputValidationError"}`),
		"tests/03-fail.json": []byte(`{"input": {"name": "x"}, "expected_output": {"greeting": "nope"}}`),
	}}
	task, err := e.svc.Tasks().Create(ctx, up)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	rep, err := e.svc.Tasks().Test(ctx, task.Name)
	if err != nil || len(rep.Tests) != 3 {
		t.Fatalf("test: %+v %v", rep, err)
	}
	if !rep.Tests[0].Passed || !rep.Tests[1].Passed || rep.Tests[2].Passed {
		t.Errorf("test results = %+v", rep.Tests)
	}
	vr, err := e.svc.Tasks().Validate(ctx, task.Name)
	if err != nil || !vr.OK() {
		t.Errorf("validate: %+v %v", vr, err)
	}
	bad, err := e.svc.Tasks().ValidateUpload(ctx, service.TaskUpload{Name: "broken", Files: map[string][]byte{"main.js": []byte(`function main( {`)}})
	if err != nil || bad.OK() {
		t.Errorf("validate broken upload: %+v %v", bad, err)
	}
	if _, err := e.svc.Tasks().Create(ctx, service.TaskUpload{Name: "broken", Files: map[string][]byte{"main.js": []byte(`function main( {`)}}); core.HTTPStatusOf(err) != 400 {
		t.Errorf("broken upload: err = %v (status %d), want 400", err, core.HTTPStatusOf(err))
	}

	// A new version runs new code.
	up.Files["main.js"] = []byte(`function main(input) { return {greeting: "hi " + input.name}; }`)
	if _, err := e.svc.Tasks().Update(ctx, task.Name, service.TaskPatch{Upload: &up}); err != nil {
		t.Fatalf("update: %v", err)
	}
	res, err := e.svc.Tasks().Execute(ctx, task.Name, service.ExecuteTask{Input: json.RawMessage(`{"name":"ann"}`)})
	if err != nil || string(res.Execution.Output) != `{"greeting":"hi ann"}` {
		t.Errorf("execute after update: %+v %v", res.Execution, err)
	}
	vs, err := e.svc.Tasks().Versions(ctx, task.Name)
	if err != nil || len(vs) != 2 {
		t.Errorf("versions = %d, %v", len(vs), err)
	}
	if err := e.svc.Tasks().Delete(ctx, task.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Tasks().Get(ctx, task.Name); core.KindOf(err) != core.KindNotFound {
		t.Errorf("deleted task: %v", err)
	}
}
