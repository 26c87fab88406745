package storagetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

func testCreateManyExecutions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "exec-many")
	job := enqueue(t, st, core.Job{TaskID: task.ID})
	execs := st.Executions()

	if got := must[[]core.Execution](t)(execs.CreateMany(ctx, nil)); len(got) != 0 {
		t.Fatalf("CreateMany(nil) = %+v", got)
	}
	start := time.Now().UTC().Truncate(time.Microsecond)
	queued := start.Add(-time.Second)
	// More than one statement's worth, every one different.
	in := make([]core.Execution, 1203)
	for i := range in {
		in[i] = core.Execution{TaskID: task.ID, TaskName: task.Name, TaskVersion: "1.0.0", Attempt: i + 1}
		switch i % 3 {
		case 0:
			in[i].JobID, in[i].Status, in[i].StartedAt, in[i].QueuedAt = &job.ID, core.ExecutionRunning, &start, queued
			in[i].Input = json.RawMessage(`{"i": ` + jsonInt(i) + `}`)
		case 1:
			in[i].UUID = "0190a3b4-0000-7000-8000-" + padded(i)
		case 2:
			in[i].Status, in[i].Output, in[i].WorkerID = core.ExecutionCompleted, json.RawMessage(`[1, 2]`), "w\x00"
			in[i].Logs = []core.LogEntry{{Time: start, Level: "info", Message: "hi"}}
		}
	}
	out := must[[]core.Execution](t)(execs.CreateMany(ctx, in))
	if len(out) != len(in) {
		t.Fatalf("CreateMany returned %d executions for %d", len(out), len(in))
	}
	ids := map[int64]bool{}
	for i, e := range out {
		if e.ID == 0 || ids[e.ID] || e.UUID == "" || e.Attempt != i+1 {
			t.Fatalf("execution %d = %+v", i, e)
		}
		ids[e.ID] = true
		want := in[i]
		if want.Status == "" && e.Status != core.ExecutionPending || want.Status != "" && e.Status != want.Status {
			t.Fatalf("execution %d: status %s, want %s", i, e.Status, want.Status)
		}
		if want.UUID != "" && e.UUID != want.UUID {
			t.Fatalf("execution %d: uuid %s, want %s", i, e.UUID, want.UUID)
		}
		if i%3 == 0 && (e.JobID == nil || *e.JobID != job.ID || !e.QueuedAt.Equal(queued) || e.StartedAt == nil || !e.StartedAt.Equal(start) || string(e.Input) != string(want.Input)) {
			t.Fatalf("execution %d = %+v", i, e)
		}
		if i%3 == 2 && (e.WorkerID != "w\uFFFD" || len(e.Logs) != 1 || string(e.Output) != `[1, 2]`) {
			t.Fatalf("execution %d = %+v", i, e)
		}
		if i%100 == 0 || i == len(out)-1 {
			// What CreateMany returns is what is stored, as with Create.
			if got := must[core.Execution](t)(execs.Get(ctx, e.ID)); !reflect.DeepEqual(got, e) {
				t.Fatalf("execution %d: stored\n%+v\nreturned\n%+v", i, got, e)
			}
		}
	}
	one := must[core.Execution](t)(execs.Create(ctx, in[0]))
	many := must[[]core.Execution](t)(execs.CreateMany(ctx, in[:1]))
	one.ID, one.UUID, many[0].ID, many[0].UUID = 0, "", 0, ""
	if !reflect.DeepEqual(one, many[0]) {
		t.Fatalf("Create returned\n%+v\nCreateMany\n%+v", one, many[0])
	}

	// An invalid execution stores nothing.
	before := must[core.Page[core.Execution]](t)(execs.List(ctx, core.ListQuery{Limit: 1})).Total
	for _, bad := range []core.Execution{
		{TaskID: 0},
		{TaskID: task.ID, Status: "weird"},
		{TaskID: task.ID, Input: json.RawMessage(`{`)},
		{TaskID: task.ID, TaskName: "a\x00b"},
	} {
		_, err := execs.CreateMany(ctx, []core.Execution{{TaskID: task.ID}, bad})
		wantKind(t, err, core.KindInvalidArgument)
	}
	// A uuid taken (within the batch or before) is a conflict, and the
	// batch is not stored.
	_, err := execs.CreateMany(ctx, []core.Execution{{TaskID: task.ID}, {TaskID: task.ID, UUID: out[1].UUID}})
	wantKind(t, err, core.KindConflict)
	if after := must[core.Page[core.Execution]](t)(execs.List(ctx, core.ListQuery{Limit: 1})).Total; after != before {
		t.Fatalf("failed batches stored executions: %d before, %d after", before, after)
	}
}

func testFinishManyExecutions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "finish-many")
	execs := st.Executions()
	create := func(s core.ExecutionStatus) core.Execution {
		t.Helper()
		return must[core.Execution](t)(execs.Create(ctx, core.Execution{TaskID: task.ID, TaskName: task.Name, Status: s, Input: json.RawMessage(`{"x":1}`)}))
	}
	start := time.Now().UTC().Truncate(time.Microsecond).Add(-2 * time.Second)
	end := start.Add(1500 * time.Millisecond)
	logs := []core.LogEntry{{Time: start, Level: "info", Message: "hello"}}
	reqs := []core.HTTPRequestLog{{Method: "GET", URL: "https://example.com", Status: 200, DurationMS: 1.5, StartedAt: start}}

	running := create(core.ExecutionPending)
	running = must[core.Execution](t)(execs.Start(ctx, running.ID, "node-a/w1", start))
	running2 := must[core.Execution](t)(execs.Start(ctx, create(core.ExecutionPending).ID, "node-a/w2", start))
	pending := create(core.ExecutionPending)
	pending2 := create(core.ExecutionPending)
	done := create(core.ExecutionCompleted)
	running3 := create(core.ExecutionRunning)
	running4 := create(core.ExecutionRunning)

	batch := []core.Execution{
		// 0: running → completed with everything.
		{ID: running.ID, Status: core.ExecutionCompleted, Output: json.RawMessage(`{"sum": 3}`), Logs: logs, HTTPRequests: reqs,
			WorkerID: "node-a/w9", StartedAt: &start, CompletedAt: &end},
		// 1: running → failed; worker id and started_at kept, completed_at
		// defaulted, no duration (no started_at given).
		{ID: running2.ID, Status: core.ExecutionFailed, ErrorType: "DataError", ErrorMessage: "bad\x00", ErrorDetails: json.RawMessage(`{"field":"x"}`)},
		// 2: pending → cancelled.
		{ID: pending.ID, Status: core.ExecutionCancelled, ErrorType: "CancelledError", DurationMS: ptr(int64(7))},
		// 3: pending → completed is forbidden.
		{ID: pending2.ID, Status: core.ExecutionCompleted},
		// 4: finished already.
		{ID: done.ID, Status: core.ExecutionFailed},
		// 5: missing.
		{ID: 999999, Status: core.ExecutionCompleted},
		// 6: not a final status.
		{ID: running3.ID, Status: core.ExecutionRunning},
		// 7: invalid JSON.
		{ID: running3.ID, Status: core.ExecutionCompleted, Output: json.RawMessage(`{`)},
		// 8, 9: the same execution twice: the second finds it finished.
		{ID: running4.ID, Status: core.ExecutionCompleted, Output: json.RawMessage(`1`)},
		{ID: running4.ID, Status: core.ExecutionFailed},
	}
	out, errs, err := execs.FinishMany(ctx, batch)
	noErr(t, err)
	if len(out) != len(batch) || len(errs) != len(batch) {
		t.Fatalf("FinishMany returned %d executions and %d errors for %d", len(out), len(errs), len(batch))
	}
	wantErrs := []core.ErrorKind{"", "", "", core.KindConflict, core.KindConflict, core.KindNotFound,
		core.KindInvalidArgument, core.KindInvalidArgument, "", core.KindConflict}
	for i, want := range wantErrs {
		if want == "" {
			if errs[i] != nil {
				t.Fatalf("finish %d: %v", i, errs[i])
			}
			// What FinishMany returns is what is stored, as with Finish.
			if got := must[core.Execution](t)(execs.Get(ctx, batch[i].ID)); !reflect.DeepEqual(got, out[i]) {
				t.Fatalf("finish %d: stored\n%+v\nreturned\n%+v", i, got, out[i])
			}
			continue
		}
		wantKind(t, errs[i], want)
	}
	e := out[0]
	if e.Status != core.ExecutionCompleted || string(e.Output) != `{"sum": 3}` || e.WorkerID != "node-a/w9" ||
		len(e.Logs) != 1 || e.Logs[0].Message != "hello" || !e.Logs[0].Time.Equal(start) ||
		len(e.HTTPRequests) != 1 || e.HTTPRequests[0].DurationMS != 1.5 ||
		e.CompletedAt == nil || !e.CompletedAt.Equal(end) || e.DurationMS == nil || *e.DurationMS != 1500 ||
		e.UUID != running.UUID || string(e.Input) != `{"x":1}` || e.TaskName != task.Name {
		t.Fatalf("completed execution = %+v", e)
	}
	e = out[1]
	if e.Status != core.ExecutionFailed || e.ErrorType != "DataError" || e.ErrorMessage != "bad\uFFFD" ||
		string(e.ErrorDetails) != `{"field":"x"}` || e.WorkerID != "node-a/w2" || e.StartedAt == nil || !e.StartedAt.Equal(start) ||
		e.CompletedAt == nil || e.DurationMS != nil || len(e.Output) != 0 || len(e.Logs) != 0 || e.Logs == nil {
		t.Fatalf("failed execution = %+v", e)
	}
	e = out[2]
	if e.Status != core.ExecutionCancelled || e.StartedAt != nil || e.DurationMS == nil || *e.DurationMS != 7 || e.WorkerID != "" {
		t.Fatalf("cancelled execution = %+v", e)
	}
	if e := out[8]; e.Status != core.ExecutionCompleted || string(e.Output) != "1" {
		t.Fatalf("execution finished twice = %+v", e)
	}
	for i, id := range map[int]int64{3: pending2.ID, 4: done.ID, 6: running3.ID} {
		if got := must[core.Execution](t)(execs.Get(ctx, id)); got.CompletedAt != nil && i != 4 || got.Status == core.ExecutionFailed {
			t.Fatalf("refused finish %d changed the execution: %+v", i, got)
		}
	}

	// FinishMany and Finish store the same.
	a, b := create(core.ExecutionRunning), create(core.ExecutionRunning)
	fin := core.Execution{Status: core.ExecutionFailed, ErrorType: "NetworkError", ErrorMessage: "down", Logs: logs,
		WorkerID: "w", StartedAt: &start, CompletedAt: &end}
	fin.ID = a.ID
	one := must[core.Execution](t)(execs.Finish(ctx, fin))
	fin.ID = b.ID
	many, errs, err := execs.FinishMany(ctx, []core.Execution{fin})
	noErr(t, err)
	noErr(t, errs[0])
	one.ID, one.UUID, many[0].ID, many[0].UUID = 0, "", 0, ""
	one.QueuedAt, many[0].QueuedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(one, many[0]) {
		t.Fatalf("Finish returned\n%+v\nFinishMany\n%+v", one, many[0])
	}

	// More than one statement's worth.
	var big []core.Execution
	for i := range 1101 {
		e := create(core.ExecutionRunning)
		big = append(big, core.Execution{ID: e.ID, Status: core.ExecutionCompleted, Output: json.RawMessage(`{"i":` + jsonInt(i) + `}`)})
	}
	out, errs, err = execs.FinishMany(ctx, big)
	noErr(t, err)
	for i := range big {
		if errs[i] != nil || out[i].ID != big[i].ID || string(out[i].Output) != string(big[i].Output) {
			t.Fatalf("big batch %d: %+v, %v", i, out[i], errs[i])
		}
	}
	if out, errs, err := execs.FinishMany(ctx, nil); err != nil || len(out) != 0 || len(errs) != 0 {
		t.Fatalf("FinishMany(nil) = %v, %v, %v", out, errs, err)
	}
}

func jsonInt(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// padded formats i as the 12 hex digits that end a uuid.
func padded(i int) string {
	const hex = "0123456789abcdef"
	var b [12]byte
	for k := 11; k >= 0; k-- {
		b[k] = hex[i&15]
		i >>= 4
	}
	return string(b[:])
}

// testLatestExecution checks that creating an execution of a job makes it
// the job's execution_id at once (SPEC §4.1: "execution_id is the latest"),
// so a processing job, and a running job cancelled, show it.
func testLatestExecution(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "latest-exec")
	a := enqueue(t, st, core.Job{TaskID: task.ID})
	b := enqueue(t, st, core.Job{TaskID: task.ID})
	other := enqueue(t, st, core.Job{TaskID: task.ID})
	claimed := must[[]core.Job](t)(st.Jobs().Claim(ctx, "n", 2, time.Minute))
	if len(claimed) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(claimed))
	}
	execs := must[[]core.Execution](t)(st.Executions().CreateMany(ctx, []core.Execution{
		{TaskID: task.ID, JobID: &a.ID, Status: core.ExecutionRunning},
		{TaskID: task.ID, JobID: &b.ID, Status: core.ExecutionRunning},
		{TaskID: task.ID, JobID: &b.ID, Status: core.ExecutionRunning},
		{TaskID: task.ID},
	}))
	for _, tc := range []struct {
		id   int64
		want *int64
	}{{a.ID, &execs[0].ID}, {b.ID, &execs[2].ID}, {other.ID, nil}} {
		got := must[core.Job](t)(st.Jobs().Get(ctx, tc.id))
		switch {
		case tc.want == nil && got.ExecutionID != nil:
			t.Errorf("job %d: execution_id = %d, want none", tc.id, *got.ExecutionID)
		case tc.want != nil && (got.ExecutionID == nil || *got.ExecutionID != *tc.want):
			t.Errorf("job %d: execution_id = %v, want %d", tc.id, got.ExecutionID, *tc.want)
		}
	}
	cancelled := must[core.Job](t)(st.Jobs().Cancel(ctx, a.ID))
	if cancelled.ExecutionID == nil || *cancelled.ExecutionID != execs[0].ID {
		t.Errorf("cancelled running job: execution_id = %v, want %d", cancelled.ExecutionID, execs[0].ID)
	}
	one := must[core.Execution](t)(st.Executions().Create(ctx, core.Execution{TaskID: task.ID, JobID: &other.ID}))
	if got := must[core.Job](t)(st.Jobs().Get(ctx, other.ID)); got.ExecutionID == nil || *got.ExecutionID != one.ID {
		t.Errorf("after Create: execution_id = %v, want %d", got.ExecutionID, one.ID)
	}
}
