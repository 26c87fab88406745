package delivery_test

import (
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
)

func sampleJob() (*core.Job, *core.Execution) {
	done := time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("X", 3600))
	jobID := int64(42)
	job := &core.Job{ID: jobID, UUID: "job-uuid-1", TaskID: 3, TaskName: "from-job", Status: core.JobProcessing,
		Output: []byte(`{"from":"job"}`)}
	exec := &core.Execution{ID: 7, UUID: "exec-uuid-1", TaskID: 3, TaskName: "weather", TaskVersion: "1.2.0", JobID: &jobID,
		Status: core.ExecutionCompleted, Attempt: 2, Output: []byte(`{"temp":21.5}`), CompletedAt: &done}
	return job, exec
}

func TestVarsAndRender(t *testing.T) {
	t.Parallel()
	job, exec := sampleJob()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	v := delivery.NewVars(job, exec, "", now)
	want := map[string]string{
		"task_name": "weather", "task_id": "3", "task_version": "1.2.0", "job_id": "42", "job_uuid": "job-uuid-1",
		"execution_id": "7", "execution_uuid": "exec-uuid-1", "status": "completed", "attempt": "2",
		"timestamp": "20260203T030506Z", "date": "2026-02-03", "unix": "1770087906",
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %q, want %q", k, v[k], w)
		}
	}
	if len(v) != len(delivery.Variables) {
		t.Errorf("%d variables, want %d", len(v), len(delivery.Variables))
	}
	if got := delivery.NewVars(job, exec, "override", now)["task_name"]; got != "override" {
		t.Errorf("task_name = %q, want the given name", got)
	}
	// No job, no execution: times from now, ids empty.
	empty := delivery.NewVars(nil, nil, "t", now)
	if empty["job_id"] != "" || empty["date"] != "2030-01-01" || empty["task_name"] != "t" {
		t.Errorf("vars without job = %v", empty)
	}

	tests := []struct {
		name, tmpl, want string
		url              bool
		vars             delivery.Vars
	}{
		{"path", "/var/log/ratchet/{{task_name}}_{{job_uuid}}.json", "/var/log/ratchet/weather_job-uuid-1.json", false, v},
		{"path spaces in braces", "/d/{{ date }}/{{execution_id}}.json", "/d/2026-02-03/7.json", false, v},
		{"path value cannot climb", "/d/{{task_name}}/x", "/d/_/x", false, delivery.Vars{"task_name": ".."}},
		{"path value cannot add dirs", "/d/{{task_name}}.json", "/d/a_b_c.json", false, delivery.Vars{"task_name": `a/b\c`}},
		{"url escapes", "https://h/{{task_name}}?s={{status}}", "https://h/a%2Fb%20c%3F?s=x%26y%3Dz", true, delivery.Vars{"task_name": "a/b c?", "status": "x&y=z"}},
	}
	for _, tt := range tests {
		render := delivery.RenderPath
		if tt.url {
			render = delivery.RenderURL
		}
		if got := render(tt.tmpl, tt.vars); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://user:pw@h.example/p/q?token=abc#frag": "https://h.example/p/q",
		"http://h:8080/x":             "http://h:8080/x",
		"https://u:p@h/%zz?token=abc": "https://h/%zz",
	} {
		if got := delivery.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
