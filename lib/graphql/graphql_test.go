package graphql_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAPI runs queries and mutations against one real app.
func TestAPI(t *testing.T) {
	e := newEnv(t, envConfig{})

	t.Run("list tasks with total", func(t *testing.T) {
		var d struct {
			Tasks struct {
				Total int
				Items []struct{ Name, Version string }
			}
		}
		e.post(`{ tasks(limit: 2, sort: [{field: "name"}]) { total items { name version } } }`, nil).decode(t, &d)
		if d.Tasks.Total != 4 || len(d.Tasks.Items) != 2 || d.Tasks.Items[0].Name != "addition" || d.Tasks.Items[1].Name != "async-pipeline" {
			t.Fatalf("tasks = %+v, want total 4 and addition, async-pipeline", d.Tasks)
		}
		e.post(`query($q: String) { tasks(q: $q, filter: [{field: "name", op: LIKE, values: ["ddit"]}]) { total } }`,
			map[string]any{"q": "addition"}).decode(t, &d)
		if d.Tasks.Total != 1 {
			t.Fatalf("filtered total = %d, want 1", d.Tasks.Total)
		}
	})

	t.Run("unknown filter field", func(t *testing.T) {
		r := e.post(`{ jobs(filter: [{field: "secret", values: ["1"]}]) { total } }`, nil)
		ext := r.only(t).Extensions
		if ext["code"] != "INVALID_ARGUMENT" || ext["statusCode"] != float64(400) || ext["type"] != "InvalidArgumentError" {
			t.Fatalf("extensions = %v", ext)
		}
	})

	t.Run("execute synchronously", func(t *testing.T) {
		var d struct {
			ExecuteTask struct {
				Execution struct {
					ID, Status string
					Output     map[string]float64
					Logs       []struct{ Message string }
				}
				Job *struct{ ID string }
			}
		}
		e.post(`mutation($in: JSON) { executeTask(taskId: "addition", input: $in) {
			execution { id status output logs { message } } job { id } } }`,
			map[string]any{"in": map[string]any{"num1": 2, "num2": 3}}).decode(t, &d)
		x := d.ExecuteTask.Execution
		if x.Status != "COMPLETED" || x.Output["sum"] != 5 || d.ExecuteTask.Job != nil {
			t.Fatalf("executeTask = %+v, want COMPLETED with sum 5", d.ExecuteTask)
		}
		if len(x.Logs) == 0 || !strings.Contains(x.Logs[0].Message, "adding 2 and 3") {
			t.Fatalf("logs = %+v", x.Logs)
		}

		// The task shows the execution.
		var td struct {
			Task struct {
				Name       string
				Executions struct {
					Total int
					Items []struct{ ID string }
				}
			}
		}
		e.post(`{ task(name: "addition") { name executions(limit: 5) { total items { id } } } }`, nil).decode(t, &td)
		if td.Task.Executions.Total < 1 || td.Task.Executions.Items[0].ID != x.ID {
			t.Fatalf("task executions = %+v, want the newest first (%s)", td.Task.Executions, x.ID)
		}
		var ed struct {
			Execution struct{ Status, TaskName string }
		}
		e.get(`query($id: ID!) { execution(id: $id) { status taskName } }`, map[string]any{"id": x.ID}).decode(t, &ed)
		if ed.Execution.Status != "COMPLETED" || ed.Execution.TaskName != "addition" {
			t.Fatalf("execution = %+v", ed.Execution)
		}
	})

	t.Run("failing execute maps the error", func(t *testing.T) {
		r := e.post(`mutation { executeTask(taskId: "addition", input: {num1: "two"}) { execution { id } } }`, nil)
		qe := r.only(t)
		ext := qe.Extensions
		if ext["type"] != "InputValidationError" || ext["code"] != "INPUT_VALIDATION" || ext["statusCode"] != float64(400) {
			t.Fatalf("extensions = %v", ext)
		}
		details, _ := ext["details"].(map[string]any)
		if _, ok := details["execution_id"]; !ok {
			t.Fatalf("details = %v, want execution_id", details)
		}
		if len(qe.Path) != 1 || qe.Path[0] != "executeTask" {
			t.Fatalf("path = %v", qe.Path)
		}
	})

	t.Run("not found", func(t *testing.T) {
		ext := e.post(`{ job(id: "99999") { id } }`, nil).only(t).Extensions
		if ext["type"] != "NotFoundError" || ext["code"] != "NOT_FOUND" || ext["statusCode"] != float64(404) {
			t.Fatalf("extensions = %v", ext)
		}
	})

	t.Run("cancel and retry a queued job", func(t *testing.T) {
		later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		type job struct{ ID, Status, Priority, ProcessAt string }
		var c struct{ CreateJob job }
		e.post(`mutation($at: DateTime) { createJob(input: {taskId: "addition", input: {num1: 1, num2: 1}, priority: HIGH, processAt: $at}) {
			id status priority processAt } }`, map[string]any{"at": later}).decode(t, &c)
		if c.CreateJob.Status != "QUEUED" || c.CreateJob.Priority != "HIGH" || c.CreateJob.ProcessAt != later {
			t.Fatalf("createJob = %+v", c.CreateJob)
		}
		var l struct {
			Jobs struct {
				Total int
				Items []job
			}
		}
		e.post(`{ jobs(status: [QUEUED], taskId: "addition") { total items { id status } } }`, nil).decode(t, &l)
		if l.Jobs.Total != 1 || l.Jobs.Items[0].ID != c.CreateJob.ID {
			t.Fatalf("queued jobs = %+v", l.Jobs)
		}
		var x struct{ CancelJob job }
		e.post(`mutation($id: ID!) { cancelJob(id: $id) { id status } }`, map[string]any{"id": c.CreateJob.ID}).decode(t, &x)
		if x.CancelJob.Status != "CANCELLED" {
			t.Fatalf("cancelJob = %+v", x.CancelJob)
		}
		ext := e.post(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, map[string]any{"id": c.CreateJob.ID}).only(t).Extensions
		if ext["code"] != "CONFLICT" || ext["statusCode"] != float64(409) {
			t.Fatalf("cancelling twice: extensions = %v", ext)
		}
		var rj struct{ RetryJob job }
		e.post(`mutation($id: ID!) { retryJob(id: $id) { id status } }`, map[string]any{"id": c.CreateJob.ID}).decode(t, &rj)
		if rj.RetryJob.Status != "QUEUED" {
			t.Fatalf("retryJob = %+v", rj.RetryJob)
		}
	})

	t.Run("schedule CRUD", func(t *testing.T) {
		type sched struct {
			ID, Name, CronExpression, Timezone string
			Enabled                            bool
			NextRunAt                          *string
			Input                              map[string]float64
			MaxExecutions                      *int
		}
		const fields = `id name cronExpression timezone enabled nextRunAt input maxExecutions`
		var c struct{ CreateSchedule sched }
		e.post(`mutation { createSchedule(input: {taskId: "addition", name: "hourly-add", cronExpression: "@hourly", input: {num1: 1, num2: 2}, maxExecutions: 5}) { `+fields+` } }`, nil).decode(t, &c)
		s := c.CreateSchedule
		if s.Name != "hourly-add" || !s.Enabled || s.NextRunAt == nil || s.Input["num2"] != 2 || s.MaxExecutions == nil || *s.MaxExecutions != 5 {
			t.Fatalf("createSchedule = %+v", s)
		}
		vars := map[string]any{"id": s.ID}
		var u struct{ UpdateSchedule sched }
		e.post(`mutation($id: ID!) { updateSchedule(id: $id, input: {name: "renamed", cronExpression: "*/5 * * * *", clearMaxExecutions: true}) { `+fields+` } }`, vars).decode(t, &u)
		if u.UpdateSchedule.Name != "renamed" || u.UpdateSchedule.CronExpression != "*/5 * * * *" || u.UpdateSchedule.MaxExecutions != nil {
			t.Fatalf("updateSchedule = %+v", u.UpdateSchedule)
		}
		var dis struct{ DisableSchedule sched }
		e.post(`mutation($id: ID!) { disableSchedule(id: $id) { enabled } }`, vars).decode(t, &dis)
		if dis.DisableSchedule.Enabled {
			t.Fatal("disableSchedule: still enabled")
		}
		var en struct{ EnableSchedule sched }
		e.post(`mutation($id: ID!) { enableSchedule(id: $id) { enabled } }`, vars).decode(t, &en)
		if !en.EnableSchedule.Enabled {
			t.Fatal("enableSchedule: not enabled")
		}
		var tr struct {
			TriggerSchedule struct{ ID, ScheduleID string }
		}
		e.post(`mutation($id: ID!) { triggerSchedule(id: $id) { id scheduleId } }`, vars).decode(t, &tr)
		if tr.TriggerSchedule.ScheduleID != s.ID {
			t.Fatalf("triggerSchedule = %+v", tr.TriggerSchedule)
		}
		var l struct{ Schedules struct{ Total int } }
		e.post(`{ schedules(taskId: "addition", enabled: true) { total } }`, nil).decode(t, &l)
		if l.Schedules.Total != 1 {
			t.Fatalf("schedules total = %d", l.Schedules.Total)
		}
		ext := e.post(`mutation { createSchedule(input: {taskId: "addition", cronExpression: "not a cron"}) { id } }`, nil).only(t).Extensions
		if ext["statusCode"] != float64(400) {
			t.Fatalf("bad cron: extensions = %v", ext)
		}
		var d struct{ DeleteSchedule bool }
		e.post(`mutation($id: ID!) { deleteSchedule(id: $id) }`, vars).decode(t, &d)
		if !d.DeleteSchedule {
			t.Fatal("deleteSchedule = false")
		}
		if ext := e.post(`query($id: ID!) { schedule(id: $id) { id } }`, vars).only(t).Extensions; ext["code"] != "NOT_FOUND" {
			t.Fatalf("deleted schedule: extensions = %v", ext)
		}
	})

	t.Run("stats, workers and health", func(t *testing.T) {
		var d struct {
			JobStats struct {
				Total    int
				ByStatus []struct {
					Status string
					Count  int
				}
				ByPriority []struct{ Priority string }
			}
			WorkerStats struct {
				Total    int
				ByStatus []struct{ Status string }
			}
			Workers struct {
				Total int
				Items []struct{ ID, Status, Node string }
			}
			Health struct {
				Status string
				Checks []struct{ Name, Status string }
			}
		}
		e.post(`{
			jobStats { total byStatus { status count } byPriority { priority count } queuedByPriority { priority count } }
			workerStats { total byStatus { status count } executionsTotal dispatcher at }
			workers { total items { id status node pid memoryBytes } }
			health { status checks { name status message } at }
		}`, nil).decode(t, &d)
		if d.JobStats.Total < 1 || len(d.JobStats.ByStatus) != 6 || d.JobStats.ByStatus[0].Status != "QUEUED" || d.JobStats.ByPriority[3].Priority != "URGENT" {
			t.Fatalf("jobStats = %+v", d.JobStats)
		}
		if d.WorkerStats.Total != 2 || d.Workers.Total != 2 || d.Workers.Items[0].Node != "node-a" {
			t.Fatalf("workerStats = %+v, workers = %+v", d.WorkerStats, d.Workers)
		}
		if d.Health.Status != "OK" || len(d.Health.Checks) != 3 {
			t.Fatalf("health = %+v", d.Health)
		}
		var w struct{ Worker struct{ ID string } }
		e.post(`query($id: String!) { worker(id: $id) { id } }`, map[string]any{"id": d.Workers.Items[0].ID}).decode(t, &w)
		if w.Worker.ID != d.Workers.Items[0].ID {
			t.Fatalf("worker = %+v", w.Worker)
		}
	})

	t.Run("GET may not mutate", func(t *testing.T) {
		r := e.get(`mutation { cancelJob(id: "1") { id } }`, nil)
		if ext := r.only(t).Extensions; ext["code"] != "INVALID_ARGUMENT" || !strings.Contains(r.Errors[0].Message, "POST") {
			t.Fatalf("GET mutation: %s", r.Body)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		r := e.post(``, nil)
		if r.Status != http.StatusBadRequest || r.only(t).Extensions["code"] != "INVALID_ARGUMENT" {
			t.Fatalf("empty query: %d %s", r.Status, r.Body)
		}
		r = e.post(`{ tasks { nope } }`, nil)
		if r.Status != http.StatusOK || r.only(t).Extensions["code"] != "INVALID_ARGUMENT" {
			t.Fatalf("unknown field: %d %s", r.Status, r.Body)
		}
		// A variable that cannot be coerced is a request error: no data
		// key at all (GraphQL spec, "Response"), and the message names it.
		r = e.post(`query($n: Int!) { tasks(limit: $n) { total } }`, map[string]any{"n": "abc"})
		if r.Data != nil || bytes.Contains(r.Body, []byte(`"data"`)) {
			t.Fatalf("coercion error has a data key: %s", r.Body)
		}
		if qe := r.only(t); qe.Extensions["code"] != "INVALID_ARGUMENT" || !strings.Contains(qe.Message, "$n") {
			t.Fatalf("coercion error: %s", r.Body)
		}
	})

	t.Run("introspection on by default", func(t *testing.T) {
		var d struct {
			Schema struct{ QueryType struct{ Name string } } `json:"__schema"`
		}
		e.post(`{ __schema { queryType { name } } }`, nil).decode(t, &d)
		if d.Schema.QueryType.Name != "Query" {
			t.Fatalf("__schema = %+v", d.Schema)
		}
	})

	t.Run("GraphiQL's introspection query passes the default limits", func(t *testing.T) {
		// The TypeRef fragment of graphql-js's getIntrospectionQuery, which
		// GraphiQL sends on load, nests ofType nine levels deep.
		r := e.post(`query IntrospectionQuery { __schema { types { ...FullType } } }
fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } } inputFields { ...InputValue } }
fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("introspection refused: %s", r.Body)
		}
	})

	t.Run("subscription over WebSocket", func(t *testing.T) { testSubscription(t, e) })
	t.Run("playground", func(t *testing.T) { testPlayground(t, e) })
	t.Run("schema golden", func(t *testing.T) { testSchemaGolden(t, e) })
}

// TestAuthAndLimits checks roles, the depth and complexity limits and
// introspection switched off.
func TestAuthAndLimits(t *testing.T) {
	e := newEnv(t, envConfig{auth: true, opts: graphqlOptions(4, 100, true)})
	viewer, operator := e.withKey(viewerKey), e.withKey(operatorKey)

	t.Run("viewer queries", func(t *testing.T) {
		var d struct{ Tasks struct{ Total int } }
		viewer.get(`{ tasks { total } }`, nil).decode(t, &d)
		if d.Tasks.Total != 4 {
			t.Fatalf("total = %d", d.Tasks.Total)
		}
	})
	t.Run("viewer may not mutate", func(t *testing.T) {
		ext := viewer.get(`mutation { cancelJob(id: "1") { id } }`, nil).only(t).Extensions
		if ext["type"] != "AuthorizationError" || ext["code"] != "AUTHORIZATION" || ext["statusCode"] != float64(403) {
			t.Fatalf("extensions = %v", ext)
		}
	})
	t.Run("operator mutates", func(t *testing.T) {
		later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		var d struct{ CreateJob struct{ Status string } }
		operator.post(`mutation($at: DateTime) { createJob(input: {taskId: "addition", processAt: $at}) { status } }`,
			map[string]any{"at": later}).decode(t, &d)
		if d.CreateJob.Status != "QUEUED" {
			t.Fatalf("createJob = %+v", d.CreateJob)
		}
	})
	t.Run("no key", func(t *testing.T) {
		if r := e.post(`{ tasks { total } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
		}
	})
	t.Run("depth limit", func(t *testing.T) {
		r := operator.post(`{ jobs { items { task { executions { items { id } } } } } }`, nil)
		qe := r.only(t)
		if qe.Extensions["code"] != "INVALID_ARGUMENT" || !strings.Contains(qe.Message, "depth") {
			t.Fatalf("deep query: %s", r.Body)
		}
		var d struct{ Jobs struct{ Total int } }
		operator.post(`{ jobs { items { task { name } } total } }`, nil).decode(t, &d)
	})
	t.Run("complexity limit", func(t *testing.T) {
		r := operator.post(`{ tasks(limit: 50) { items { executions(limit: 50) { total } } } }`, nil)
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "too complex") || r.Errors[0].Extensions["code"] != "INVALID_ARGUMENT" {
			t.Fatalf("complex query: %s", r.Body)
		}
	})
	t.Run("introspection off", func(t *testing.T) {
		r := operator.post(`{ __schema { queryType { name } } }`, nil)
		if strings.Contains(string(r.Data), "Query") {
			t.Fatalf("introspection answered: %s", r.Body)
		}
	})
}
