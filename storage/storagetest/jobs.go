package storagetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func testEnqueue(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "work")
	jobs := st.Jobs()

	in := core.Job{
		TaskID: task.ID, Priority: core.PriorityHigh, Input: json.RawMessage(`{"n": 1}`),
		MaxRetries: 3, RetryDelaySeconds: 60, TimeoutSeconds: 30,
		OutputDestinations: []core.OutputDestination{{Type: core.DestinationWebhook, Config: map[string]any{"url": "http://x"}}},
		Metadata:           map[string]any{"source": "test"},
	}
	job, existed, err := jobs.Enqueue(ctx, in)
	noErr(t, err)
	if existed || job.ID == 0 || job.UUID == "" || job.Status != core.JobQueued || job.TaskName != "work" ||
		job.Priority != core.PriorityHigh || string(job.Input) != `{"n": 1}` || job.Attempts != 0 ||
		job.ProcessAt.IsZero() || job.CreatedAt.IsZero() || job.MaxRetries != 3 || job.TimeoutSeconds != 30 {
		t.Fatalf("Enqueue = %+v", job)
	}
	if len(job.OutputDestinations) != 1 || job.OutputDestinations[0].Config["url"] != "http://x" || job.Metadata["source"] != "test" {
		t.Fatalf("destinations/metadata = %+v / %+v", job.OutputDestinations, job.Metadata)
	}
	got := must[core.Job](t)(jobs.Get(ctx, job.ID))
	if got.UUID != job.UUID || !got.ProcessAt.Equal(job.ProcessAt) || got.Priority != core.PriorityHigh {
		t.Fatalf("Get = %+v, want %+v", got, job)
	}
	must[core.Job](t)(jobs.GetByUUID(ctx, job.UUID))

	_, _, err = jobs.Enqueue(ctx, core.Job{TaskID: 999999})
	wantKind(t, err, core.KindNotFound)
	_, _, err = jobs.Enqueue(ctx, core.Job{})
	wantKind(t, err, core.KindInvalidArgument)
	_, _, err = jobs.Enqueue(ctx, core.Job{TaskID: task.ID, Priority: 9})
	wantKind(t, err, core.KindInvalidArgument)
	_, _, err = jobs.Enqueue(ctx, core.Job{TaskID: task.ID, Status: core.JobCompleted})
	wantKind(t, err, core.KindInvalidArgument)

	batch := make([]core.Job, 1200)
	for i := range batch {
		batch[i] = core.Job{TaskID: task.ID, Input: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
	}
	res := must[[]sqlstore.EnqueueResult](t)(jobs.EnqueueBatch(ctx, batch))
	if len(res) != len(batch) {
		t.Fatalf("EnqueueBatch returned %d results", len(res))
	}
	for i, r := range res {
		if r.Existed || r.Job.ID == 0 || string(r.Job.Input) != fmt.Sprintf(`{"i":%d}`, i) || r.Job.TaskName != "work" {
			t.Fatalf("batch result %d = %+v", i, r)
		}
		if i > 0 && r.Job.ID <= res[i-1].Job.ID {
			t.Fatalf("batch ids not increasing at %d", i)
		}
	}
	// A batch naming a missing task stores nothing.
	_, err = jobs.EnqueueBatch(ctx, []core.Job{{TaskID: task.ID}, {TaskID: 999999}})
	wantKind(t, err, core.KindNotFound)
	if n := must[int](t)(jobs.CountActive(ctx)); n != 1201 {
		t.Fatalf("CountActive = %d, want 1201", n)
	}

	// A job that is running cannot be deleted; a queued one can.
	wantKind(t, jobs.Delete(ctx, 999999), core.KindNotFound)
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "n1", 1, time.Minute))
	wantKind(t, jobs.Delete(ctx, claimed[0].ID), core.KindConflict)
	noErr(t, jobs.Delete(ctx, res[5].Job.ID))
	_, err = jobs.Get(ctx, res[5].Job.ID)
	wantKind(t, err, core.KindNotFound)
}

func testIdempotency(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "idem")
	jobs := st.Jobs()

	first, existed, err := jobs.Enqueue(ctx, core.Job{TaskID: task.ID, IdempotencyKey: "k1", Input: json.RawMessage(`1`)})
	noErr(t, err)
	if existed || first.IdempotencyKey != "k1" {
		t.Fatalf("first = %+v existed=%v", first, existed)
	}
	second, existed, err := jobs.Enqueue(ctx, core.Job{TaskID: task.ID, IdempotencyKey: "k1", Input: json.RawMessage(`2`)})
	noErr(t, err)
	if !existed || second.ID != first.ID || string(second.Input) != "1" {
		t.Fatalf("second = %+v existed=%v, want job %d", second, existed, first.ID)
	}

	res := must[[]sqlstore.EnqueueResult](t)(jobs.EnqueueBatch(ctx, []core.Job{
		{TaskID: task.ID},
		{TaskID: task.ID, IdempotencyKey: "k1"},
		{TaskID: task.ID, IdempotencyKey: "k2"},
		{TaskID: task.ID, IdempotencyKey: "k2"},
		{TaskID: task.ID},
	}))
	if res[0].Existed || !res[1].Existed || res[1].Job.ID != first.ID || res[2].Existed ||
		!res[3].Existed || res[3].Job.ID != res[2].Job.ID || res[4].Existed {
		t.Fatalf("batch with keys = %+v", res)
	}

	// Concurrent enqueues with one key yield one job.
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int64]int{}
	)
	for range 8 {
		wg.Go(func() {
			j, _, err := jobs.Enqueue(ctx, core.Job{TaskID: task.ID, IdempotencyKey: "race"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			ids[j.ID]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(ids) != 1 {
		t.Fatalf("concurrent enqueues with one key created %d jobs", len(ids))
	}
	page := must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Filters: []core.Filter{{Field: "idempotency_key", Op: core.OpEq, Values: []string{"race"}}}}))
	if page.Total != 1 {
		t.Fatalf("%d jobs with key race", page.Total)
	}
}

func testClaimOrder(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "order")
	jobs := st.Jobs()

	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := base
	st.SetClock(func() time.Time { return clock })
	var want []int64
	add := func(p core.Priority, n int) []int64 {
		var ids []int64
		for range n {
			clock = clock.Add(time.Millisecond)
			ids = append(ids, enqueue(t, st, core.Job{TaskID: task.ID, Priority: p}).ID)
		}
		return ids
	}
	low := add(core.PriorityLow, 3)
	normal := add(core.PriorityNormal, 3)
	urgent := add(core.PriorityUrgent, 2)
	high := add(core.PriorityHigh, 3)
	moreUrgent := add(core.PriorityUrgent, 1)
	want = append(append(append(append(append(want, urgent...), moreUrgent...), high...), normal...), low...)
	clock = clock.Add(time.Second)

	var got []int64
	for _, n := range []int{1, 4, 2, 10, 5} {
		claimed := must[[]core.Job](t)(jobs.Claim(ctx, "node-a", n, time.Minute))
		for _, j := range claimed {
			if j.Status != core.JobProcessing || j.Attempts != 1 || j.LeaseOwner != "node-a" ||
				j.LeaseExpiresAt == nil || !j.LeaseExpiresAt.Equal(clock.Add(time.Minute)) ||
				j.StartedAt == nil || !j.StartedAt.Equal(clock) {
				t.Fatalf("claimed job = %+v", j)
			}
			got = append(got, j.ID)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claim order = %v, want %v", got, want)
	}
	if more := must[[]core.Job](t)(jobs.Claim(ctx, "node-a", 5, time.Minute)); len(more) != 0 {
		t.Fatalf("claimed %d jobs from an empty queue", len(more))
	}
	if none := must[[]core.Job](t)(jobs.Claim(ctx, "node-a", 0, time.Minute)); len(none) != 0 {
		t.Fatal("claim of 0 returned jobs")
	}
	_, err := jobs.Claim(ctx, "", 1, time.Minute)
	wantKind(t, err, core.KindInvalidArgument)
	_, err = jobs.Claim(ctx, "n", 1, 0)
	wantKind(t, err, core.KindInvalidArgument)
}

func testClaimDelayed(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "delayed")
	jobs := st.Jobs()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := now
	st.SetClock(func() time.Time { return clock })

	later := enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityUrgent, ProcessAt: now.Add(time.Hour)})
	ready := enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityLow})
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "n", 10, time.Minute))
	if len(claimed) != 1 || claimed[0].ID != ready.ID {
		t.Fatalf("claimed %+v, want only job %d", claimed, ready.ID)
	}
	// A retry waits for its time too.
	must[core.Job](t)(jobs.Retry(ctx, ready.ID, now.Add(30*time.Minute), sqlstore.Outcome{ErrorType: "NetworkError", ErrorMessage: "down"}))
	if c := must[[]core.Job](t)(jobs.Claim(ctx, "n", 10, time.Minute)); len(c) != 0 {
		t.Fatalf("claimed %d jobs before their time", len(c))
	}
	clock = now.Add(30 * time.Minute)
	claimed = must[[]core.Job](t)(jobs.Claim(ctx, "n", 10, time.Minute))
	if len(claimed) != 1 || claimed[0].ID != ready.ID || claimed[0].Attempts != 2 {
		t.Fatalf("after the retry delay claimed %+v", claimed)
	}
	clock = now.Add(time.Hour)
	claimed = must[[]core.Job](t)(jobs.Claim(ctx, "n", 10, time.Minute))
	if len(claimed) != 1 || claimed[0].ID != later.ID {
		t.Fatalf("at process_at claimed %+v, want job %d", claimed, later.ID)
	}
}

func testClaimConcurrent(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "many")
	jobs := st.Jobs()

	const total = 500
	batch := make([]core.Job, total)
	for i := range batch {
		batch[i] = core.Job{TaskID: task.ID, Priority: core.Priority(i % 4)}
	}
	must[[]sqlstore.EnqueueResult](t)(jobs.EnqueueBatch(ctx, batch))

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int64]string{}
	)
	for w := range 8 {
		node := fmt.Sprintf("node-%d", w)
		wg.Go(func() {
			for {
				claimed, err := jobs.Claim(ctx, node, 7, time.Minute)
				if err != nil {
					t.Errorf("%s: claim: %v", node, err)
					return
				}
				if len(claimed) == 0 {
					return
				}
				for _, j := range claimed {
					mu.Lock()
					prev, dup := seen[j.ID]
					seen[j.ID] = node
					mu.Unlock()
					if dup {
						t.Errorf("job %d claimed by %s and %s", j.ID, prev, node)
					}
					if _, err := jobs.Complete(ctx, j.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: node, Attempt: 1}}); err != nil {
						t.Errorf("%s: complete %d: %v", node, j.ID, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("claimed %d distinct jobs, want %d", len(seen), total)
	}
	page := must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Filters: []core.Filter{{Field: "status", Op: core.OpEq, Values: []string{"completed"}}}}))
	if page.Total != total {
		t.Fatalf("%d jobs completed, want %d", page.Total, total)
	}
}

var setupSeq atomic.Int64

// jobIn puts a fresh job into status s. The job is urgent and dated before
// every other, so the setup claim takes it whatever else is queued.
func jobIn(t *testing.T, st *sqlstore.Store, taskID int64, s core.JobStatus) core.Job {
	t.Helper()
	ctx := t.Context()
	jobs := st.Jobs()
	at := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(setupSeq.Add(1)) * time.Second)
	j := enqueue(t, st, core.Job{TaskID: taskID, MaxRetries: 5, Priority: core.PriorityUrgent, ProcessAt: at})
	if s == core.JobQueued {
		return j
	}
	if s == core.JobCancelled {
		return must[core.Job](t)(jobs.Cancel(ctx, j.ID))
	}
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "setup", 1, time.Minute))
	if len(claimed) != 1 || claimed[0].ID != j.ID {
		t.Fatalf("setup claim got %+v, want job %d", claimed, j.ID)
	}
	switch s {
	case core.JobProcessing:
		return claimed[0]
	case core.JobRetrying:
		return must[core.Job](t)(jobs.Retry(ctx, j.ID, time.Now().Add(time.Hour), sqlstore.Outcome{}))
	case core.JobCompleted:
		return must[core.Job](t)(jobs.Complete(ctx, j.ID, sqlstore.Outcome{}))
	case core.JobFailed:
		return must[core.Job](t)(jobs.Fail(ctx, j.ID, sqlstore.Outcome{ErrorType: "Error"}))
	}
	t.Fatalf("no setup for %s", s)
	return core.Job{}
}

func testJobTransitions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "sm")
	jobs := st.Jobs()

	ops := map[core.JobStatus]func(id int64) (core.Job, error){
		core.JobCompleted: func(id int64) (core.Job, error) { return jobs.Complete(ctx, id, sqlstore.Outcome{}) },
		core.JobFailed:    func(id int64) (core.Job, error) { return jobs.Fail(ctx, id, sqlstore.Outcome{}) },
		core.JobRetrying: func(id int64) (core.Job, error) {
			return jobs.Retry(ctx, id, time.Now().Add(time.Hour), sqlstore.Outcome{})
		},
		core.JobCancelled: func(id int64) (core.Job, error) { return jobs.Cancel(ctx, id) },
		core.JobQueued: func(id int64) (core.Job, error) {
			return jobs.Requeue(ctx, id, sqlstore.RequeueOptions{ProcessAt: time.Now().Add(time.Hour)})
		},
	}
	for _, from := range core.JobStatuses {
		for _, to := range core.JobStatuses {
			op, ok := ops[to]
			if !ok {
				continue // processing is reached by Claim only: testClaim*
			}
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				j := jobIn(t, st, task.ID, from)
				got, err := op(j.ID)
				if from.CanTransitionTo(to) {
					if err != nil {
						t.Fatalf("allowed transition failed: %v", err)
					}
					if got.Status != to {
						t.Fatalf("status = %s, want %s", got.Status, to)
					}
					return
				}
				wantKind(t, err, core.KindConflict)
				if cur := must[core.Job](t)(jobs.Get(ctx, j.ID)); cur.Status != from {
					t.Fatalf("forbidden transition changed the status to %s", cur.Status)
				}
			})
		}
	}
	for _, op := range ops {
		_, err := op(999999)
		wantKind(t, err, core.KindNotFound)
	}
	// Only queued and retrying jobs are claimed. First drain what the
	// cases above left queued.
	for {
		left := must[[]core.Job](t)(jobs.Claim(ctx, "drain", 100, time.Minute))
		if len(left) == 0 {
			break
		}
		for _, j := range left {
			must[core.Job](t)(jobs.Complete(ctx, j.ID, sqlstore.Outcome{}))
		}
	}
	for _, from := range core.JobStatuses {
		var j core.Job
		if from == core.JobRetrying {
			j = jobIn(t, st, task.ID, core.JobProcessing)
			must[core.Job](t)(jobs.Retry(ctx, j.ID, time.Now().Add(-time.Second), sqlstore.Outcome{}))
		} else {
			j = jobIn(t, st, task.ID, from)
		}
		claimed := must[[]core.Job](t)(jobs.Claim(ctx, "n", 5, time.Minute))
		want := from == core.JobQueued || from == core.JobRetrying
		if (len(claimed) == 1 && claimed[0].ID == j.ID) != want || len(claimed) > 1 {
			t.Fatalf("from %s: claim returned %d jobs, want claimed=%v", from, len(claimed), want)
		}
		for _, c := range claimed {
			must[core.Job](t)(jobs.Complete(ctx, c.ID, sqlstore.Outcome{}))
		}
	}
}

func testJobOutcomes(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "outcomes")
	jobs := st.Jobs()
	exec := must[core.Execution](t)(st.Executions().Create(ctx, core.Execution{TaskID: task.ID}))

	j := jobIn(t, st, task.ID, core.JobProcessing)
	done := must[core.Job](t)(jobs.Complete(ctx, j.ID, sqlstore.Outcome{Output: json.RawMessage(`{"ok":true}`), ExecutionID: &exec.ID}))
	if string(done.Output) != `{"ok":true}` || done.ExecutionID == nil || *done.ExecutionID != exec.ID ||
		done.CompletedAt == nil || done.LeaseOwner != "" || done.LeaseExpiresAt != nil {
		t.Fatalf("completed job = %+v", done)
	}

	j = jobIn(t, st, task.ID, core.JobProcessing)
	retry := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	r := must[core.Job](t)(jobs.Retry(ctx, j.ID, retry, sqlstore.Outcome{ErrorType: "NetworkError", ErrorMessage: "refused"}))
	if r.Status != core.JobRetrying || !r.ProcessAt.Equal(retry) || r.ErrorType != "NetworkError" || r.LeaseOwner != "" {
		t.Fatalf("retrying job = %+v", r)
	}
	back := must[core.Job](t)(jobs.Requeue(ctx, j.ID, sqlstore.RequeueOptions{ResetAttempts: true}))
	if back.Status != core.JobQueued || back.Attempts != 0 || back.ErrorType != "" {
		t.Fatalf("requeued job = %+v", back)
	}

	j = jobIn(t, st, task.ID, core.JobProcessing)
	f := must[core.Job](t)(jobs.Fail(ctx, j.ID, sqlstore.Outcome{ErrorType: "TypeError", ErrorMessage: "x is undefined"}))
	if f.Status != core.JobFailed || f.ErrorType != "TypeError" || f.CompletedAt == nil {
		t.Fatalf("failed job = %+v", f)
	}
	// Text from a task may hold NUL characters, which SQL text cannot:
	// they are replaced, and the failure is still recorded.
	j = jobIn(t, st, task.ID, core.JobProcessing)
	f = must[core.Job](t)(jobs.Fail(ctx, j.ID, sqlstore.Outcome{ErrorType: "Error", ErrorMessage: "bad\x00byte"}))
	if f.Status != core.JobFailed || f.ErrorMessage != "bad\uFFFDbyte" {
		t.Fatalf("failed job with a NUL in its message = %+v", f)
	}
	j = jobIn(t, st, task.ID, core.JobProcessing)
	_, err := jobs.Complete(ctx, j.ID, sqlstore.Outcome{Output: json.RawMessage(`{"broken"`)})
	wantKind(t, err, core.KindInvalidArgument)
	errs := must[[]error](t)(jobs.CompleteMany(ctx, []sqlstore.Completion{{ID: j.ID, Outcome: sqlstore.Outcome{Output: json.RawMessage(`nope`)}}}))
	wantKind(t, errs[0], core.KindInvalidArgument)
	if got := must[core.Job](t)(jobs.Get(ctx, j.ID)); got.Status != core.JobProcessing {
		t.Fatalf("job completed with invalid output: %+v", got)
	}
	must[core.Job](t)(jobs.Complete(ctx, j.ID, sqlstore.Outcome{Output: json.RawMessage(`"fixed"`)}))
	_, _, err = jobs.Enqueue(ctx, core.Job{TaskID: task.ID, Input: json.RawMessage(`{`)})
	wantKind(t, err, core.KindInvalidArgument)
	_, _, err = jobs.Enqueue(ctx, core.Job{TaskID: task.ID, IdempotencyKey: "k\x00"})
	wantKind(t, err, core.KindInvalidArgument)
	_, err = st.Tasks().Create(ctx, core.Task{Name: "nul\x00name"}, nil)
	wantKind(t, err, core.KindInvalidArgument)
	_, err = st.Tasks().Create(ctx, core.Task{Name: "badschema", InputSchema: json.RawMessage(`{"type":`)}, nil)
	wantKind(t, err, core.KindInvalidArgument)

	c := must[core.Job](t)(jobs.Cancel(ctx, jobIn(t, st, task.ID, core.JobProcessing).ID))
	if c.Status != core.JobCancelled || c.ErrorType != string(core.KindCancelled) || c.CompletedAt == nil {
		t.Fatalf("cancelled job = %+v", c)
	}

	// RequeueNode returns a draining node's jobs to the queue.
	a := jobIn(t, st, task.ID, core.JobProcessing) // leased by "setup"
	ids := must[[]int64](t)(jobs.RequeueNode(ctx, "setup"))
	if len(ids) != 1 || ids[0] != a.ID {
		t.Fatalf("RequeueNode = %v, want [%d]", ids, a.ID)
	}
	if got := must[core.Job](t)(jobs.Get(ctx, a.ID)); got.Status != core.JobQueued || got.LeaseOwner != "" {
		t.Fatalf("requeued job = %+v", got)
	}
}

func testCompleteMany(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "many-done")
	jobs := st.Jobs()
	exec := must[core.Execution](t)(st.Executions().Create(ctx, core.Execution{TaskID: task.ID}))

	var batch []core.Job
	for range 5 {
		batch = append(batch, core.Job{TaskID: task.ID})
	}
	must[[]sqlstore.EnqueueResult](t)(jobs.EnqueueBatch(ctx, batch))
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "n1", 4, time.Minute))
	queued := must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Filters: []core.Filter{eq("status", "queued")}}))
	cs := []sqlstore.Completion{
		{ID: claimed[0].ID, Outcome: sqlstore.Outcome{Output: json.RawMessage(`{"r":0}`), ExecutionID: &exec.ID, Lease: sqlstore.Lease{Owner: "n1", Attempt: 1}}},
		{ID: claimed[1].ID, Outcome: sqlstore.Outcome{Output: json.RawMessage(`[1]`)}},
		{ID: claimed[2].ID, Outcome: sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "n2"}}}, // lost lease
		{ID: queued.Items[0].ID}, // not running
		{ID: 999999},             // missing
		{ID: claimed[3].ID, Outcome: sqlstore.Outcome{Lease: sqlstore.Lease{Attempt: 1}}},
	}
	errs := must[[]error](t)(jobs.CompleteMany(ctx, cs))
	for i, want := range []core.ErrorKind{"", "", core.KindConflict, core.KindConflict, core.KindNotFound, ""} {
		if want == "" {
			if errs[i] != nil {
				t.Fatalf("completion %d: %v", i, errs[i])
			}
			continue
		}
		wantKind(t, errs[i], want)
	}
	j0 := must[core.Job](t)(jobs.Get(ctx, claimed[0].ID))
	if j0.Status != core.JobCompleted || string(j0.Output) != `{"r":0}` || j0.ExecutionID == nil || *j0.ExecutionID != exec.ID || j0.CompletedAt == nil || j0.LeaseOwner != "" {
		t.Fatalf("completed job 0 = %+v", j0)
	}
	if j1 := must[core.Job](t)(jobs.Get(ctx, claimed[1].ID)); string(j1.Output) != "[1]" || j1.ExecutionID != nil {
		t.Fatalf("completed job 1 = %+v", j1)
	}
	if j2 := must[core.Job](t)(jobs.Get(ctx, claimed[2].ID)); j2.Status != core.JobProcessing {
		t.Fatalf("fenced-off job = %+v", j2)
	}
	if errs := must[[]error](t)(jobs.CompleteMany(ctx, nil)); len(errs) != 0 {
		t.Fatal("CompleteMany(nil) returned errors")
	}
}

func testLeaseFencing(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "lease")
	jobs := st.Jobs()
	j := jobIn(t, st, task.ID, core.JobProcessing) // owner "setup", attempt 1

	exp := must[time.Time](t)(jobs.ExtendLease(ctx, j.ID, "setup", time.Hour))
	if got := must[core.Job](t)(jobs.Get(ctx, j.ID)); got.LeaseExpiresAt == nil || !got.LeaseExpiresAt.Equal(exp) || got.Status != core.JobProcessing {
		t.Fatalf("extended job = %+v, want expiry %v", got, exp)
	}
	_, err := jobs.ExtendLease(ctx, j.ID, "intruder", time.Hour)
	wantKind(t, err, core.KindConflict)
	_, err = jobs.ExtendLease(ctx, 999999, "setup", time.Hour)
	wantKind(t, err, core.KindNotFound)

	_, err = jobs.Complete(ctx, j.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "intruder"}})
	wantKind(t, err, core.KindConflict)
	_, err = jobs.Complete(ctx, j.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "setup", Attempt: 2}})
	wantKind(t, err, core.KindConflict)
	must[core.Job](t)(jobs.Complete(ctx, j.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "setup", Attempt: 1}}))
	// The completion is recorded once.
	_, err = jobs.Complete(ctx, j.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "setup", Attempt: 1}})
	wantKind(t, err, core.KindConflict)
	_, err = jobs.ExtendLease(ctx, j.ID, "setup", time.Hour)
	wantKind(t, err, core.KindConflict)

	// A queued job never becomes processing by extending a lease.
	q := jobIn(t, st, task.ID, core.JobQueued)
	_, err = jobs.ExtendLease(ctx, q.ID, "setup", time.Hour)
	wantKind(t, err, core.KindConflict)
	if got := must[core.Job](t)(jobs.Get(ctx, q.ID)); got.Status != core.JobQueued {
		t.Fatalf("ExtendLease changed a queued job to %s", got.Status)
	}
}

func testReclaimExpired(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "reclaim")
	jobs := st.Jobs()
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	st.SetClock(func() time.Time { return clock })

	again := enqueue(t, st, core.Job{TaskID: task.ID, MaxRetries: 1, Priority: core.PriorityUrgent})
	last := enqueue(t, st, core.Job{TaskID: task.ID, MaxRetries: 0})
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "dead-node", 2, 30*time.Second))
	if len(claimed) != 2 {
		t.Fatalf("claimed %d", len(claimed))
	}

	res := must[sqlstore.ReclaimResult](t)(jobs.ReclaimExpired(ctx, now.Add(29*time.Second)))
	if len(res.Requeued)+len(res.Failed) != 0 {
		t.Fatalf("reclaimed live leases: %+v", res)
	}
	res = must[sqlstore.ReclaimResult](t)(jobs.ReclaimExpired(ctx, now.Add(31*time.Second)))
	if fmt.Sprint(res.Requeued) != fmt.Sprint([]int64{again.ID}) || fmt.Sprint(res.Failed) != fmt.Sprint([]int64{last.ID}) {
		t.Fatalf("ReclaimExpired = %+v, want requeued [%d] failed [%d]", res, again.ID, last.ID)
	}
	failed := must[core.Job](t)(jobs.Get(ctx, last.ID))
	if failed.Status != core.JobFailed || failed.ErrorType != string(core.KindWorkerCrash) || failed.CompletedAt == nil {
		t.Fatalf("exhausted job = %+v", failed)
	}
	// The dead node's late completion is refused.
	_, err := jobs.Complete(ctx, again.ID, sqlstore.Outcome{Lease: sqlstore.Lease{Owner: "dead-node", Attempt: 1}})
	wantKind(t, err, core.KindConflict)

	clock = now.Add(time.Minute)
	retaken := must[[]core.Job](t)(jobs.Claim(ctx, "live-node", 5, 30*time.Second))
	if len(retaken) != 1 || retaken[0].ID != again.ID || retaken[0].Attempts != 2 {
		t.Fatalf("re-claim = %+v", retaken)
	}
	res = must[sqlstore.ReclaimResult](t)(jobs.ReclaimExpired(ctx, now.Add(2*time.Minute)))
	if len(res.Failed) != 1 || res.Failed[0] != again.ID || len(res.Requeued) != 0 {
		t.Fatalf("second expiry = %+v, want job %d failed", res, again.ID)
	}
}

func testQueueDepth(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "depth")
	jobs := st.Jobs()
	for range 3 {
		enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityHigh})
	}
	enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityLow})
	jobIn(t, st, task.ID, core.JobFailed) // urgent: claims itself
	depth := must[[]sqlstore.QueueDepth](t)(jobs.QueueDepth(ctx))
	want := map[string]int{"queued/high": 3, "queued/low": 1, "failed/urgent": 1}
	got := map[string]int{}
	for _, d := range depth {
		got[string(d.Status)+"/"+d.Priority.String()] = d.Count
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("QueueDepth = %v, want %v", got, want)
	}
	if n := must[int](t)(jobs.CountActive(ctx)); n != 4 {
		t.Fatalf("CountActive = %d, want 4", n)
	}
	if _, err := jobs.Get(ctx, -1); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(-1) = %v", err)
	}
}

func testNextReadyAt(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "next")
	jobs := st.Jobs()
	if _, ok, err := jobs.NextReadyAt(ctx); err != nil || ok {
		t.Fatalf("empty queue: ok %v, err %v", ok, err)
	}
	base := time.Date(2001, 1, 1, 12, 0, 0, 123456000, time.UTC)
	enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityHigh, ProcessAt: base.Add(time.Hour)})
	enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityLow, ProcessAt: base.Add(30 * time.Minute)})
	early := enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityNormal, ProcessAt: base})
	retrying := enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.PriorityUrgent, ProcessAt: base.Add(-time.Hour), MaxRetries: 3})
	check := func(want time.Time) {
		t.Helper()
		at, ok, err := jobs.NextReadyAt(ctx)
		if err != nil || !ok || !at.Equal(want) || at.Location() != time.UTC {
			t.Fatalf("NextReadyAt = %v, %v, %v; want %v", at, ok, err, want)
		}
	}
	check(base.Add(-time.Hour))
	// Claimed (processing) jobs do not count; retrying ones do.
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "n1", 1, time.Minute))
	if len(claimed) != 1 || claimed[0].ID != retrying.ID {
		t.Fatalf("claimed %+v, want job %d", claimed, retrying.ID)
	}
	check(base)
	must[core.Job](t)(jobs.Retry(ctx, retrying.ID, base.Add(-time.Minute), sqlstore.Outcome{}))
	check(base.Add(-time.Minute))
	must[core.Job](t)(jobs.Cancel(ctx, retrying.ID))
	must[core.Job](t)(jobs.Cancel(ctx, early.ID))
	check(base.Add(30 * time.Minute))
}
