package service

import (
	"context"
	"encoding/json"

	"github.com/ratchet-go/ratchet/core"
)

// Executions are the execution operations.
type Executions struct{ s *Service }

// List returns one page of executions.
func (e *Executions) List(ctx context.Context, q core.ListQuery) (core.Page[core.Execution], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.Execution]{}, err
	}
	return e.s.d.Store.Executions().List(ctx, q)
}

// Get returns an execution by numeric id or uuid.
func (e *Executions) Get(ctx context.Context, ref string) (core.Execution, error) {
	id, isID, key, err := parseRef("execution", "id", ref)
	switch {
	case err != nil:
		return core.Execution{}, err
	case isID:
		return e.s.d.Store.Executions().Get(ctx, id)
	}
	return e.s.d.Store.Executions().GetByUUID(ctx, key)
}

// ExecutionLogs are an execution's console lines and HTTP requests
// (GET /executions/{id}/logs).
type ExecutionLogs struct {
	ExecutionID  int64                 `json:"execution_id"`
	Status       core.ExecutionStatus  `json:"status"`
	Logs         []core.LogEntry       `json:"logs"`
	HTTPRequests []core.HTTPRequestLog `json:"http_requests"`
}

// Logs returns an execution's logs.
func (e *Executions) Logs(ctx context.Context, ref string) (ExecutionLogs, error) {
	ex, err := e.Get(ctx, ref)
	if err != nil {
		return ExecutionLogs{}, err
	}
	out := ExecutionLogs{ExecutionID: ex.ID, Status: ex.Status, Logs: ex.Logs, HTTPRequests: ex.HTTPRequests}
	if out.Logs == nil {
		out.Logs = []core.LogEntry{}
	}
	if out.HTTPRequests == nil {
		out.HTTPRequests = []core.HTTPRequestLog{}
	}
	return out, nil
}

// Schedules are the schedule operations.
type Schedules struct{ s *Service }

// List returns one page of schedules.
func (sc *Schedules) List(ctx context.Context, q core.ListQuery) (core.Page[core.Schedule], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.Schedule]{}, err
	}
	return sc.s.d.Store.Schedules().List(ctx, q)
}

// Get returns a schedule by numeric id or uuid.
func (sc *Schedules) Get(ctx context.Context, ref string) (core.Schedule, error) {
	id, isID, key, err := parseRef("schedule", "id", ref)
	switch {
	case err != nil:
		return core.Schedule{}, err
	case isID:
		return sc.s.d.Store.Schedules().Get(ctx, id)
	}
	return sc.s.d.Store.Schedules().GetByUUID(ctx, key)
}

// ScheduleInput creates or changes a schedule; on update nil fields stay.
type ScheduleInput struct {
	// TaskRef names the task by id, uuid or name (required on create).
	TaskRef            *string
	Name               *string
	CronExpression     *string
	Timezone           *string
	Input              json.RawMessage
	Enabled            *bool
	MaxExecutions      **int
	OutputDestinations *[]core.OutputDestination
}

func (sc *Schedules) apply(ctx context.Context, cur *core.Schedule, in ScheduleInput) error {
	if in.TaskRef != nil {
		t, err := sc.s.tasks.resolveParam(ctx, "task_id", *in.TaskRef)
		if err != nil {
			return err
		}
		if err := taskDisabled(t); err != nil {
			return err
		}
		cur.TaskID = t.ID
		if cur.Name == "" && in.Name == nil {
			cur.Name = t.Name
		}
	}
	if in.Name != nil {
		cur.Name = *in.Name
	}
	if in.CronExpression != nil {
		cur.CronExpression = *in.CronExpression
	}
	if in.Timezone != nil {
		cur.Timezone = *in.Timezone
	}
	if in.Input != nil {
		input, err := sc.s.checkInput(in.Input)
		if err != nil {
			return err
		}
		cur.Input = input
	}
	if in.Enabled != nil {
		cur.Enabled = *in.Enabled
	}
	if in.MaxExecutions != nil {
		cur.MaxExecutions = *in.MaxExecutions
		if m := cur.MaxExecutions; m != nil && *m < 1 {
			return core.Errorf(core.KindInvalidArgument, "max_executions must be at least 1, got %d", *m).WithDetail("field", "max_executions")
		}
	}
	if in.OutputDestinations != nil {
		if err := sc.s.checkDestinations(*in.OutputDestinations); err != nil {
			return err
		}
		cur.OutputDestinations = *in.OutputDestinations
	}
	return nil
}

// Create validates and stores a schedule (enabled unless Enabled says
// otherwise).
func (sc *Schedules) Create(ctx context.Context, in ScheduleInput) (core.Schedule, error) {
	if sc.s.d.Scheduler == nil {
		return core.Schedule{}, unavailable("the scheduler")
	}
	if in.TaskRef == nil {
		return core.Schedule{}, core.Errorf(core.KindInvalidArgument, "a schedule needs a task_id (id, uuid or name)").WithDetail("field", "task_id")
	}
	if in.CronExpression == nil {
		return core.Schedule{}, core.Errorf(core.KindInvalidArgument, "a schedule needs a cron_expression").WithDetail("field", "cron_expression")
	}
	s := core.Schedule{Enabled: true, Input: json.RawMessage(`{}`)}
	if err := sc.apply(ctx, &s, in); err != nil {
		return core.Schedule{}, err
	}
	return sc.s.d.Scheduler.Create(ctx, s)
}

// Update applies changes to a schedule.
func (sc *Schedules) Update(ctx context.Context, id int64, in ScheduleInput) (core.Schedule, error) {
	if sc.s.d.Scheduler == nil {
		return core.Schedule{}, unavailable("the scheduler")
	}
	cur, err := sc.s.d.Store.Schedules().Get(ctx, id)
	if err != nil {
		return core.Schedule{}, err
	}
	if err := sc.apply(ctx, &cur, in); err != nil {
		return core.Schedule{}, err
	}
	return sc.s.d.Scheduler.Update(ctx, cur)
}

// Delete removes a schedule; jobs it queued stay.
func (sc *Schedules) Delete(ctx context.Context, id int64) error {
	if sc.s.d.Scheduler == nil {
		return sc.s.d.Store.Schedules().Delete(ctx, id)
	}
	return sc.s.d.Scheduler.Delete(ctx, id)
}

// Enable enables a schedule.
func (sc *Schedules) Enable(ctx context.Context, id int64) (core.Schedule, error) {
	if sc.s.d.Scheduler == nil {
		return core.Schedule{}, unavailable("the scheduler")
	}
	if _, err := sc.enabledTask(ctx, id); err != nil {
		return core.Schedule{}, err
	}
	return sc.s.d.Scheduler.Enable(ctx, id)
}

// enabledTask checks that schedule id's task is enabled: enabling or
// triggering a schedule of a disabled task is refused as queueing a job
// for it is (its ticks would be skipped).
func (sc *Schedules) enabledTask(ctx context.Context, id int64) (core.Schedule, error) {
	cur, err := sc.s.d.Store.Schedules().Get(ctx, id)
	if err != nil {
		return core.Schedule{}, err
	}
	t, err := sc.s.d.Store.Tasks().Get(ctx, cur.TaskID)
	if err != nil {
		return core.Schedule{}, err
	}
	return cur, taskDisabled(t)
}

// Disable disables a schedule.
func (sc *Schedules) Disable(ctx context.Context, id int64) (core.Schedule, error) {
	if sc.s.d.Scheduler == nil {
		return core.Schedule{}, unavailable("the scheduler")
	}
	return sc.s.d.Scheduler.Disable(ctx, id)
}

// Trigger queues one job for the schedule now.
func (sc *Schedules) Trigger(ctx context.Context, id int64) (core.Job, error) {
	if sc.s.d.Scheduler == nil {
		return core.Job{}, unavailable("the scheduler")
	}
	if _, err := sc.enabledTask(ctx, id); err != nil {
		return core.Job{}, err
	}
	if err := sc.s.queue.admit(ctx, 1); err != nil {
		return core.Job{}, err
	}
	job, err := sc.s.d.Scheduler.Trigger(ctx, id)
	if err != nil {
		sc.s.queue.release(1)
		return core.Job{}, err
	}
	sc.s.d.Dispatcher.WakeAt(job.ProcessAt)
	return job, nil
}

// Deliveries are the delivery-result operations.
type Deliveries struct{ s *Service }

// List returns one page of delivery attempts (filter job_id=...).
func (d *Deliveries) List(ctx context.Context, q core.ListQuery) (core.Page[core.DeliveryResult], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.DeliveryResult]{}, err
	}
	return d.s.d.Store.Deliveries().List(ctx, q)
}
