package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// A node that dies with jobs processing: a new process of the same node
// runs each job again, and each completes once.
func TestRestartRunsInterruptedJobsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("slow", jsSlow, "")
	var jobs []core.Job
	for range 2 {
		jobs = append(jobs, e.enqueue(service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":700}`)}))
	}
	for _, j := range jobs {
		e.waitJob(j.ID, 10*time.Second, core.JobProcessing)
	}
	time.Sleep(100 * time.Millisecond)
	e.app.Kill()
	e.start() // same database, same node name

	for _, j := range jobs {
		done := e.waitJob(j.ID, 15*time.Second, core.JobCompleted)
		if done.Attempts != 2 {
			t.Errorf("job %d: attempts %d, want 2", j.ID, done.Attempts)
		}
		execs := e.executions(j.ID)
		completed := 0
		for _, x := range execs {
			switch x.Status {
			case core.ExecutionCompleted:
				completed++
			case core.ExecutionFailed:
				if x.ErrorType != string(core.KindWorkerCrash) {
					t.Errorf("job %d: interrupted execution ended %s", j.ID, x.ErrorType)
				}
			default:
				t.Errorf("job %d: execution %d left %s", j.ID, x.ID, x.Status)
			}
		}
		if completed != 1 || len(execs) != 2 {
			t.Errorf("job %d: %d executions, %d completed; want 2 and 1", j.ID, len(execs), completed)
		}
	}
}

// A draining stop requeues what it cannot finish in time; the next start
// runs it.
func TestShutdownRequeuesRunningJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("slow", jsSlow, "")
	job := e.enqueue(service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":3000}`)})
	e.waitJob(job.ID, 10*time.Second, core.JobProcessing)
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_ = e.app.Stop(ctx) // cut short on purpose
	cancel()
	st, err := sqlstore.Open(context.Background(), "sqlite://"+e.db, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j, err := st.Jobs().Get(context.Background(), job.ID)
	if err != nil || j.Status != core.JobQueued {
		t.Fatalf("after a cut-short drain the job is %s (%v), want queued", j.Status, err)
	}
	x, err := st.Executions().List(context.Background(), core.ListQuery{
		Filters: []core.Filter{{Field: "job_id", Op: core.OpEq, Values: []string{itoa(job.ID)}}}})
	if err != nil || len(x.Items) != 1 || x.Items[0].Status != core.ExecutionCancelled {
		t.Fatalf("the interrupted execution = %+v (%v), want one cancelled", x.Items, err)
	}
	e.start() // runs it to the end
	e.waitJob(job.ID, 15*time.Second, core.JobCompleted)
}

func TestScheduleFiresEverySecondAcrossRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("echo", jsEcho, "")
	ctx := context.Background()
	sc, err := e.svc.Schedules().Create(ctx, service.ScheduleInput{
		TaskRef: ptr("echo"), CronExpression: ptr("* * * * * *"), Name: ptr("every-second"),
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() []core.Job {
		p, err := e.svc.Jobs().List(ctx, core.ListQuery{
			Filters: []core.Filter{{Field: "schedule_id", Op: core.OpEq, Values: []string{itoa(sc.ID)}}}, Limit: 1000,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	start := time.Now()
	time.Sleep(3 * time.Second)
	e.restart()
	time.Sleep(2 * time.Second)
	if _, err := e.svc.Schedules().Disable(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	jobs := count()
	n := int(elapsed / time.Second)
	if len(jobs) < n-1 || len(jobs) > n+1 {
		t.Errorf("%d jobs in %s, want %d±1", len(jobs), elapsed, n)
	}
	seen := map[any]bool{}
	for _, j := range jobs {
		tick := j.Metadata["scheduled_at"]
		if seen[tick] {
			t.Errorf("tick %v enqueued twice", tick)
		}
		seen[tick] = true
	}
	for _, j := range jobs {
		e.waitJob(j.ID, 10*time.Second, core.JobCompleted)
	}
}

func TestWebhookDeliveryWithRetriesAndSignature(t *testing.T) {
	t.Parallel()
	const secret = "s3cret"
	var (
		mu       sync.Mutex
		bodies   [][]byte
		verified []bool
		calls    atomic.Int32
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, body)
		verified = append(verified, delivery.VerifySignature(secret, body, r.Header.Get("X-Ratchet-Signature")))
		mu.Unlock()
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, "")
	e.task("echo", jsEcho, "")
	dest := core.OutputDestination{Type: "webhook", Config: map[string]any{
		"url":          srv.URL + "/hook/{{task_name}}",
		"signature":    map[string]any{"secret": secret},
		"retry_policy": map[string]any{"max_attempts": 3, "initial_delay_ms": 50},
	}}
	job := e.enqueue(service.CreateJob{TaskRef: "echo", Input: json.RawMessage(`{"hello":"world"}`), OutputDestinations: []core.OutputDestination{dest}})
	e.waitJob(job.ID, 10*time.Second, core.JobCompleted)
	var recs []core.DeliveryResult
	eventually(t, 10*time.Second, "two delivery attempts stored", func() bool {
		p, err := e.svc.Deliveries().List(context.Background(), core.ListQuery{
			Filters: []core.Filter{{Field: "job_id", Op: core.OpEq, Values: []string{itoa(job.ID)}}},
			Sort:    []core.SortField{{Field: "id"}},
		})
		recs = p.Items
		return err == nil && len(recs) == 2
	})
	if recs[0].Success || recs[0].StatusCode == nil || *recs[0].StatusCode != 503 || !recs[1].Success || recs[1].Attempts != 2 {
		t.Errorf("delivery records = %+v", recs)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range bodies {
		if !verified[i] {
			t.Errorf("attempt %d: signature does not verify", i+1)
		}
		if !strings.Contains(string(bodies[i]), `"hello":"world"`) {
			t.Errorf("attempt %d: body %s lacks the output", i+1, bodies[i])
		}
	}
}

func TestFilesystemDeliveryWithTemplatedPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := newEnv(t, "")
	e.task("echo", jsEcho, "")
	dest := core.OutputDestination{Type: "filesystem", Config: map[string]any{
		"path": filepath.Join(dir, "out", "{{task_name}}_{{job_uuid}}.json"),
	}}
	job := e.enqueue(service.CreateJob{TaskRef: "echo", Input: json.RawMessage(`{"n":42}`), OutputDestinations: []core.OutputDestination{dest}})
	e.waitJob(job.ID, 10*time.Second, core.JobCompleted)
	want := filepath.Join(dir, "out", "echo_"+job.UUID+".json")
	var data []byte
	eventually(t, 10*time.Second, "the output file", func() bool {
		var err error
		data, err = os.ReadFile(want)
		return err == nil
	})
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil || out["echo"].(map[string]any)["n"] != float64(42) {
		t.Errorf("file %s = %s (%v)", want, data, err)
	}
}

func TestSyncExecute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("echo", jsEcho, `{"type":"object","required":["name"]}`)
	e.task("bad", jsBadInput, "")
	e.task("teapot", jsHTTPError, "")
	e.task("slow", jsSlow, "")
	ctx := context.Background()

	res, err := e.svc.Tasks().Execute(ctx, "echo", service.ExecuteTask{Input: json.RawMessage(`{"name":"x"}`)})
	if err != nil || res.Execution == nil || res.Execution.Status != core.ExecutionCompleted || res.Execution.JobID != nil ||
		!strings.Contains(string(res.Execution.Output), `"name":"x"`) || res.Execution.WorkerID == "" {
		t.Fatalf("execute = %+v, %v", res.Execution, err)
	}
	for _, c := range []struct {
		task, input string
		timeout     int
		kind        core.ErrorKind
		status      int
		exec        core.ExecutionStatus
	}{
		{"echo", `{}`, 0, core.KindInputValidation, 400, core.ExecutionFailed},
		{"bad", `{}`, 0, core.KindValidation, 400, core.ExecutionFailed},
		{"teapot", `{}`, 0, core.KindHTTP, 418, core.ExecutionFailed},
		{"slow", `{"ms":5000}`, 1, core.KindTimeout, 504, core.ExecutionFailed},
	} {
		res, err := e.svc.Tasks().Execute(ctx, c.task, service.ExecuteTask{Input: json.RawMessage(c.input), TimeoutSeconds: c.timeout})
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Kind != c.kind || core.HTTPStatusOf(err) != c.status {
			t.Errorf("%s: err = %v (status %d), want %s %d", c.task, err, core.HTTPStatusOf(err), c.kind, c.status)
			continue
		}
		if res.Execution == nil || res.Execution.Status != c.exec || res.Execution.ErrorType != string(c.kind) || ce.Details["execution_id"] != res.Execution.ID {
			t.Errorf("%s: execution = %+v, details %v", c.task, res.Execution, ce.Details)
		}
	}
	// Async returns the queued urgent job.
	res, err = e.svc.Tasks().Execute(ctx, "echo", service.ExecuteTask{Input: json.RawMessage(`{"name":"y"}`), Async: true})
	if err != nil || res.Job == nil || res.Job.Priority != core.PriorityUrgent {
		t.Fatalf("async execute = %+v, %v", res.Job, err)
	}
	e.waitJob(res.Job.ID, 10*time.Second, core.JobCompleted)
	// Unknown task and disabled task.
	if _, err := e.svc.Tasks().Execute(ctx, "missing", service.ExecuteTask{}); core.KindOf(err) != core.KindNotFound {
		t.Errorf("missing task: %v", err)
	}
	if _, err := e.svc.Tasks().Disable(ctx, "bad"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Tasks().Execute(ctx, "bad", service.ExecuteTask{}); !errors.Is(err, core.ErrConflict) {
		t.Errorf("disabled task: %v", err)
	}
}
