package client

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/ratchet-go/ratchet/api/apitypes"
)

const v1 = "/api/v1"

// ListTasks lists tasks (filter and sort fields: listquery.Tasks).
func (c *Client) ListTasks(ctx context.Context, opts ListOptions) ([]apitypes.Task, int, error) {
	return list[apitypes.Task](ctx, c, v1+"/tasks", opts)
}

// GetTask gets a task by id, uuid or name.
func (c *Client) GetTask(ctx context.Context, ref string) (*apitypes.Task, error) {
	return get[apitypes.Task](ctx, c, refPath(v1+"/tasks", ref, ""))
}

// CreateTask creates a task from its files.
func (c *Client) CreateTask(ctx context.Context, req apitypes.CreateTaskRequest) (*apitypes.Task, error) {
	return send[apitypes.Task](ctx, c, http.MethodPost, v1+"/tasks", req)
}

// UploadTaskZip creates a task from a zip of its folder; name may be
// empty when metadata.json names the task.
func (c *Client) UploadTaskZip(ctx context.Context, name string, zip io.Reader) (*apitypes.Task, error) {
	var q url.Values
	if name != "" {
		q = url.Values{"name": {name}}
	}
	var out apitypes.Task
	_, err := c.do(ctx, request{method: http.MethodPost, path: v1 + "/tasks", query: q, raw: zip, contentType: "application/zip"}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateTask changes the given fields of a task.
func (c *Client) UpdateTask(ctx context.Context, ref string, req apitypes.UpdateTaskRequest) (*apitypes.Task, error) {
	return send[apitypes.Task](ctx, c, http.MethodPatch, refPath(v1+"/tasks", ref, ""), req)
}

// DeleteTask deletes a task.
func (c *Client) DeleteTask(ctx context.Context, ref string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: refPath(v1+"/tasks", ref, "")}, nil)
	return err
}

// ExecuteTask runs a task synchronously and returns the completed
// execution. When the task fails, the error is an *APIError with the
// failure's kind and status, and ExecutionID names the execution.
// req.Async is ignored: use ExecuteTaskAsync.
func (c *Client) ExecuteTask(ctx context.Context, ref string, req apitypes.ExecuteRequest) (*apitypes.Execution, error) {
	req.Async = false
	return send[apitypes.Execution](ctx, c, http.MethodPost, refPath(v1+"/tasks", ref, "/execute"), req)
}

// ExecuteTaskAsync queues a job for a task and returns it.
func (c *Client) ExecuteTaskAsync(ctx context.Context, ref string, req apitypes.ExecuteRequest) (*apitypes.Job, error) {
	req.Async = true
	return send[apitypes.Job](ctx, c, http.MethodPost, refPath(v1+"/tasks", ref, "/execute"), req)
}

// TestTask runs a task's tests (or req.Tests) and returns the report; a
// failing test is not an error.
func (c *Client) TestTask(ctx context.Context, ref string, req apitypes.TestTaskRequest) (*apitypes.TaskTestReport, error) {
	return send[apitypes.TaskTestReport](ctx, c, http.MethodPost, refPath(v1+"/tasks", ref, "/test"), req)
}

// ValidateTask checks a task (and req.Input against its input schema).
func (c *Client) ValidateTask(ctx context.Context, ref string, req apitypes.ValidateTaskRequest) (*apitypes.ValidationReport, error) {
	return send[apitypes.ValidationReport](ctx, c, http.MethodPost, refPath(v1+"/tasks", ref, "/validate"), req)
}

// ListJobs lists jobs (filter and sort fields: listquery.Jobs).
func (c *Client) ListJobs(ctx context.Context, opts ListOptions) ([]apitypes.Job, int, error) {
	return list[apitypes.Job](ctx, c, v1+"/jobs", opts)
}

// GetJob gets a job.
func (c *Client) GetJob(ctx context.Context, id int64) (*apitypes.Job, error) {
	return get[apitypes.Job](ctx, c, idPath(v1+"/jobs", id, ""))
}

// GetJobByRef gets a job by id or uuid, as the server accepts either.
func (c *Client) GetJobByRef(ctx context.Context, ref string) (*apitypes.Job, error) {
	return get[apitypes.Job](ctx, c, refPath(v1+"/jobs", ref, ""))
}

// CreateJob queues a job. With an idempotency key already used, the first
// job is returned.
func (c *Client) CreateJob(ctx context.Context, req apitypes.CreateJobRequest) (*apitypes.Job, error) {
	return send[apitypes.Job](ctx, c, http.MethodPost, v1+"/jobs", req)
}

// DeleteJob deletes a finished job.
func (c *Client) DeleteJob(ctx context.Context, id int64) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: idPath(v1+"/jobs", id, "")}, nil)
	return err
}

// CancelJob cancels a queued, retrying or running job.
func (c *Client) CancelJob(ctx context.Context, id int64) (*apitypes.Job, error) {
	return send[apitypes.Job](ctx, c, http.MethodPost, idPath(v1+"/jobs", id, "/cancel"), nil)
}

// RetryJob queues a failed or cancelled job again.
func (c *Client) RetryJob(ctx context.Context, id int64) (*apitypes.Job, error) {
	return send[apitypes.Job](ctx, c, http.MethodPost, idPath(v1+"/jobs", id, "/retry"), nil)
}

// JobStats counts jobs by status and priority.
func (c *Client) JobStats(ctx context.Context) (*apitypes.JobStats, error) {
	return get[apitypes.JobStats](ctx, c, v1+"/jobs/stats")
}

// ListExecutions lists executions (filter and sort fields:
// listquery.Executions).
func (c *Client) ListExecutions(ctx context.Context, opts ListOptions) ([]apitypes.Execution, int, error) {
	return list[apitypes.Execution](ctx, c, v1+"/executions", opts)
}

// GetExecution gets an execution.
func (c *Client) GetExecution(ctx context.Context, id int64) (*apitypes.Execution, error) {
	return get[apitypes.Execution](ctx, c, idPath(v1+"/executions", id, ""))
}

// GetExecutionByRef gets a execution by id or uuid, as the server accepts either.
func (c *Client) GetExecutionByRef(ctx context.Context, ref string) (*apitypes.Execution, error) {
	return get[apitypes.Execution](ctx, c, refPath(v1+"/executions", ref, ""))
}

// ExecutionLogs gets an execution's console lines and HTTP requests.
func (c *Client) ExecutionLogs(ctx context.Context, id int64) (*apitypes.ExecutionLogs, error) {
	return get[apitypes.ExecutionLogs](ctx, c, idPath(v1+"/executions", id, "/logs"))
}

// ListSchedules lists schedules (filter and sort fields:
// listquery.Schedules).
func (c *Client) ListSchedules(ctx context.Context, opts ListOptions) ([]apitypes.Schedule, int, error) {
	return list[apitypes.Schedule](ctx, c, v1+"/schedules", opts)
}

// GetSchedule gets a schedule.
func (c *Client) GetSchedule(ctx context.Context, id int64) (*apitypes.Schedule, error) {
	return get[apitypes.Schedule](ctx, c, idPath(v1+"/schedules", id, ""))
}

// GetScheduleByRef gets a schedule by id or uuid, as the server accepts either.
func (c *Client) GetScheduleByRef(ctx context.Context, ref string) (*apitypes.Schedule, error) {
	return get[apitypes.Schedule](ctx, c, refPath(v1+"/schedules", ref, ""))
}

// CreateSchedule creates a schedule.
func (c *Client) CreateSchedule(ctx context.Context, req apitypes.CreateScheduleRequest) (*apitypes.Schedule, error) {
	return send[apitypes.Schedule](ctx, c, http.MethodPost, v1+"/schedules", req)
}

// UpdateSchedule changes the given fields of a schedule.
func (c *Client) UpdateSchedule(ctx context.Context, id int64, req apitypes.UpdateScheduleRequest) (*apitypes.Schedule, error) {
	return send[apitypes.Schedule](ctx, c, http.MethodPatch, idPath(v1+"/schedules", id, ""), req)
}

// DeleteSchedule deletes a schedule.
func (c *Client) DeleteSchedule(ctx context.Context, id int64) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: idPath(v1+"/schedules", id, "")}, nil)
	return err
}

// EnableSchedule turns a schedule on.
func (c *Client) EnableSchedule(ctx context.Context, id int64) (*apitypes.Schedule, error) {
	return send[apitypes.Schedule](ctx, c, http.MethodPost, idPath(v1+"/schedules", id, "/enable"), nil)
}

// DisableSchedule turns a schedule off.
func (c *Client) DisableSchedule(ctx context.Context, id int64) (*apitypes.Schedule, error) {
	return send[apitypes.Schedule](ctx, c, http.MethodPost, idPath(v1+"/schedules", id, "/disable"), nil)
}

// TriggerSchedule queues one job of a schedule now and returns it.
func (c *Client) TriggerSchedule(ctx context.Context, id int64) (*apitypes.Job, error) {
	return send[apitypes.Job](ctx, c, http.MethodPost, idPath(v1+"/schedules", id, "/trigger"), nil)
}

// ListWorkers lists the workers of every node (filter and sort fields:
// listquery.Workers).
func (c *Client) ListWorkers(ctx context.Context, opts ListOptions) ([]apitypes.Worker, int, error) {
	return list[apitypes.Worker](ctx, c, v1+"/workers", opts)
}

// GetWorker gets a worker.
func (c *Client) GetWorker(ctx context.Context, id string) (*apitypes.Worker, error) {
	return get[apitypes.Worker](ctx, c, refPath(v1+"/workers", id, ""))
}

// WorkerStats sums the workers of every node.
func (c *Client) WorkerStats(ctx context.Context) (*apitypes.WorkerStats, error) {
	return get[apitypes.WorkerStats](ctx, c, v1+"/workers/stats")
}

// ListDeliveries lists output deliveries; filter one job's with
// Filters: {"job_id": {"42"}}.
func (c *Client) ListDeliveries(ctx context.Context, opts ListOptions) ([]apitypes.Delivery, int, error) {
	return list[apitypes.Delivery](ctx, c, v1+"/deliveries", opts)
}

// Health checks that the server answers.
func (c *Client) Health(ctx context.Context) (*apitypes.Health, error) {
	return get[apitypes.Health](ctx, c, "/health")
}

// HealthDetailed reports the server's dependencies. An unhealthy server
// (503) is not an error: read Status.
func (c *Client) HealthDetailed(ctx context.Context) (*apitypes.HealthDetailed, error) {
	var out apitypes.HealthDetailed
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/health/detailed", ok: []int{http.StatusServiceUnavailable}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Ready reports whether the server accepts work. Not being ready (503) is
// not an error: read Ready.
func (c *Client) Ready(ctx context.Context) (*apitypes.Readiness, error) {
	var out apitypes.Readiness
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/ready", ok: []int{http.StatusServiceUnavailable}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Version is the server's version.
func (c *Client) Version(ctx context.Context) (*apitypes.Version, error) {
	return get[apitypes.Version](ctx, c, "/version")
}

// Metrics is the server's Prometheus exposition.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) { return c.raw(ctx, "/metrics") }

// OpenAPIJSON is the server's OpenAPI document as JSON.
func (c *Client) OpenAPIJSON(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, v1+"/openapi.json")
}

// OpenAPIYAML is the server's OpenAPI document as YAML.
func (c *Client) OpenAPIYAML(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, v1+"/openapi.yaml")
}

// APIReference is the server's API reference page (HTML).
func (c *Client) APIReference(ctx context.Context) ([]byte, error) { return c.raw(ctx, v1+"/docs") }

func (c *Client) raw(ctx context.Context, path string) ([]byte, error) {
	var out []byte
	if _, err := c.do(ctx, request{method: http.MethodGet, path: path}, &out); err != nil {
		return nil, err
	}
	return out, nil
}
