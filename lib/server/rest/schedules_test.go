package rest_test

import (
	"fmt"
	"testing"
)

// TestSchedulesOfDisabledTask: a disabled task cannot be scheduled, as it
// cannot be queued (409): creating a schedule for it, pointing a schedule
// at it, enabling or triggering a schedule of it.
func TestSchedulesOfDisabledTask(t *testing.T) {
	e := newEnv(t)
	e.storeTask("off", map[string]any{"code": "(function(input){ return {}; })"})
	r := e.do("POST", "/api/v1/schedules", map[string]any{"task_id": "off", "cron_expression": "@hourly", "enabled": false})
	expect(t, r, 201, "creating a schedule")
	var sched struct {
		ID int64 `json:"id"`
	}
	r.decode(t, &sched)
	expect(t, e.do("PATCH", "/api/v1/tasks/off", map[string]any{"enabled": false}), 200, "disabling the task")

	conflict := map[string]any{"task_id": "*"}
	checkEnvelope(t, e.do("POST", "/api/v1/jobs", map[string]any{"task_id": "off"}), 409, "ConflictError", conflict)
	checkEnvelope(t, e.do("POST", "/api/v1/schedules", map[string]any{"task_id": "off", "cron_expression": "@hourly"}), 409, "ConflictError", conflict)
	r = e.do("POST", "/api/v1/schedules", map[string]any{"task_id": "addition", "cron_expression": "@hourly"})
	expect(t, r, 201, "creating another schedule")
	var other struct {
		ID int64 `json:"id"`
	}
	r.decode(t, &other)
	checkEnvelope(t, e.do("PATCH", fmt.Sprintf("/api/v1/schedules/%d", other.ID), map[string]any{"task_id": "off"}), 409, "ConflictError", conflict)
	checkEnvelope(t, e.do("POST", fmt.Sprintf("/api/v1/schedules/%d/enable", sched.ID), nil), 409, "ConflictError", conflict)
	checkEnvelope(t, e.do("POST", fmt.Sprintf("/api/v1/schedules/%d/trigger", sched.ID), nil), 409, "ConflictError", conflict)
	// Other changes to the schedule still work.
	expect(t, e.do("PATCH", fmt.Sprintf("/api/v1/schedules/%d", sched.ID), map[string]any{"name": "renamed"}), 200, "renaming the schedule")
	expect(t, e.do("POST", fmt.Sprintf("/api/v1/schedules/%d/disable", sched.ID), nil), 200, "disabling the schedule")

	expect(t, e.do("PATCH", "/api/v1/tasks/off", map[string]any{"enabled": true}), 200, "enabling the task")
	expect(t, e.do("POST", fmt.Sprintf("/api/v1/schedules/%d/enable", sched.ID), nil), 200, "enabling the schedule")
	expect(t, e.do("POST", fmt.Sprintf("/api/v1/schedules/%d/trigger", sched.ID), nil), 202, "triggering the schedule")
}
