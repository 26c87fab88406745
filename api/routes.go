package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
)

// V1Prefix is where the resource routes live.
const V1Prefix = "/api/v1"

// Route is one documented HTTP route. The server registers exactly these
// routes (a test in the server compares its router with Routes), and the
// OpenAPI document is generated from them.
type Route struct {
	Method string
	// Path is the full path in OpenAPI template form: /api/v1/tasks/{id}.
	Path        string
	OperationID string
	Tag         string
	Summary     string
	// Status is the status of a successful answer (the first one when
	// there are two, as for execute).
	Status int
	// List is the list resource of a list route (nil otherwise): the
	// server parses the query with listquery.Parse(values, List).
	List *listquery.Resource

	spec routeSpec
}

// ColonPath is Path with {param} written :param, as Echo and most Go
// routers write it.
func (r Route) ColonPath() string {
	var b strings.Builder
	for part := range strings.SplitSeq(r.Path, "/") {
		if part == "" {
			continue
		}
		b.WriteByte('/')
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			b.WriteString(":" + part[1:len(part)-1])
		} else {
			b.WriteString(part)
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// UndocumentedPrefixes are path prefixes the server may serve outside the
// OpenAPI document: GraphQL, its playground, and the debug endpoints that
// development.enable_debug_endpoints turns on.
var UndocumentedPrefixes = []string{"/graphql", "/playground", "/debug/"}

// Routes lists every documented route, resources first, in document order.
func Routes() []Route { return slices.Clone(routes) }

// RouteByOperation finds a route by its operation id.
func RouteByOperation(id string) (Route, bool) {
	for _, r := range routes {
		if r.OperationID == id {
			return r, true
		}
	}
	return Route{}, false
}

// routeSpec is what the document says about a route beyond Route's fields.
type routeSpec struct {
	description string
	// idParam is the path parameter's kind: "" none, "task", "int", "worker".
	idParam string
	// body is the request body's zero value; bodyOptional allows none.
	body         any
	bodyOptional bool
	// zip accepts application/zip as well (task upload).
	zip bool
	// response is the success body's zero value (nil: no body).
	response any
	// contentType of a non-JSON success body.
	contentType string
	// alt is a second success or documented non-error answer.
	alt []altResponse
	// errors are the error statuses beyond the ones every route has.
	errors []int
	// public routes need no API key.
	public bool
	// query are extra query parameters.
	query []queryParam
}

type altResponse struct {
	status      int
	description string
	body        any
}

type queryParam struct {
	name, description, typ string
}

const (
	tagTasks      = "tasks"
	tagJobs       = "jobs"
	tagExecutions = "executions"
	tagSchedules  = "schedules"
	tagWorkers    = "workers"
	tagDeliveries = "deliveries"
	tagSystem     = "system"
	tagMeta       = "meta"
)

// tags in document order, with their descriptions.
var tags = []struct{ name, description string }{
	{tagTasks, "Tasks: JavaScript functions with input and output schemas and tests. A task is addressed by its numeric id, its uuid or its name."},
	{tagJobs, "Jobs: queued requests to run a task, retried with exponential backoff."},
	{tagExecutions, "Executions: every run of a task, with its input, output, error, logs and HTTP requests."},
	{tagSchedules, "Schedules: cron expressions that enqueue a job on each tick."},
	{tagWorkers, "Workers: the isolated worker processes of every node."},
	{tagDeliveries, "Deliveries: each delivery attempt of a job's output to a file or webhook."},
	{tagSystem, "Health, readiness, version and metrics, outside /api/v1 and without authentication."},
	{tagMeta, "This document and the API reference page."},
}

func v1(p string) string { return V1Prefix + p }

func list(tag string, res *listquery.Resource, item any, summary, description string) Route {
	return Route{
		Method: http.MethodGet, Path: v1("/" + res.Name), OperationID: "list" + title(res.Name),
		Tag: tag, Summary: summary, Status: http.StatusOK, List: res,
		spec: routeSpec{description: description, response: item, errors: []int{400}},
	}
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// The route table. Paths with a fixed segment (/jobs/stats) come before the
// parameterised one they would otherwise match.
var routes = []Route{
	// Tasks.
	list(tagTasks, listquery.Tasks, []apitypes.Task{}, "List tasks", ""),
	{Method: http.MethodPost, Path: v1("/tasks"), OperationID: "createTask", Tag: tagTasks, Summary: "Create a task",
		Status: http.StatusCreated, spec: routeSpec{
			description: "Creates a task from its files, as JSON or as a zip of the task folder (`Content-Type: application/zip`, with `?name=` when metadata.json has no name). Answers 201 with a Location header.",
			body:        apitypes.CreateTaskRequest{}, zip: true, response: apitypes.Task{}, errors: []int{400, 409, 413},
			query: []queryParam{{"name", "Task name for a zip upload (default: metadata.name).", "string"}},
		}},
	{Method: http.MethodGet, Path: v1("/tasks/{id}"), OperationID: "getTask", Tag: tagTasks, Summary: "Get a task",
		Status: http.StatusOK, spec: routeSpec{idParam: "task", response: apitypes.Task{}, errors: []int{404}}},
	{Method: http.MethodPatch, Path: v1("/tasks/{id}"), OperationID: "updateTask", Tag: tagTasks, Summary: "Update a task",
		Status: http.StatusOK, spec: routeSpec{
			description: "Changes the given fields. New code, schemas, metadata or tests make a new version.",
			idParam:     "task", body: apitypes.UpdateTaskRequest{}, response: apitypes.Task{}, errors: []int{400, 404, 409},
		}},
	{Method: http.MethodDelete, Path: v1("/tasks/{id}"), OperationID: "deleteTask", Tag: tagTasks, Summary: "Delete a task",
		Status: http.StatusNoContent, spec: routeSpec{
			description: "Deletes the task with its versions, schedules and finished jobs (with their executions and deliveries); 409 Conflict while it has queued, processing or retrying jobs (details.unfinished_jobs says how many): cancel them or let them finish first.",
			idParam:     "task", errors: []int{404, 409},
		}},
	{Method: http.MethodPost, Path: v1("/tasks/{id}/execute"), OperationID: "executeTask", Tag: tagTasks, Summary: "Execute a task",
		Status: http.StatusOK, spec: routeSpec{
			description: "Runs the task in a worker and answers 200 with the completed execution. With `async: true` it queues a job and answers 202 with it. " +
				"When the task fails, the answer is the error envelope with the status of the failure kind (ValidationError and InputValidationError 400, " +
				"AuthenticationError 401, AuthorizationError 403, NotFoundError 404, DataError and OutputValidationError 422, RateLimitError 429, " +
				"NetworkError 502, ServiceUnavailableError 503, TimeoutError 504, HttpError its status, others 500) and the execution's id in `error.details.execution_id`.",
			idParam: "task", body: apitypes.ExecuteRequest{}, bodyOptional: true, response: apitypes.Execution{},
			alt:    []altResponse{{http.StatusAccepted, "Queued (async): the job.", apitypes.Job{}}},
			errors: []int{400, 404, 409, 422, 502, 503, 504},
		}},
	{Method: http.MethodPost, Path: v1("/tasks/{id}/test"), OperationID: "testTask", Tag: tagTasks, Summary: "Run a task's tests",
		Status: http.StatusOK, spec: routeSpec{
			description: "Runs the task's tests (or the given ones) with the network off and HTTP mocks; answers 200 with the report whether or not they pass.",
			idParam:     "task", body: apitypes.TestTaskRequest{}, bodyOptional: true, response: apitypes.TaskTestReport{}, errors: []int{400, 404},
		}},
	{Method: http.MethodPost, Path: v1("/tasks/{id}/validate"), OperationID: "validateTask", Tag: tagTasks, Summary: "Validate a task",
		Status: http.StatusOK, spec: routeSpec{
			description: "Checks the task's metadata, schemas, code and tests, and the given input against the input schema; answers 200 with every problem found.",
			idParam:     "task", body: apitypes.ValidateTaskRequest{}, bodyOptional: true, response: apitypes.ValidationReport{}, errors: []int{400, 404},
		}},

	// Jobs.
	list(tagJobs, listquery.Jobs, []apitypes.Job{}, "List jobs", ""),
	{Method: http.MethodPost, Path: v1("/jobs"), OperationID: "createJob", Tag: tagJobs, Summary: "Queue a job",
		Status: http.StatusCreated, spec: routeSpec{
			description: "Queues a job for a task (by id, uuid or name). With an idempotency_key already used, answers 200 with the first job. 429 when the queue is full.",
			body:        apitypes.CreateJobRequest{}, response: apitypes.Job{},
			alt:    []altResponse{{http.StatusOK, "A job with the same idempotency_key exists: that job.", apitypes.Job{}}},
			errors: []int{400, 404, 409},
		}},
	{Method: http.MethodGet, Path: v1("/jobs/stats"), OperationID: "getJobStats", Tag: tagJobs, Summary: "Job statistics",
		Status: http.StatusOK, spec: routeSpec{response: apitypes.JobStats{}}},
	{Method: http.MethodGet, Path: v1("/jobs/{id}"), OperationID: "getJob", Tag: tagJobs, Summary: "Get a job",
		Status: http.StatusOK, spec: routeSpec{idParam: "int", response: apitypes.Job{}, errors: []int{404}}},
	{Method: http.MethodDelete, Path: v1("/jobs/{id}"), OperationID: "deleteJob", Tag: tagJobs, Summary: "Delete a finished job",
		Status: http.StatusNoContent, spec: routeSpec{
			description: "Deletes a completed, failed or cancelled job with its delivery records (its executions stay); 409 for a job not finished.",
			idParam:     "int", errors: []int{404, 409},
		}},
	{Method: http.MethodPost, Path: v1("/jobs/{id}/cancel"), OperationID: "cancelJob", Tag: tagJobs, Summary: "Cancel a job",
		Status: http.StatusOK, spec: routeSpec{
			description: "Cancels a queued, retrying or running job (a running one is interrupted); 409 for a finished job.",
			idParam:     "int", response: apitypes.Job{}, errors: []int{404, 409},
		}},
	{Method: http.MethodPost, Path: v1("/jobs/{id}/retry"), OperationID: "retryJob", Tag: tagJobs, Summary: "Retry a job",
		Status: http.StatusOK, spec: routeSpec{
			description: "Queues a failed or cancelled job again; 409 for a job in any other status.",
			idParam:     "int", response: apitypes.Job{}, errors: []int{404, 409},
		}},

	// Executions.
	list(tagExecutions, listquery.Executions, []apitypes.Execution{}, "List executions", ""),
	{Method: http.MethodGet, Path: v1("/executions/{id}"), OperationID: "getExecution", Tag: tagExecutions, Summary: "Get an execution",
		Status: http.StatusOK, spec: routeSpec{idParam: "int", response: apitypes.Execution{}, errors: []int{404}}},
	{Method: http.MethodGet, Path: v1("/executions/{id}/logs"), OperationID: "getExecutionLogs", Tag: tagExecutions, Summary: "Get an execution's logs",
		Status: http.StatusOK, spec: routeSpec{
			description: "The console lines and HTTP requests of an execution.",
			idParam:     "int", response: apitypes.ExecutionLogs{}, errors: []int{404},
		}},

	// Schedules.
	list(tagSchedules, listquery.Schedules, []apitypes.Schedule{}, "List schedules", ""),
	{Method: http.MethodPost, Path: v1("/schedules"), OperationID: "createSchedule", Tag: tagSchedules, Summary: "Create a schedule",
		Status: http.StatusCreated, spec: routeSpec{
			description: "Creates a schedule for a task (by id, uuid or name); 400 for an invalid cron expression or time zone.",
			body:        apitypes.CreateScheduleRequest{}, response: apitypes.Schedule{}, errors: []int{400, 404, 409},
		}},
	{Method: http.MethodGet, Path: v1("/schedules/{id}"), OperationID: "getSchedule", Tag: tagSchedules, Summary: "Get a schedule",
		Status: http.StatusOK, spec: routeSpec{idParam: "int", response: apitypes.Schedule{}, errors: []int{404}}},
	{Method: http.MethodPatch, Path: v1("/schedules/{id}"), OperationID: "updateSchedule", Tag: tagSchedules, Summary: "Update a schedule",
		Status: http.StatusOK, spec: routeSpec{idParam: "int", body: apitypes.UpdateScheduleRequest{}, response: apitypes.Schedule{}, errors: []int{400, 404, 409}}},
	{Method: http.MethodDelete, Path: v1("/schedules/{id}"), OperationID: "deleteSchedule", Tag: tagSchedules, Summary: "Delete a schedule",
		Status: http.StatusNoContent, spec: routeSpec{idParam: "int", errors: []int{404}}},
	{Method: http.MethodPost, Path: v1("/schedules/{id}/enable"), OperationID: "enableSchedule", Tag: tagSchedules, Summary: "Enable a schedule",
		Status: http.StatusOK, spec: routeSpec{idParam: "int", response: apitypes.Schedule{}, errors: []int{404}}},
	{Method: http.MethodPost, Path: v1("/schedules/{id}/disable"), OperationID: "disableSchedule", Tag: tagSchedules, Summary: "Disable a schedule",
		Status: http.StatusOK, spec: routeSpec{idParam: "int", response: apitypes.Schedule{}, errors: []int{404}}},
	{Method: http.MethodPost, Path: v1("/schedules/{id}/trigger"), OperationID: "triggerSchedule", Tag: tagSchedules, Summary: "Trigger a schedule now",
		Status: http.StatusAccepted, spec: routeSpec{
			description: "Queues one job now with the schedule's input and destinations, outside the cron ticks; answers 202 with the job. A manual trigger does not count toward execution_count or max_executions, so it works on a schedule that has reached its limit (but not for a disabled task: 409).",
			idParam:     "int", response: apitypes.Job{}, errors: []int{404, 409},
		}},

	// Workers.
	list(tagWorkers, listquery.Workers, []apitypes.Worker{}, "List workers", "Every worker of every node."),
	{Method: http.MethodGet, Path: v1("/workers/stats"), OperationID: "getWorkerStats", Tag: tagWorkers, Summary: "Worker statistics",
		Status: http.StatusOK, spec: routeSpec{response: apitypes.WorkerStats{}}},
	{Method: http.MethodGet, Path: v1("/workers/{id}"), OperationID: "getWorker", Tag: tagWorkers, Summary: "Get a worker",
		Status: http.StatusOK, spec: routeSpec{idParam: "worker", response: apitypes.Worker{}, errors: []int{404}}},

	// Deliveries.
	list(tagDeliveries, listquery.Deliveries, []apitypes.Delivery{}, "List deliveries", "Every delivery attempt; filter by job_id for one job's."),

	// System.
	{Method: http.MethodGet, Path: "/health", OperationID: "getHealth", Tag: tagSystem, Summary: "Liveness",
		Status: http.StatusOK, spec: routeSpec{public: true, response: apitypes.Health{}}},
	{Method: http.MethodGet, Path: "/health/detailed", OperationID: "getHealthDetailed", Tag: tagSystem, Summary: "Detailed health",
		Status: http.StatusOK, spec: routeSpec{
			description: "The database, workers, scheduler and queue; 503 when any is unhealthy.",
			public:      true, response: apitypes.HealthDetailed{},
			alt: []altResponse{{http.StatusServiceUnavailable, "Unhealthy.", apitypes.HealthDetailed{}}},
		}},
	{Method: http.MethodGet, Path: "/ready", OperationID: "getReady", Tag: tagSystem, Summary: "Readiness",
		Status: http.StatusOK, spec: routeSpec{
			description: "200 once the server accepts work (database migrated, workers started); 503 before and while shutting down.",
			public:      true, response: apitypes.Readiness{},
			alt: []altResponse{{http.StatusServiceUnavailable, "Not ready.", apitypes.Readiness{}}},
		}},
	{Method: http.MethodGet, Path: "/version", OperationID: "getVersion", Tag: tagSystem, Summary: "Version",
		Status: http.StatusOK, spec: routeSpec{public: true, response: apitypes.Version{}}},
	{Method: http.MethodGet, Path: "/metrics", OperationID: "getMetrics", Tag: tagSystem, Summary: "Prometheus metrics",
		Status: http.StatusOK, spec: routeSpec{public: true, contentType: "text/plain; version=0.0.4"}},

	// Meta.
	{Method: http.MethodGet, Path: v1("/openapi.json"), OperationID: "getOpenAPIJSON", Tag: tagMeta, Summary: "This document (JSON)",
		Status: http.StatusOK, spec: routeSpec{public: true, contentType: "application/json"}},
	{Method: http.MethodGet, Path: v1("/openapi.yaml"), OperationID: "getOpenAPIYAML", Tag: tagMeta, Summary: "This document (YAML)",
		Status: http.StatusOK, spec: routeSpec{public: true, contentType: "application/yaml"}},
	{Method: http.MethodGet, Path: v1("/docs"), OperationID: "getAPIReference", Tag: tagMeta, Summary: "API reference page",
		Status: http.StatusOK, spec: routeSpec{public: true, contentType: "text/html; charset=utf-8"}},
}

// ServedRoute is a route a server registered, with its path in {param} or
// :param form (as Echo's Routes() reports it).
type ServedRoute struct {
	Method, Path string
}

// CompareRoutes compares the routes a server serves with Routes. It
// returns "METHOD /path" lines: undocumented are served but not documented,
// missing are documented but not served. Paths under UndocumentedPrefixes,
// wildcard paths (ending in *) and methods other than GET, POST, PUT, PATCH
// and DELETE (HEAD, OPTIONS, a router's catch-alls) are not compared.
func CompareRoutes(served []ServedRoute) (undocumented, missing []string) {
	documented := map[string]bool{}
	for _, r := range routes {
		documented[r.Method+" "+r.ColonPath()] = true
	}
	seen := map[string]bool{}
	for _, s := range served {
		switch s.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		if strings.HasSuffix(s.Path, "*") || slices.ContainsFunc(UndocumentedPrefixes, func(p string) bool {
			return s.Path == strings.TrimSuffix(p, "/") || strings.HasPrefix(s.Path, p)
		}) {
			continue
		}
		key := s.Method + " " + Route{Path: s.Path}.ColonPath()
		if seen[key] {
			continue
		}
		seen[key] = true
		if !documented[key] {
			undocumented = append(undocumented, key)
		}
	}
	for _, r := range routes {
		key := r.Method + " " + r.ColonPath()
		if !seen[key] {
			missing = append(missing, key)
		}
	}
	return undocumented, missing
}
