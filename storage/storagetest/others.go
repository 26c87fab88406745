package storagetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func testExecutions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "exec")
	job := enqueue(t, st, core.Job{TaskID: task.ID})
	execs := st.Executions()

	e := must[core.Execution](t)(execs.Create(ctx, core.Execution{
		TaskID: task.ID, TaskName: task.Name, TaskVersion: "1.0.0", JobID: &job.ID, Input: json.RawMessage(`{"a":1}`), Attempt: 2,
	}))
	if e.ID == 0 || e.UUID == "" || e.Status != core.ExecutionPending || e.QueuedAt.IsZero() || e.Attempt != 2 ||
		e.Logs == nil || e.HTTPRequests == nil || e.JobID == nil || *e.JobID != job.ID {
		t.Fatalf("created execution = %+v", e)
	}
	start := time.Now().UTC().Truncate(time.Microsecond)
	running := must[core.Execution](t)(execs.Start(ctx, e.ID, "node-a/w1", start))
	if running.Status != core.ExecutionRunning || running.WorkerID != "node-a/w1" || running.StartedAt == nil || !running.StartedAt.Equal(start) {
		t.Fatalf("running execution = %+v", running)
	}
	logs := []core.LogEntry{{Time: start, Level: "info", Message: "hello"}, {Time: start.Add(time.Millisecond), Level: "error", Message: "ouch"}}
	reqs := []core.HTTPRequestLog{{Method: "GET", URL: "https://example.com", Status: 200, DurationMS: 12.5, StartedAt: start}}
	done := must[core.Execution](t)(execs.Finish(ctx, core.Execution{
		ID: e.ID, Status: core.ExecutionFailed, ErrorType: "DataError", ErrorMessage: "bad",
		ErrorDetails: json.RawMessage(`{"field":"x"}`), Logs: logs, HTTPRequests: reqs,
		StartedAt: &start, CompletedAt: ptr(start.Add(1500 * time.Millisecond)),
	}))
	if done.Status != core.ExecutionFailed || done.ErrorType != "DataError" || string(done.ErrorDetails) != `{"field":"x"}` ||
		done.DurationMS == nil || *done.DurationMS != 1500 || done.WorkerID != "node-a/w1" {
		t.Fatalf("finished execution = %+v", done)
	}
	got := must[core.Execution](t)(execs.Get(ctx, e.ID))
	if len(got.Logs) != 2 || got.Logs[1].Message != "ouch" || !got.Logs[0].Time.Equal(start) ||
		len(got.HTTPRequests) != 1 || got.HTTPRequests[0].DurationMS != 12.5 || string(got.Input) != `{"a":1}` {
		t.Fatalf("stored execution = %+v", got)
	}
	must[core.Execution](t)(execs.GetByUUID(ctx, e.UUID))

	_, err := execs.Finish(ctx, core.Execution{ID: e.ID, Status: core.ExecutionCompleted})
	wantKind(t, err, core.KindConflict)
	_, err = execs.Finish(ctx, core.Execution{ID: e.ID, Status: core.ExecutionRunning})
	wantKind(t, err, core.KindInvalidArgument)
	_, err = execs.Create(ctx, core.Execution{TaskID: 999999})
	wantKind(t, err, core.KindInvalidArgument)
	_, err = execs.Create(ctx, core.Execution{TaskID: task.ID, Status: "weird"})
	wantKind(t, err, core.KindInvalidArgument)
	_, err = execs.Get(ctx, 999999)
	wantKind(t, err, core.KindNotFound)

	noErr(t, execs.Delete(ctx, e.ID))
	wantKind(t, execs.Delete(ctx, e.ID), core.KindNotFound)
}

func testExecutionTransitions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "exec-sm")
	execs := st.Executions()
	for _, from := range core.ExecutionStatuses {
		for _, to := range core.ExecutionStatuses {
			if to == core.ExecutionPending {
				continue // nothing goes back to pending
			}
			e := must[core.Execution](t)(execs.Create(ctx, core.Execution{TaskID: task.ID, Status: from}))
			var err error
			if to == core.ExecutionRunning {
				_, err = execs.Start(ctx, e.ID, "w", time.Now())
			} else {
				_, err = execs.Finish(ctx, core.Execution{ID: e.ID, Status: to})
			}
			if from.CanTransitionTo(to) {
				if err != nil {
					t.Fatalf("%s → %s: %v", from, to, err)
				}
				continue
			}
			wantKind(t, err, core.KindConflict)
		}
	}
	_, err := execs.Start(ctx, 999999, "w", time.Now())
	wantKind(t, err, core.KindNotFound)
}

func testSchedules(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "cron")
	scheds := st.Schedules()
	next := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)

	sc := must[core.Schedule](t)(scheds.Create(ctx, core.Schedule{
		TaskID: task.ID, Name: "hourly", CronExpression: "@hourly", Input: json.RawMessage(`{"x":1}`),
		Enabled: true, MaxExecutions: ptr(2), NextRunAt: &next,
		OutputDestinations: []core.OutputDestination{{Type: core.DestinationFilesystem, Config: map[string]any{"path": "/tmp/x"}}},
	}))
	if sc.ID == 0 || sc.UUID == "" || sc.Timezone != "UTC" || sc.NextRunAt == nil || !sc.NextRunAt.Equal(next) ||
		*sc.MaxExecutions != 2 || len(sc.OutputDestinations) != 1 {
		t.Fatalf("created schedule = %+v", sc)
	}
	must[core.Schedule](t)(scheds.GetByUUID(ctx, sc.UUID))
	_, err := scheds.Create(ctx, core.Schedule{TaskID: 999999, CronExpression: "@daily"})
	wantKind(t, err, core.KindNotFound)
	_, err = scheds.Create(ctx, core.Schedule{TaskID: task.ID})
	wantKind(t, err, core.KindInvalidArgument)

	sc.CronExpression, sc.Timezone = "*/5 * * * *", "Europe/Paris"
	upd := must[core.Schedule](t)(scheds.Update(ctx, sc))
	if upd.CronExpression != "*/5 * * * *" || upd.Timezone != "Europe/Paris" || !upd.CreatedAt.Equal(sc.CreatedAt) {
		t.Fatalf("updated schedule = %+v", upd)
	}
	_, err = scheds.Update(ctx, core.Schedule{ID: 999999, TaskID: task.ID, CronExpression: "@daily"})
	wantKind(t, err, core.KindNotFound)

	if due := must[[]core.Schedule](t)(scheds.Due(ctx, next.Add(-time.Second), 10)); len(due) != 0 {
		t.Fatalf("due early: %+v", due)
	}
	due := must[[]core.Schedule](t)(scheds.Due(ctx, next, 10))
	if len(due) != 1 || due[0].ID != sc.ID {
		t.Fatalf("Due = %+v", due)
	}
	if nr := must[*time.Time](t)(scheds.NextRun(ctx)); nr == nil || !nr.Equal(next) {
		t.Fatalf("NextRun = %v", nr)
	}

	// Advance is a compare-and-set on next_run_at.
	n2 := next.Add(time.Hour)
	if ok := must[bool](t)(scheds.Advance(ctx, sc.ID, next.Add(time.Second), &n2)); ok {
		t.Fatal("Advance from a wrong tick succeeded")
	}
	if ok := must[bool](t)(scheds.Advance(ctx, sc.ID, next, &n2)); !ok {
		t.Fatal("Advance from the right tick failed")
	}
	if ok := must[bool](t)(scheds.Advance(ctx, sc.ID, next, &n2)); ok {
		t.Fatal("the same tick advanced twice")
	}
	got := must[core.Schedule](t)(scheds.Get(ctx, sc.ID))
	if got.ExecutionCount != 1 || got.LastRunAt == nil || !got.LastRunAt.Equal(next) || !got.NextRunAt.Equal(n2) || !got.Enabled {
		t.Fatalf("advanced schedule = %+v", got)
	}
	// The second execution reaches max_executions: disabled, no next run.
	job, fired, err := scheds.Fire(ctx, got, n2, ptr(n2.Add(time.Hour)), core.Job{Priority: core.PriorityHigh})
	noErr(t, err)
	if !fired || job.ScheduleID == nil || *job.ScheduleID != sc.ID || job.TaskID != task.ID ||
		string(job.Input) != `{"x":1}` || len(job.OutputDestinations) != 1 || job.Priority != core.PriorityHigh {
		t.Fatalf("fired job = %+v fired=%v", job, fired)
	}
	got = must[core.Schedule](t)(scheds.Get(ctx, sc.ID))
	if got.Enabled || got.NextRunAt != nil || got.ExecutionCount != 2 {
		t.Fatalf("schedule at max_executions = %+v", got)
	}
	if nr := must[*time.Time](t)(scheds.NextRun(ctx)); nr != nil {
		t.Fatalf("NextRun with nothing enabled = %v", nr)
	}

	re := must[core.Schedule](t)(scheds.SetEnabled(ctx, sc.ID, true, &next))
	if !re.Enabled || !re.NextRunAt.Equal(next) {
		t.Fatalf("re-enabled = %+v", re)
	}
	_, err = scheds.SetEnabled(ctx, 999999, true, nil)
	wantKind(t, err, core.KindNotFound)

	// Deleting a schedule keeps its jobs.
	noErr(t, scheds.Delete(ctx, sc.ID))
	wantKind(t, scheds.Delete(ctx, sc.ID), core.KindNotFound)
	kept := must[core.Job](t)(st.Jobs().Get(ctx, job.ID))
	if kept.ScheduleID != nil {
		t.Fatalf("job of a deleted schedule has schedule_id %d", *kept.ScheduleID)
	}
}

func testScheduleFireOnce(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "tick")
	tick := time.Date(2032, 5, 5, 5, 5, 5, 123456000, time.UTC)
	sc := must[core.Schedule](t)(st.Schedules().Create(ctx, core.Schedule{TaskID: task.ID, CronExpression: "@every 1s", Enabled: true, NextRunAt: &tick}))

	for round := range 5 {
		// Every "node" read the schedule before any fired.
		cur := must[core.Schedule](t)(st.Schedules().Get(ctx, sc.ID))
		next := cur.NextRunAt.Add(time.Second)
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			fired int
		)
		for n := range 8 {
			wg.Go(func() {
				_, ok, err := st.FireSchedule(ctx, cur, *cur.NextRunAt, &next, core.Job{Metadata: map[string]any{"node": n}})
				if err != nil {
					t.Errorf("round %d node %d: %v", round, n, err)
					return
				}
				if ok {
					mu.Lock()
					fired++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if fired != 1 {
			t.Fatalf("round %d: the tick fired %d times", round, fired)
		}
	}
	p := must[core.Page[core.Job]](t)(st.Jobs().List(ctx, core.ListQuery{Filters: []core.Filter{eq("schedule_id", fmt.Sprint(sc.ID))}}))
	if p.Total != 5 {
		t.Fatalf("%d jobs for 5 ticks", p.Total)
	}
	if got := must[core.Schedule](t)(st.Schedules().Get(ctx, sc.ID)); got.ExecutionCount != 5 {
		t.Fatalf("execution_count = %d", got.ExecutionCount)
	}
}

func testDeliveries(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "deliver")
	j1 := enqueue(t, st, core.Job{TaskID: task.ID})
	j2 := enqueue(t, st, core.Job{TaskID: task.ID})
	e := must[core.Execution](t)(st.Executions().Create(ctx, core.Execution{TaskID: task.ID, JobID: &j1.ID}))
	dels := st.Deliveries()

	d := must[core.DeliveryResult](t)(dels.Create(ctx, core.DeliveryResult{
		JobID: j1.ID, ExecutionID: e.ID, DestinationType: core.DestinationWebhook, Destination: "https://hook",
		Success: false, Attempts: 3, StatusCode: ptr(502), ErrorMessage: "bad gateway", DurationMS: 40,
	}))
	if d.ID == 0 || d.CreatedAt.IsZero() || *d.StatusCode != 502 || d.ExecutionID != e.ID {
		t.Fatalf("created delivery = %+v", d)
	}
	must[core.DeliveryResult](t)(dels.Create(ctx, core.DeliveryResult{JobID: j1.ID, DestinationType: core.DestinationFilesystem, Success: true}))
	must[core.DeliveryResult](t)(dels.Create(ctx, core.DeliveryResult{JobID: j2.ID, DestinationType: core.DestinationFilesystem, Success: true}))
	if got := must[core.DeliveryResult](t)(dels.Get(ctx, d.ID)); got.ErrorMessage != "bad gateway" {
		t.Fatalf("Get = %+v", got)
	}

	p := must[core.Page[core.DeliveryResult]](t)(dels.List(ctx, core.ListQuery{Filters: []core.Filter{eq("job_id", fmt.Sprint(j1.ID))}}))
	if p.Total != 2 {
		t.Fatalf("deliveries of job 1 = %d", p.Total)
	}
	p = must[core.Page[core.DeliveryResult]](t)(dels.List(ctx, core.ListQuery{Filters: []core.Filter{eq("success", "false")}}))
	if p.Total != 1 || p.Items[0].ID != d.ID {
		t.Fatalf("failed deliveries = %+v", p)
	}
	if l := must[[]core.DeliveryResult](t)(dels.ListForJob(ctx, j1.ID)); len(l) != 2 || l[0].ID != d.ID {
		t.Fatalf("ListForJob = %+v", l)
	}
	_, err := dels.Create(ctx, core.DeliveryResult{JobID: 999999, DestinationType: "webhook"})
	wantKind(t, err, core.KindNotFound)
	_, err = dels.Create(ctx, core.DeliveryResult{JobID: j1.ID})
	wantKind(t, err, core.KindInvalidArgument)
	_, err = dels.List(ctx, core.ListQuery{Filters: []core.Filter{eq("secret", "x")}})
	wantKind(t, err, core.KindInvalidArgument)
}

func testWorkers(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	ws := st.Workers()
	t0 := time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(node string, n int, status core.WorkerStatus) []core.Worker {
		var out []core.Worker
		for i := range n {
			out = append(out, core.Worker{ID: fmt.Sprintf("%s/w%d", node, i), PID: 1000 + i, Status: status, StartedAt: t0, ExecutionsTotal: int64(i)})
		}
		return out
	}
	noErr(t, ws.Heartbeat(ctx, sqlstore.Node{Name: "a", Hostname: "host-a"}, mk("a", 3, core.WorkerIdle), t0))
	noErr(t, ws.Heartbeat(ctx, sqlstore.Node{Name: "b"}, mk("b", 2, core.WorkerBusy), t0.Add(time.Minute)))

	p := must[core.Page[core.Worker]](t)(ws.List(ctx, core.ListQuery{}))
	if p.Total != 5 || p.Items[0].ID != "a/w0" || p.Items[0].Node != "a" || p.Items[4].ID != "b/w1" {
		t.Fatalf("workers = %+v", p)
	}
	p = must[core.Page[core.Worker]](t)(ws.List(ctx, core.ListQuery{Filters: []core.Filter{eq("status", "busy")}}))
	if p.Total != 2 {
		t.Fatalf("busy workers = %d", p.Total)
	}
	_, err := ws.List(ctx, core.ListQuery{Filters: []core.Filter{eq("status", "napping")}})
	wantKind(t, err, core.KindInvalidArgument)

	// A heartbeat replaces the node's list.
	noErr(t, ws.Heartbeat(ctx, sqlstore.Node{Name: "a"}, mk("a", 1, core.WorkerBusy), t0.Add(2*time.Minute)))
	w := must[core.Worker](t)(ws.Get(ctx, "a/w0"))
	if w.Status != core.WorkerBusy || w.LastHeartbeatAt == nil || !w.LastHeartbeatAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("worker after heartbeat = %+v", w)
	}
	_, err = ws.Get(ctx, "a/w2")
	wantKind(t, err, core.KindNotFound)

	nodes := must[[]sqlstore.Node](t)(ws.Nodes(ctx))
	if len(nodes) != 2 || nodes[0].Name != "a" || !nodes[0].LastHeartbeatAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("nodes = %+v", nodes)
	}
	pruned := must[[]string](t)(ws.PruneNodes(ctx, t0.Add(90*time.Second)))
	if len(pruned) != 1 || pruned[0] != "b" {
		t.Fatalf("PruneNodes = %v", pruned)
	}
	if p := must[core.Page[core.Worker]](t)(ws.List(ctx, core.ListQuery{})); p.Total != 1 {
		t.Fatalf("workers after pruning b = %d", p.Total)
	}
	noErr(t, ws.RemoveNode(ctx, "a"))
	wantKind(t, ws.RemoveNode(ctx, "a"), core.KindNotFound)
	if p := must[core.Page[core.Worker]](t)(ws.List(ctx, core.ListQuery{})); p.Total != 0 {
		t.Fatalf("workers after removing a = %d", p.Total)
	}
	wantKind(t, ws.Heartbeat(ctx, sqlstore.Node{}, nil, t0), core.KindInvalidArgument)
}

func testAPIKeys(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	keys := st.APIKeys()
	hash := sqlstore.HashAPIKey("rk_secret_1")
	k := must[sqlstore.APIKey](t)(keys.Create(ctx, sqlstore.APIKey{Name: "ci", Hash: hash, Prefix: "rk_secr", Role: sqlstore.RoleOperator}))
	if k.ID == 0 || k.CreatedAt.IsZero() || !k.Active() {
		t.Fatalf("created key = %+v", k)
	}
	got := must[sqlstore.APIKey](t)(keys.GetByHash(ctx, hash))
	if got.ID != k.ID || got.Role != sqlstore.RoleOperator {
		t.Fatalf("GetByHash = %+v", got)
	}
	_, err := keys.GetByHash(ctx, sqlstore.HashAPIKey("other"))
	wantKind(t, err, core.KindNotFound)
	_, err = keys.Create(ctx, sqlstore.APIKey{Name: "dup", Hash: hash, Role: sqlstore.RoleViewer})
	wantKind(t, err, core.KindConflict)
	_, err = keys.Create(ctx, sqlstore.APIKey{Name: "bad", Hash: sqlstore.HashAPIKey("x"), Role: "root"})
	wantKind(t, err, core.KindInvalidArgument)
	_, err = keys.Create(ctx, sqlstore.APIKey{Name: "plain", Hash: "rk_plaintext", Role: sqlstore.RoleViewer})
	wantKind(t, err, core.KindInvalidArgument)

	at := time.Date(2032, 2, 2, 0, 0, 0, 0, time.UTC)
	noErr(t, keys.Touch(ctx, k.ID, at))
	noErr(t, keys.Revoke(ctx, k.ID, at.Add(time.Hour)))
	noErr(t, keys.Revoke(ctx, k.ID, at.Add(2*time.Hour)))
	got = must[sqlstore.APIKey](t)(keys.Get(ctx, k.ID))
	if got.Active() || !got.RevokedAt.Equal(at.Add(time.Hour)) || !got.LastUsedAt.Equal(at) {
		t.Fatalf("revoked key = %+v", got)
	}
	must[sqlstore.APIKey](t)(keys.Create(ctx, sqlstore.APIKey{Name: "admin", Hash: sqlstore.HashAPIKey("rk_2"), Role: sqlstore.RoleAdmin}))
	if l := must[[]sqlstore.APIKey](t)(keys.List(ctx)); len(l) != 2 || l[0].ID != k.ID {
		t.Fatalf("List = %+v", l)
	}
	noErr(t, keys.Delete(ctx, k.ID))
	wantKind(t, keys.Delete(ctx, k.ID), core.KindNotFound)
	wantKind(t, keys.Touch(ctx, k.ID, at), core.KindNotFound)
}

func testPruning(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	task := seedTask(t, st, "prune")
	jobs, execs := st.Jobs(), st.Executions()
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := old
	st.SetClock(func() time.Time { return clock })

	// Old: 3 completed jobs with executions and a delivery, 1 still queued,
	// 1 processing.
	var oldJobs []core.Job
	for range 3 {
		j := jobIn(t, st, task.ID, core.JobProcessing)
		e := must[core.Execution](t)(execs.Create(ctx, core.Execution{TaskID: task.ID, JobID: &j.ID, Status: core.ExecutionCompleted, CompletedAt: &clock}))
		j = must[core.Job](t)(jobs.Complete(ctx, j.ID, sqlstore.Outcome{ExecutionID: &e.ID}))
		must[core.DeliveryResult](t)(st.Deliveries().Create(ctx, core.DeliveryResult{JobID: j.ID, ExecutionID: e.ID, DestinationType: "webhook"}))
		oldJobs = append(oldJobs, j)
	}
	queued := jobIn(t, st, task.ID, core.JobQueued)
	running := jobIn(t, st, task.ID, core.JobProcessing)
	runningExec := must[core.Execution](t)(execs.Create(ctx, core.Execution{TaskID: task.ID, Status: core.ExecutionRunning}))

	clock = old.Add(48 * time.Hour)
	recent := jobIn(t, st, task.ID, core.JobFailed)
	recentExec := must[core.Execution](t)(execs.Create(ctx, core.Execution{TaskID: task.ID, Status: core.ExecutionFailed, CompletedAt: &clock}))

	cut := old.Add(24 * time.Hour)
	n := must[int64](t)(st.PruneExecutions(ctx, cut))
	if n != 3 {
		t.Fatalf("PruneExecutions deleted %d, want 3", n)
	}
	for _, j := range oldJobs {
		if got := must[core.Job](t)(jobs.Get(ctx, j.ID)); got.ExecutionID != nil {
			t.Fatalf("job %d still points at pruned execution %d", j.ID, *got.ExecutionID)
		}
	}
	must[core.Execution](t)(execs.Get(ctx, runningExec.ID))
	must[core.Execution](t)(execs.Get(ctx, recentExec.ID))

	n = must[int64](t)(st.PruneJobs(ctx, cut))
	if n != 3 {
		t.Fatalf("PruneJobs deleted %d, want 3", n)
	}
	for _, keep := range []core.Job{queued, running, recent} {
		must[core.Job](t)(jobs.Get(ctx, keep.ID))
	}
	if p := must[core.Page[core.DeliveryResult]](t)(st.Deliveries().List(ctx, core.ListQuery{})); p.Total != 0 {
		t.Fatalf("%d deliveries of pruned jobs remain", p.Total)
	}
	if n := must[int64](t)(st.PruneJobs(ctx, cut)); n != 0 {
		t.Fatalf("second prune deleted %d", n)
	}
}
