package apitypes

import (
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// FromTask converts a task for the API.
func FromTask(t core.Task) Task {
	return Task{
		ID: t.ID, UUID: t.UUID, Name: t.Name, Label: t.Label, Version: t.Version,
		Description: t.Description, Tags: nonNil(t.Tags), Author: t.Author, Enabled: t.Enabled,
		TimeoutSeconds: int(t.Timeout / time.Second),
		InputSchema:    rawOrNull(t.InputSchema), OutputSchema: rawOrNull(t.OutputSchema),
		Metadata: rawOrNull(t.Metadata), Source: t.Source, LoadError: t.LoadError, Checksum: t.Checksum,
		CreatedAt: utc(t.CreatedAt), UpdatedAt: utc(t.UpdatedAt),
	}
}

// FromJob converts a job for the API.
func FromJob(j core.Job) Job {
	return Job{
		ID: j.ID, UUID: j.UUID, TaskID: j.TaskID, TaskName: j.TaskName, Status: j.Status,
		Priority: j.Priority, Input: rawOrNull(j.Input), Output: rawOrNull(j.Output),
		ErrorType: j.ErrorType, ErrorMessage: j.ErrorMessage, Attempts: j.Attempts,
		MaxRetries: j.MaxRetries, RetryDelaySeconds: j.RetryDelaySeconds, TimeoutSeconds: j.TimeoutSeconds,
		ProcessAt: utc(j.ProcessAt), ScheduleID: j.ScheduleID, IdempotencyKey: j.IdempotencyKey,
		ExecutionID: j.ExecutionID, OutputDestinations: fromDestinations(j.OutputDestinations),
		Metadata:  nonNilMap(j.Metadata),
		CreatedAt: utc(j.CreatedAt), StartedAt: utcPtr(j.StartedAt), CompletedAt: utcPtr(j.CompletedAt),
	}
}

// FromExecution converts an execution for the API.
func FromExecution(e core.Execution) Execution {
	return Execution{
		ID: e.ID, UUID: e.UUID, TaskID: e.TaskID, TaskName: e.TaskName, TaskVersion: e.TaskVersion,
		JobID: e.JobID, Status: e.Status, Input: rawOrNull(e.Input), Output: rawOrNull(e.Output),
		ErrorType: e.ErrorType, ErrorMessage: e.ErrorMessage, ErrorDetails: rawOrNull(e.ErrorDetails),
		Logs: FromLogEntries(e.Logs), HTTPRequests: FromHTTPRequests(e.HTTPRequests),
		WorkerID: e.WorkerID, Attempt: e.Attempt, QueuedAt: utc(e.QueuedAt),
		StartedAt: utcPtr(e.StartedAt), CompletedAt: utcPtr(e.CompletedAt), DurationMS: e.DurationMS,
	}
}

// FromExecutionLogs is the logs view of an execution.
func FromExecutionLogs(e core.Execution) ExecutionLogs {
	return ExecutionLogs{ExecutionID: e.ID, Logs: FromLogEntries(e.Logs), HTTPRequests: FromHTTPRequests(e.HTTPRequests)}
}

// FromLogEntries converts console lines (never nil).
func FromLogEntries(ls []core.LogEntry) []LogEntry {
	out := make([]LogEntry, len(ls))
	for i, l := range ls {
		out[i] = LogEntry{Time: utc(l.Time), Level: l.Level, Message: l.Message}
	}
	return out
}

// FromHTTPRequests converts fetch records (never nil).
func FromHTTPRequests(rs []core.HTTPRequestLog) []HTTPRequest {
	out := make([]HTTPRequest, len(rs))
	for i, r := range rs {
		out[i] = HTTPRequest{
			Method: r.Method, URL: r.URL, Status: r.Status, DurationMS: r.DurationMS,
			Error: r.Error, Mocked: r.Mocked, StartedAt: utc(r.StartedAt),
		}
	}
	return out
}

// FromSchedule converts a schedule for the API.
func FromSchedule(s core.Schedule) Schedule {
	return Schedule{
		ID: s.ID, UUID: s.UUID, TaskID: s.TaskID, Name: s.Name, CronExpression: s.CronExpression,
		Timezone: s.Timezone, Input: rawOrNull(s.Input), Enabled: s.Enabled, MaxExecutions: s.MaxExecutions,
		ExecutionCount: s.ExecutionCount, NextRunAt: utcPtr(s.NextRunAt), LastRunAt: utcPtr(s.LastRunAt),
		OutputDestinations: fromDestinations(s.OutputDestinations),
		CreatedAt:          utc(s.CreatedAt), UpdatedAt: utc(s.UpdatedAt),
	}
}

// FromWorker converts a worker for the API.
func FromWorker(w core.Worker) Worker {
	return Worker{
		ID: w.ID, Node: w.Node, PID: w.PID, Status: w.Status, CurrentExecutionID: w.CurrentExecutionID,
		ExecutionsTotal: w.ExecutionsTotal, FailuresTotal: w.FailuresTotal, Restarts: w.Restarts,
		MemoryBytes: w.MemoryBytes, StartedAt: utc(w.StartedAt), LastHeartbeatAt: utcPtr(w.LastHeartbeatAt),
	}
}

// FromDelivery converts a delivery result for the API.
func FromDelivery(d core.DeliveryResult) Delivery {
	var exec *int64
	if d.ExecutionID > 0 {
		id := d.ExecutionID
		exec = &id
	}
	return Delivery{
		ID: d.ID, JobID: d.JobID, ExecutionID: exec, DestinationType: d.DestinationType,
		Destination: d.Destination, Success: d.Success, Attempts: d.Attempts, StatusCode: d.StatusCode,
		ErrorMessage: d.ErrorMessage, DurationMS: d.DurationMS, CreatedAt: utc(d.CreatedAt),
	}
}

// FromTasks converts a list (never nil, so it encodes as []).
func FromTasks(ts []core.Task) []Task { return convertAll(ts, FromTask) }

// FromJobs converts a list (never nil).
func FromJobs(js []core.Job) []Job { return convertAll(js, FromJob) }

// FromExecutions converts a list (never nil).
func FromExecutions(es []core.Execution) []Execution { return convertAll(es, FromExecution) }

// FromSchedules converts a list (never nil).
func FromSchedules(ss []core.Schedule) []Schedule { return convertAll(ss, FromSchedule) }

// FromWorkers converts a list (never nil).
func FromWorkers(ws []core.Worker) []Worker { return convertAll(ws, FromWorker) }

// FromDeliveries converts a list (never nil).
func FromDeliveries(ds []core.DeliveryResult) []Delivery { return convertAll(ds, FromDelivery) }

// ToDestinations converts request destinations to the domain's.
func ToDestinations(ds []OutputDestination) []core.OutputDestination {
	if ds == nil {
		return nil
	}
	out := make([]core.OutputDestination, len(ds))
	for i, d := range ds {
		out[i] = core.OutputDestination{Type: d.Type, Config: d.Config}
	}
	return out
}

func fromDestinations(ds []core.OutputDestination) []OutputDestination {
	out := make([]OutputDestination, len(ds))
	for i, d := range ds {
		out[i] = OutputDestination{Type: d.Type, Config: d.Config}
	}
	return out
}

func convertAll[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
