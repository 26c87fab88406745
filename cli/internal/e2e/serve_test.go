package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/core"
)

// TestServe starts `ratchet serve` as a process on a free port and drives
// it as a user would: the Go client (tasks, synchronous and asynchronous
// executes, jobs, a schedule, deliveries, health, metrics, OpenAPI), then
// the remote CLI, then SIGTERM.
func TestServe(t *testing.T) {
	// The in-process CLI must talk to this server only, without a token.
	t.Setenv("RATCHET_SERVER", "")
	t.Setenv("RATCHET_TOKEN", "")

	hook := newWebhookReceiver(t)
	env := newServeEnv(t, hook)
	srv := env.start(t)
	srv.waitReady(t)

	ctx := t.Context()
	c, err := client.New(srv.url, client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}

	// waitJob polls a job until it reaches a final status.
	waitJob := func(t *testing.T, id int64) *apitypes.Job {
		t.Helper()
		var job *apitypes.Job
		waitFor(t, jobDeadline, "job "+strconv.FormatInt(id, 10)+" to finish", func() (bool, string) {
			j, err := c.GetJob(ctx, id)
			if err != nil {
				return false, err.Error()
			}
			job = j
			return j.Status.Terminal(), "status " + string(j.Status)
		})
		return job
	}

	// Jobs whose deliveries are checked.
	var delivered []*apitypes.Job

	t.Run("tasks", func(t *testing.T) {
		tasks, total, err := c.ListTasks(ctx, client.ListOptions{Sort: "name"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, task := range tasks {
			names = append(names, task.Name)
			if !task.Enabled || task.LoadError != "" {
				t.Errorf("task %s: enabled %v, load_error %q; want an enabled task that loaded", task.Name, task.Enabled, task.LoadError)
			}
		}
		want := []string{"addition", "async-pipeline", "order-validation", "weather-api"}
		if total != len(want) || !slices.Equal(names, want) {
			t.Errorf("GET /tasks?_sort=name = %v (X-Total-Count %d), want the bundled examples %v", names, total, want)
		}
		task, err := c.GetTask(ctx, "addition")
		if err != nil {
			t.Fatal(err)
		}
		if task.Name != "addition" || task.Version != "1.0.0" || len(task.InputSchema) == 0 {
			t.Errorf("GET /tasks/addition = name %q version %q input_schema %s", task.Name, task.Version, task.InputSchema)
		}
	})

	t.Run("execute synchronously", func(t *testing.T) {
		exec, err := c.ExecuteTask(ctx, "addition", apitypes.ExecuteRequest{Input: json.RawMessage(`{"num1":2,"num2":3}`)})
		if err != nil {
			t.Fatal(err)
		}
		if exec.Status != core.ExecutionCompleted || !jsonEqual(exec.Output, []byte(`{"sum":5}`)) || exec.JobID != nil {
			t.Errorf("execute addition {2,3} = status %s, output %s, job_id %v; want completed, {\"sum\":5}, no job",
				exec.Status, exec.Output, exec.JobID)
		}
		got, err := c.GetExecution(ctx, exec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != core.ExecutionCompleted || !jsonEqual(got.Output, []byte(`{"sum":5}`)) ||
			!jsonEqual(got.Input, []byte(`{"num1":2,"num2":3}`)) || got.TaskName != "addition" {
			t.Errorf("GET /executions/%d = status %s, task %q, input %s, output %s", exec.ID, got.Status, got.TaskName, got.Input, got.Output)
		}
		if !slices.ContainsFunc(got.Logs, func(l apitypes.LogEntry) bool { return strings.Contains(l.Message, "adding 2 and 3") }) {
			t.Errorf("execution %d logs = %+v, want the task's console line", exec.ID, got.Logs)
		}
	})

	t.Run("execute synchronously, invalid input", func(t *testing.T) {
		_, err := c.ExecuteTask(ctx, "addition", apitypes.ExecuteRequest{Input: json.RawMessage(`{"num1":2}`)})
		var ae *client.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("execute addition {num1 only}: error %v, want an error answer", err)
		}
		if ae.Status != http.StatusBadRequest || ae.Type != string(core.KindInputValidation) || ae.TraceID == "" {
			t.Errorf("execute addition {num1 only}: %d %s (trace id %q), want 400 InputValidationError with a trace id",
				ae.Status, ae.Type, ae.TraceID)
		}
		id, ok := ae.ExecutionID()
		if !ok {
			t.Fatalf("error details %v hold no execution_id", ae.Details)
		}
		exec, err := c.GetExecution(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if exec.Status != core.ExecutionFailed || exec.ErrorType != string(core.KindInputValidation) ||
			!jsonEqual(exec.Input, []byte(`{"num1":2}`)) || exec.ErrorMessage == "" {
			t.Errorf("GET /executions/%d = status %s, error %s: %q, input %s; want the failed execution",
				id, exec.Status, exec.ErrorType, exec.ErrorMessage, exec.Input)
		}
	})

	t.Run("execute asynchronously", func(t *testing.T) {
		job, err := c.ExecuteTaskAsync(ctx, "addition", apitypes.ExecuteRequest{Input: json.RawMessage(`{"num1":2,"num2":5}`)})
		if err != nil {
			t.Fatal(err)
		}
		if job.ID == 0 || job.TaskName != "addition" || job.Status != core.JobQueued {
			t.Errorf("async execute = job %d, task %q, status %s; want a queued addition job", job.ID, job.TaskName, job.Status)
		}
		done := waitJob(t, job.ID)
		if done.Status != core.JobCompleted || !jsonEqual(done.Output, []byte(`{"sum":7}`)) || done.ExecutionID == nil {
			t.Fatalf("job %d = status %s, output %s, execution %v (error %s: %s); want completed with {\"sum\":7}",
				job.ID, done.Status, done.Output, done.ExecutionID, done.ErrorType, done.ErrorMessage)
		}
		exec, err := c.GetExecution(ctx, *done.ExecutionID)
		if err != nil {
			t.Fatal(err)
		}
		if exec.JobID == nil || *exec.JobID != job.ID || exec.Status != core.ExecutionCompleted ||
			!jsonEqual(exec.Output, []byte(`{"sum":7}`)) || exec.Attempt != 1 {
			t.Errorf("execution %d = job %v, status %s, output %s, attempt %d", exec.ID, exec.JobID, exec.Status, exec.Output, exec.Attempt)
		}
		delivered = append(delivered, done)
	})

	var createdJob *apitypes.Job
	t.Run("create job", func(t *testing.T) {
		req := apitypes.CreateJobRequest{
			TaskID: "addition", Input: json.RawMessage(`{"num1":10,"num2":20}`), Priority: "high",
			IdempotencyKey: "e2e-create-job",
		}
		job, err := c.CreateJob(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != core.JobQueued || job.Priority != core.PriorityHigh || job.TaskName != "addition" {
			t.Errorf("POST /jobs = status %s, priority %s, task %q; want a queued high addition job", job.Status, job.Priority, job.TaskName)
		}
		again, err := c.CreateJob(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != job.ID {
			t.Errorf("POST /jobs with the same idempotency key = job %d, want the first job %d", again.ID, job.ID)
		}
		done := waitJob(t, job.ID)
		if done.Status != core.JobCompleted || !jsonEqual(done.Output, []byte(`{"sum":30}`)) {
			t.Fatalf("job %d = status %s, output %s (error %s: %s); want completed with {\"sum\":30}",
				job.ID, done.Status, done.Output, done.ErrorType, done.ErrorMessage)
		}
		createdJob = done
		delivered = append(delivered, done)
	})

	t.Run("schedule", func(t *testing.T) {
		sc, err := c.CreateSchedule(ctx, apitypes.CreateScheduleRequest{
			TaskID: "addition", Name: "e2e-every-second", CronExpression: "*/1 * * * * *",
			Input: json.RawMessage(`{"num1":1,"num2":1}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		if !sc.Enabled || sc.NextRunAt == nil {
			t.Errorf("POST /schedules = enabled %v, next_run_at %v; want an enabled schedule with a next run", sc.Enabled, sc.NextRunAt)
		}
		bySchedule := client.ListOptions{Filters: map[string][]string{"schedule_id": {strconv.FormatInt(sc.ID, 10)}}, End: 1000}
		var jobs []apitypes.Job
		waitFor(t, jobDeadline, "two jobs of the schedule", func() (bool, string) {
			var err error
			jobs, _, err = c.ListJobs(ctx, bySchedule)
			if err != nil {
				return false, err.Error()
			}
			return len(jobs) >= 2, strconv.Itoa(len(jobs)) + " jobs"
		})
		for _, j := range jobs {
			if j.ScheduleID == nil || *j.ScheduleID != sc.ID || j.TaskName != "addition" || !jsonEqual(j.Input, []byte(`{"num1":1,"num2":1}`)) {
				t.Errorf("job %d of schedule %d = schedule_id %v, task %q, input %s", j.ID, sc.ID, j.ScheduleID, j.TaskName, j.Input)
			}
		}

		off, err := c.DisableSchedule(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if off.Enabled || off.NextRunAt != nil || off.ExecutionCount < 2 {
			t.Errorf("disable = enabled %v, next_run_at %v, execution_count %d", off.Enabled, off.NextRunAt, off.ExecutionCount)
		}
		// A disabled schedule fires no more: after two more would-be ticks
		// the count and the jobs are those at the disable.
		time.Sleep(2500 * time.Millisecond)
		later, err := c.GetSchedule(ctx, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		jobs, total, err := c.ListJobs(ctx, bySchedule)
		if err != nil {
			t.Fatal(err)
		}
		if later.ExecutionCount != off.ExecutionCount || total != off.ExecutionCount || len(jobs) != total {
			t.Errorf("after disable: execution_count %d → %d, %d jobs (X-Total-Count %d); want no new job",
				off.ExecutionCount, later.ExecutionCount, len(jobs), total)
		}
		for _, j := range jobs {
			done := waitJob(t, j.ID)
			if done.Status != core.JobCompleted || !jsonEqual(done.Output, []byte(`{"sum":2}`)) {
				t.Errorf("scheduled job %d = status %s, output %s (error %s: %s)", j.ID, done.Status, done.Output, done.ErrorType, done.ErrorMessage)
			}
		}
	})

	t.Run("deliveries", func(t *testing.T) {
		if len(delivered) == 0 {
			t.Fatal("no completed job to check: see the execute and create job subtests")
		}
		for _, job := range delivered {
			checkDeliveries(t, c, hook, env.outDir, job)
		}
		if bad := hook.refused(); len(bad) > 0 {
			t.Errorf("the webhook refused %d requests:\n%s", len(bad), strings.Join(bad, "\n"))
		}
	})

	t.Run("health, metrics, openapi", func(t *testing.T) {
		h, err := c.HealthDetailed(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if h.Status != apitypes.HealthOK {
			t.Errorf("GET /health/detailed status = %q, want ok: %+v", h.Status, h.Checks)
		}
		for _, name := range []string{"database", "workers", "scheduler", "queue"} {
			if ch, ok := h.Checks[name]; !ok || ch.Status != apitypes.HealthOK {
				t.Errorf("GET /health/detailed check %s = %+v (present %v), want ok", name, ch, ok)
			}
		}

		metrics, err := c.Metrics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantSeries := map[string][]string{
			"ratchet_http_requests_total{": {`route="/api/v1/tasks/:id/execute"`},
			"ratchet_jobs_total{":          {`status="completed"`, `task="addition"`},
		}
		for prefix, labels := range wantSeries {
			found := slices.ContainsFunc(strings.Split(string(metrics), "\n"), func(line string) bool {
				if !strings.HasPrefix(line, prefix) {
					return false
				}
				for _, l := range labels {
					if !strings.Contains(line, l) {
						return false
					}
				}
				return true
			})
			if !found {
				t.Errorf("GET /metrics has no %s…} series with %v", prefix, labels)
			}
		}

		raw, err := c.OpenAPIJSON(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			OpenAPI string                     `json:"openapi"`
			Paths   map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("GET /api/v1/openapi.json is not JSON: %v", err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.") {
			t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
		}
		for _, p := range []string{"/api/v1/tasks/{id}/execute", "/api/v1/jobs", "/api/v1/schedules/{id}/disable", "/api/v1/deliveries"} {
			if _, ok := doc.Paths[p]; !ok {
				t.Errorf("the OpenAPI document has no path %s", p)
			}
		}
	})

	t.Run("remote CLI", func(t *testing.T) {
		server := "--server=" + srv.url

		code, out, errOut := runCLI(ctx, "task", "list", "-o", "json", server)
		var tasks []apitypes.Task
		if code != 0 || json.Unmarshal([]byte(out), &tasks) != nil || len(tasks) != 4 {
			t.Errorf("ratchet task list -o json: exit %d, %d tasks\nstdout: %s\nstderr: %s", code, len(tasks), out, errOut)
		}

		code, out, errOut = runCLI(ctx, "task", "list", server)
		if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "weather-api") {
			t.Errorf("ratchet task list: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}

		code, out, errOut = runCLI(ctx, "task", "execute", "addition", "--input-json", `{"num1":4,"num2":5}`, server)
		if code != 0 || !jsonEqual([]byte(out), []byte(`{"sum":9}`)) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("ratchet task execute addition: exit %d, stdout %q (want the output JSON on one line)\nstderr: %s", code, out, errOut)
		}

		code, out, errOut = runCLI(ctx, "task", "execute", "addition", "--input-json", `{"num1":4}`, server)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "InputValidationError: ") {
			t.Errorf("ratchet task execute addition (invalid input): exit %d, stdout %q, stderr %q; want exit 1 and \"InputValidationError: …\" on stderr",
				code, out, errOut)
		}

		code, out, errOut = runCLI(ctx, "task", "execute", "addition", "--input-json", `{"num1":6,"num2":7}`, "--async", "--wait", "-o", "json", server)
		var waited apitypes.Job
		if code != 0 || json.Unmarshal([]byte(out), &waited) != nil || waited.Status != core.JobCompleted ||
			!jsonEqual(waited.Output, []byte(`{"sum":13}`)) {
			t.Errorf("ratchet task execute addition --async --wait -o json: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}

		code, out, errOut = runCLI(ctx, "schedule", "list", "-o", "json", server)
		var schedules []apitypes.Schedule
		if code != 0 || json.Unmarshal([]byte(out), &schedules) != nil || len(schedules) != 1 ||
			schedules[0].Name != "e2e-every-second" || schedules[0].Enabled {
			t.Errorf("ratchet schedule list -o json: exit %d, want the disabled e2e schedule\nstdout: %s\nstderr: %s", code, out, errOut)
		}

		if createdJob == nil {
			t.Fatal("no job to get: see the create job subtest")
		}
		id := strconv.FormatInt(createdJob.ID, 10)
		code, out, errOut = runCLI(ctx, "job", "get", id, server)
		if code != 0 || !strings.Contains(out, "completed") || !strings.Contains(out, "addition") {
			t.Errorf("ratchet job get %s: exit %d\nstdout: %s\nstderr: %s", id, code, out, errOut)
		}
		code, out, errOut = runCLI(ctx, "job", "get", id, "-o", "json", server)
		var job apitypes.Job
		if code != 0 || json.Unmarshal([]byte(out), &job) != nil || job.ID != createdJob.ID || job.Status != core.JobCompleted ||
			!jsonEqual(job.Output, []byte(`{"sum":30}`)) {
			t.Errorf("ratchet job get %s -o json: exit %d\nstdout: %s\nstderr: %s", id, code, out, errOut)
		}

		code, _, errOut = runCLI(ctx, "job", "get", "987654", server)
		if code != 1 || !strings.Contains(errOut, "NotFoundError") {
			t.Errorf("ratchet job get 987654: exit %d, stderr %q; want exit 1 and a NotFoundError", code, errOut)
		}
	})

	// A job still running at SIGTERM finishes (or is requeued) rather than
	// being lost: async-pipeline sleeps delayMs per word.
	var draining *apitypes.Job
	t.Run("shutdown", func(t *testing.T) {
		job, err := c.ExecuteTaskAsync(ctx, "async-pipeline", apitypes.ExecuteRequest{
			Input: json.RawMessage(`{"words":["Beta","alpha"],"delayMs":1000}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		draining = job
		waitFor(t, jobDeadline, "the async-pipeline job to start", func() (bool, string) {
			j, err := c.GetJob(ctx, job.ID)
			if err != nil {
				return false, err.Error()
			}
			return j.Status != core.JobQueued, "status " + string(j.Status)
		})
		stopAndCheck(t, c, srv)
	})

	t.Run("restart", func(t *testing.T) {
		if draining == nil {
			t.Fatal("no job ran at shutdown: see the shutdown subtest")
		}
		srv := env.start(t)
		srv.waitReady(t)
		c, err := client.New(srv.url, client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		var job *apitypes.Job
		waitFor(t, jobDeadline, "the job running at shutdown to complete", func() (bool, string) {
			job, err = c.GetJob(ctx, draining.ID)
			if err != nil {
				return false, err.Error()
			}
			return job.Status.Terminal(), "status " + string(job.Status)
		})
		if job.Status != core.JobCompleted || !jsonEqual(job.Output, []byte(`{"words":["beta","alpha"],"count":2}`)) {
			t.Errorf("job %d running at shutdown = status %s, output %s (error %s: %s), attempts %d; want completed",
				job.ID, job.Status, job.Output, job.ErrorType, job.ErrorMessage, job.Attempts)
		} else {
			checkDeliveries(t, c, hook, env.outDir, job)
		}
		if createdJob != nil {
			if j, err := c.GetJob(ctx, createdJob.ID); err != nil || j.Status != core.JobCompleted {
				t.Errorf("after a restart, job %d = %+v, %v; want it kept, completed", createdJob.ID, j, err)
			}
		}
		stopAndCheck(t, c, srv)
	})
}

// stopAndCheck stops srv with SIGTERM and checks that it exits 0, having
// stopped its worker processes.
func stopAndCheck(t *testing.T, c *client.Client, srv *serveProc) {
	t.Helper()
	workers, _, err := c.ListWorkers(t.Context(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pid := srv.cmd.Process.Pid
	children := childrenOf(pid)
	if len(workers) != 2 {
		t.Errorf("GET /workers = %d workers, want 2", len(workers))
	}
	for _, w := range workers {
		if !slices.ContainsFunc(children, func(p procInfo) bool { return p.pid == w.PID }) {
			t.Errorf("worker %s has pid %d, which is no child of ratchet serve (pid %d)", w.ID, w.PID, pid)
		}
	}

	code, err := srv.stop()
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Errorf("ratchet serve exited with %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(srv.log.String(), `msg="ratchet stopped"`) {
		t.Errorf("ratchet serve did not log %q", "ratchet stopped")
	}
	// Orphans would be reparented, not killed: nothing serve started may
	// be left (the wait lets the kernel finish the exits).
	var left []string
	waitFor(t, 5*time.Second, "the worker processes to be gone", func() (bool, string) {
		left = nil
		for _, p := range children {
			if running(p) {
				left = append(left, strconv.Itoa(p.pid)+" "+strings.Join(p.argv, " "))
			}
		}
		for _, p := range workerProcs(srv.exe) {
			left = append(left, strconv.Itoa(p.pid)+" "+strings.Join(p.argv, " "))
		}
		return len(left) == 0, "still running: " + strings.Join(left, "; ")
	})
}

// checkDeliveries checks that job's output reached both global
// destinations: GET /deliveries?job_id=… lists a successful filesystem and
// a successful webhook delivery, the file holds the output, and the webhook
// received it signed.
func checkDeliveries(t *testing.T, c *client.Client, hook *webhookReceiver, outDir string, job *apitypes.Job) {
	t.Helper()
	ctx := t.Context()
	opts := client.ListOptions{Filters: map[string][]string{"job_id": {strconv.FormatInt(job.ID, 10)}}}
	var ds []apitypes.Delivery
	waitFor(t, jobDeadline, "the deliveries of job "+strconv.FormatInt(job.ID, 10), func() (bool, string) {
		var err error
		ds, _, err = c.ListDeliveries(ctx, opts)
		if err != nil {
			return false, err.Error()
		}
		var fs, wh bool
		for _, d := range ds {
			fs = fs || (d.DestinationType == "filesystem" && d.Success)
			wh = wh || (d.DestinationType == "webhook" && d.Success)
		}
		b, _ := json.Marshal(ds)
		return fs && wh, string(b)
	})

	wantFile := filepath.Join(outDir, job.TaskName, job.UUID+".json")
	for _, d := range ds {
		if d.JobID != job.ID {
			t.Errorf("GET /deliveries?job_id=%d lists delivery %d of job %d", job.ID, d.ID, d.JobID)
		}
		if !d.Success {
			t.Errorf("job %d: %s delivery to %s failed (attempt %d): %s", job.ID, d.DestinationType, d.Destination, d.Attempts, d.ErrorMessage)
			continue
		}
		if d.ExecutionID == nil || job.ExecutionID == nil || *d.ExecutionID != *job.ExecutionID {
			t.Errorf("job %d: %s delivery execution_id %v, want the job's execution %v", job.ID, d.DestinationType, d.ExecutionID, job.ExecutionID)
		}
		switch d.DestinationType {
		case "filesystem":
			if d.Destination != wantFile {
				t.Errorf("job %d: filesystem delivery to %s, want %s", job.ID, d.Destination, wantFile)
			}
		case "webhook":
			if d.StatusCode == nil || *d.StatusCode != http.StatusOK {
				t.Errorf("job %d: webhook delivery status_code %v, want 200", job.ID, d.StatusCode)
			}
		default:
			t.Errorf("job %d: unexpected destination type %q", job.ID, d.DestinationType)
		}
	}

	data, err := os.ReadFile(wantFile)
	if err != nil {
		t.Errorf("job %d: the delivered file: %v", job.ID, err)
	} else if !jsonEqual(data, job.Output) {
		t.Errorf("job %d: %s holds %s, want the output %s", job.ID, wantFile, data, job.Output)
	}

	calls := hook.callsFor(job.ID)
	if len(calls) == 0 {
		t.Errorf("job %d: the webhook received nothing for it", job.ID)
	}
	for _, call := range calls {
		env := call.envelope
		if call.path != "/hooks/"+job.TaskName || call.deliveryID == "" || env.JobUUID != job.UUID ||
			env.TaskName != job.TaskName || env.Status != string(core.JobCompleted) || !jsonEqual(env.Output, job.Output) {
			t.Errorf("job %d: webhook request to %s (delivery %q) = %+v (output %s); want the job's completed envelope",
				job.ID, call.path, call.deliveryID, env, env.Output)
		}
	}
}
