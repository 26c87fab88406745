package rest_test

import (
	"fmt"
	"testing"
)

// TestNULReferences: a reference no row can hold (a NUL byte) is a 400
// naming the parameter, wherever ids and task refs are resolved, never a
// database error.
func TestNULReferences(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/schedules", map[string]any{"task_id": "addition", "cron_expression": "@hourly"})
	expect(t, r, 201, "creating a schedule")
	var sched struct {
		ID int64 `json:"id"`
	}
	r.decode(t, &sched)
	id := map[string]any{"parameter": "id"}
	taskID := map[string]any{"parameter": "task_id"}
	cases := []struct {
		name         string
		method, path string
		body         any
		details      map[string]any
	}{
		{"job", "GET", "/api/v1/jobs/%00", nil, id},
		{"job cancel", "POST", "/api/v1/jobs/a%00b/cancel", nil, id},
		{"task", "GET", "/api/v1/tasks/%00", nil, id},
		{"task execute", "POST", "/api/v1/tasks/%00/execute", map[string]any{"input": map[string]any{}}, id},
		{"execution", "GET", "/api/v1/executions/%00", nil, id},
		{"execution logs", "GET", "/api/v1/executions/%00/logs", nil, id},
		{"schedule", "GET", "/api/v1/schedules/%00", nil, id},
		{"worker", "GET", "/api/v1/workers/%00", nil, id},
		{"job task_id", "POST", "/api/v1/jobs", map[string]any{"task_id": "\u0000"}, taskID},
		{"schedule task_id", "POST", "/api/v1/schedules", map[string]any{"task_id": "\u0000", "cron_expression": "@hourly"}, taskID},
		{"schedule patch task_id", "PATCH", fmt.Sprintf("/api/v1/schedules/%d", sched.ID), map[string]any{"task_id": "x\u0000"}, taskID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkEnvelope(t, e.do(c.method, c.path, c.body), 400, "InvalidArgumentError", c.details)
		})
	}
}
