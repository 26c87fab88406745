package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/app"
	"github.com/ratchet-go/ratchet/lib/service"
)

func TestJobCompletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	task := e.task("echo", jsEcho, "")
	job := e.enqueue(service.CreateJob{TaskRef: "echo", Input: json.RawMessage(`{"n":1}`)})
	if job.TaskID != task.ID || job.Status != core.JobQueued || job.Priority != core.PriorityNormal || job.MaxRetries != 3 {
		t.Fatalf("enqueued job = %+v", job)
	}
	done := e.waitJob(job.ID, 10*time.Second, core.JobCompleted)
	var out struct {
		Echo      map[string]int `json:"echo"`
		Attempt   int            `json:"attempt"`
		Job       int64          `json:"job"`
		Execution string         `json:"execution"`
	}
	if err := json.Unmarshal(done.Output, &out); err != nil {
		t.Fatal(err)
	}
	if out.Echo["n"] != 1 || out.Attempt != 1 || out.Job != job.ID {
		t.Errorf("output = %s", done.Output)
	}
	execs := e.executions(job.ID)
	if len(execs) != 1 {
		t.Fatalf("executions = %d, want 1", len(execs))
	}
	x := execs[0]
	if x.Status != core.ExecutionCompleted || x.WorkerID == "" || x.Attempt != 1 || x.DurationMS == nil ||
		done.ExecutionID == nil || *done.ExecutionID != x.ID || out.Execution != itoa(x.ID) || x.StartedAt == nil || x.CompletedAt == nil {
		t.Errorf("execution = %+v (job execution_id %v)", x, done.ExecutionID)
	}
	// By uuid and by name, too.
	if _, _, err := e.svc.Jobs().Create(context.Background(), service.CreateJob{TaskRef: task.UUID}); err != nil {
		t.Errorf("enqueue by uuid: %v", err)
	}
	_, _, err := e.svc.Jobs().Create(context.Background(), service.CreateJob{TaskRef: "nope"})
	if core.KindOf(err) != core.KindNotFound {
		t.Errorf("unknown task: err = %v, want NotFoundError", err)
	}
}

func TestPriorityOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", workers(1), strictPriority())
	e.task("slow", jsSlow, "")
	blocker := e.enqueue(service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":400}`)})
	e.waitJob(blocker.ID, 10*time.Second, core.JobProcessing)
	prios := []core.Priority{core.PriorityLow, core.PriorityNormal, core.PriorityUrgent, core.PriorityHigh,
		core.PriorityLow, core.PriorityUrgent, core.PriorityNormal, core.PriorityHigh}
	var jobs []core.Job
	for _, p := range prios {
		jobs = append(jobs, e.enqueue(service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":1}`), Priority: ptr(p)}))
	}
	for _, j := range jobs {
		e.waitJob(j.ID, 20*time.Second, core.JobCompleted)
	}
	// Runs in priority order, FIFO within a priority.
	type started struct {
		prio core.Priority
		id   int64
		at   time.Time
	}
	var order []started
	for _, j := range jobs {
		x := e.executions(j.ID)[0]
		order = append(order, started{j.Priority, j.ID, *x.StartedAt})
	}
	for i := range order {
		for k := range order {
			a, b := order[i], order[k]
			before := a.prio > b.prio || (a.prio == b.prio && a.id < b.id)
			if before && !a.at.Before(b.at) {
				t.Errorf("job %d (%s) started at %s, not before job %d (%s) at %s", a.id, a.prio, a.at, b.id, b.prio, b.at)
			}
		}
	}
}

func TestDelayedJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("echo", jsEcho, "")
	at := time.Now().Add(1200 * time.Millisecond)
	job := e.enqueue(service.CreateJob{TaskRef: "echo", ProcessAt: at})
	time.Sleep(600 * time.Millisecond)
	if j, _ := e.svc.Jobs().Get(context.Background(), itoa(job.ID)); j.Status != core.JobQueued {
		t.Fatalf("delayed job is %s before its process_at", j.Status)
	}
	e.waitJob(job.ID, 10*time.Second, core.JobCompleted)
	x := e.executions(job.ID)[0]
	if x.StartedAt.Before(at.Add(-time.Millisecond)) {
		t.Errorf("started at %s, before process_at %s", x.StartedAt, at)
	}
	if late := x.StartedAt.Sub(at); late > 500*time.Millisecond {
		t.Errorf("started %s after process_at: the dispatcher did not wake on time", late)
	}
}

func TestRetriesWithBackoffThenFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("netfail", jsNetFail, "")
	e.task("flaky", jsFlaky, "")
	job := e.enqueue(service.CreateJob{TaskRef: "netfail", MaxRetries: ptr(2), RetryDelaySeconds: ptr(1)})
	flaky := e.enqueue(service.CreateJob{TaskRef: "flaky", MaxRetries: ptr(3), RetryDelaySeconds: ptr(0)})

	done := e.waitJob(job.ID, 15*time.Second, core.JobFailed)
	if done.Attempts != 3 || done.ErrorType != string(core.KindNetwork) || !strings.Contains(done.ErrorMessage, "upstream down") {
		t.Errorf("failed job = attempts %d, %s: %s", done.Attempts, done.ErrorType, done.ErrorMessage)
	}
	execs := e.executions(job.ID)
	if len(execs) != 3 {
		t.Fatalf("executions = %d, want 3", len(execs))
	}
	for i, x := range execs {
		if x.Status != core.ExecutionFailed || x.Attempt != i+1 || x.ErrorType != string(core.KindNetwork) {
			t.Errorf("execution %d = %s attempt %d %s", i, x.Status, x.Attempt, x.ErrorType)
		}
	}
	// retry_delay 1 s doubling, ±10% jitter: ~1 s, then ~2 s.
	gap1 := execs[1].StartedAt.Sub(*execs[0].CompletedAt)
	gap2 := execs[2].StartedAt.Sub(*execs[1].CompletedAt)
	if gap1 < 850*time.Millisecond || gap1 > 1600*time.Millisecond || gap2 < 1750*time.Millisecond || gap2 > 2700*time.Millisecond {
		t.Errorf("backoff gaps = %s, %s; want ~1s and ~2s", gap1, gap2)
	}

	ok := e.waitJob(flaky.ID, 15*time.Second, core.JobCompleted)
	if ok.Attempts != 3 || string(ok.Output) != `{"ok":3}` {
		t.Errorf("flaky job = attempts %d output %s", ok.Attempts, ok.Output)
	}
}

func TestNonRetryableFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("bad", jsBadInput, "")
	e.task("typed", jsEcho, `{"type":"object","required":["name"]}`)
	job := e.enqueue(service.CreateJob{TaskRef: "bad", MaxRetries: ptr(3), RetryDelaySeconds: ptr(0)})
	schema := e.enqueue(service.CreateJob{TaskRef: "typed", Input: json.RawMessage(`{"x":1}`), MaxRetries: ptr(3)})
	for _, c := range []struct {
		id   int64
		kind core.ErrorKind
	}{{job.ID, core.KindValidation}, {schema.ID, core.KindInputValidation}} {
		done := e.waitJob(c.id, 10*time.Second, core.JobFailed)
		if done.Attempts != 1 || done.ErrorType != string(c.kind) {
			t.Errorf("job %d: attempts %d, error %s; want 1 attempt and %s", c.id, done.Attempts, done.ErrorType, c.kind)
		}
		if n := len(e.executions(c.id)); n != 1 {
			t.Errorf("job %d: %d executions, want 1", c.id, n)
		}
	}
}

func TestCancelQueuedAndRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.task("slow", jsSlow, "")
	ctx := context.Background()

	queued := e.enqueue(service.CreateJob{TaskRef: "slow", ProcessAt: time.Now().Add(time.Hour)})
	c, err := e.svc.Jobs().Cancel(ctx, queued.ID)
	if err != nil || c.Status != core.JobCancelled {
		t.Fatalf("cancel queued: %v %v", c.Status, err)
	}
	if _, err := e.svc.Jobs().Cancel(ctx, queued.ID); !errors.Is(err, core.ErrConflict) {
		t.Errorf("cancelling twice: err = %v, want ConflictError", err)
	}
	if n := len(e.executions(queued.ID)); n != 0 {
		t.Errorf("cancelled queued job has %d executions", n)
	}

	running := e.enqueue(service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":30000}`)})
	e.waitJob(running.ID, 10*time.Second, core.JobProcessing)
	eventually(t, 5*time.Second, "the execution to run", func() bool {
		x := e.executions(running.ID)
		return len(x) == 1 && x[0].Status == core.ExecutionRunning
	})
	time.Sleep(100 * time.Millisecond) // let the worker start it
	// A processing job shows its attempt's execution (SPEC §4.1).
	processing, err := e.svc.Jobs().Get(ctx, itoa(running.ID))
	if err != nil {
		t.Fatal(err)
	}
	runningExec := e.executions(running.ID)[0].ID
	if processing.ExecutionID == nil || *processing.ExecutionID != runningExec {
		t.Errorf("processing job: execution_id = %v, want %d", processing.ExecutionID, runningExec)
	}
	began := time.Now()
	if _, err := e.svc.Jobs().Cancel(ctx, running.ID); err != nil {
		t.Fatalf("cancel running: %v", err)
	}
	eventually(t, 10*time.Second, "the running execution to end cancelled", func() bool {
		x := e.executions(running.ID)
		return len(x) == 1 && x[0].Status == core.ExecutionCancelled
	})
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("cancelling took %s", took)
	}
	j := e.waitJob(running.ID, time.Second, core.JobCancelled)
	if j.ErrorType != string(core.KindCancelled) {
		t.Errorf("cancelled job error type = %q", j.ErrorType)
	}
	if j.ExecutionID == nil || *j.ExecutionID != runningExec {
		t.Errorf("cancelled running job: execution_id = %v, want %d", j.ExecutionID, runningExec)
	}
	// The workers still work.
	after := e.enqueue(service.CreateJob{TaskRef: "slow", Input: json.RawMessage(`{"ms":1}`)})
	e.waitJob(after.ID, 10*time.Second, core.JobCompleted)

	// A cancelled job can be retried.
	r, err := e.svc.Jobs().Retry(ctx, queued.ID)
	if err != nil || r.Status != core.JobQueued || r.Attempts != 0 {
		t.Fatalf("retry: %+v %v", r, err)
	}
}

func TestIdempotencyAndQueueBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "", func(c *config.Config, _ *app.Options) { c.Server.JobQueue.MaxQueueSize = 3 })
	e.task("echo", jsEcho, "")
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	a, existed, err := e.svc.Jobs().Create(ctx, service.CreateJob{TaskRef: "echo", IdempotencyKey: "k1", ProcessAt: later})
	if err != nil || existed {
		t.Fatalf("first: %v existed=%v", err, existed)
	}
	b, existed, err := e.svc.Jobs().Create(ctx, service.CreateJob{TaskRef: "echo", IdempotencyKey: "k1", Input: json.RawMessage(`{"other":true}`)})
	if err != nil || !existed || b.ID != a.ID {
		t.Fatalf("second: id %d (first %d) existed=%v err=%v", b.ID, a.ID, existed, err)
	}
	for range 2 {
		e.enqueue(service.CreateJob{TaskRef: "echo", ProcessAt: later})
	}
	_, _, err = e.svc.Jobs().Create(ctx, service.CreateJob{TaskRef: "echo", ProcessAt: later})
	if !errors.Is(err, core.ErrRateLimited) || core.HTTPStatusOf(err) != http.StatusTooManyRequests {
		t.Fatalf("beyond max_queue_size: err = %v (status %d), want RateLimitError 429", err, core.HTTPStatusOf(err))
	}
	// Bad requests are 400s.
	for name, req := range map[string]service.CreateJob{
		"input":       {TaskRef: "echo", Input: json.RawMessage(`{nope`)},
		"priority":    {TaskRef: "echo", Priority: ptr(core.Priority(9))},
		"retries":     {TaskRef: "echo", MaxRetries: ptr(-1)},
		"destination": {TaskRef: "echo", OutputDestinations: []core.OutputDestination{{Type: "ftp"}}},
	} {
		if _, _, err := e.svc.Jobs().Create(ctx, req); core.HTTPStatusOf(err) != http.StatusBadRequest {
			t.Errorf("%s: err = %v (status %d), want 400", name, err, core.HTTPStatusOf(err))
		}
	}
	st, err := e.svc.Jobs().Stats(ctx)
	if err != nil || st.ByStatus[core.JobQueued] != 3 || st.Queued["normal"] != 3 || st.Active != 3 {
		t.Errorf("stats = %+v, %v", st, err)
	}
}
