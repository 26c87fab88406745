package scheduler_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/scheduler"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func TestNewChecksDependencies(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	if _, err := scheduler.New(nil, &recorder{}, scheduler.Config{}); err == nil {
		t.Error("New with a nil store: want an error")
	}
	if _, err := scheduler.New(st, nil, scheduler.Config{}); err == nil {
		t.Error("New with a nil publisher: want an error")
	}
	if _, err := scheduler.New(st, &recorder{}, scheduler.Config{PollMax: -1}); !errors.Is(err, &core.Error{Kind: core.KindConfiguration}) {
		t.Errorf("New with a negative PollMax: got %v, want a ConfigurationError", err)
	}
}

func TestCreateValidates(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", true)

	cases := []struct {
		name  string
		sc    core.Schedule
		kind  core.ErrorKind
		field string
	}{
		{"bad cron", core.Schedule{TaskID: task.ID, CronExpression: "61 * * * *", Enabled: true}, core.KindInvalidArgument, "cron_expression"},
		{"empty cron", core.Schedule{TaskID: task.ID, CronExpression: " ", Enabled: true}, core.KindInvalidArgument, "cron_expression"},
		{"bad every", core.Schedule{TaskID: task.ID, CronExpression: "@every 10ms", Enabled: true}, core.KindInvalidArgument, "cron_expression"},
		{"bad timezone", core.Schedule{TaskID: task.ID, CronExpression: "@hourly", Timezone: "Mars/Olympus", Enabled: true}, core.KindInvalidArgument, "timezone"},
		{"zero max", core.Schedule{TaskID: task.ID, CronExpression: "@hourly", MaxExecutions: ptr(0), Enabled: true}, core.KindInvalidArgument, "max_executions"},
		{"no task", core.Schedule{CronExpression: "@hourly", Enabled: true}, core.KindInvalidArgument, "task_id"},
		{"unknown task", core.Schedule{TaskID: 9999, CronExpression: "@hourly", Enabled: true}, core.KindNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Create(t.Context(), tc.sc)
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Kind != tc.kind {
				t.Fatalf("got %v, want a %s", err, tc.kind)
			}
			if tc.field != "" && ce.Details["field"] != tc.field {
				t.Errorf("error details %v: want field %q", ce.Details, tc.field)
			}
		})
	}

	t.Run("valid", func(t *testing.T) {
		sc := mustCreate(t, s, core.Schedule{TaskID: task.ID, Name: "paris", CronExpression: "CRON_TZ=Europe/Paris 0 9 * * *", Enabled: true})
		if sc.CronExpression != "0 9 * * *" || sc.Timezone != "Europe/Paris" {
			t.Errorf("stored %q in %q: want the zone prefix moved to timezone", sc.CronExpression, sc.Timezone)
		}
		// 09:00 in Paris on 1 January 2030 is 08:00 UTC.
		if want := time.Date(2030, 1, 1, 8, 0, 0, 0, time.UTC); sc.NextRunAt == nil || !sc.NextRunAt.Equal(want) {
			t.Errorf("next_run_at = %v, want %v", sc.NextRunAt, want)
		}
		off := mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "*/5 * * * * *"})
		if off.Enabled || off.NextRunAt != nil {
			t.Errorf("a disabled schedule got enabled=%v next_run_at=%v, want false and none", off.Enabled, off.NextRunAt)
		}
	})
}

// stepAndFire advances the clock by step n times, firing after each step,
// and returns the jobs enqueued.
func stepAndFire(t *testing.T, s *scheduler.Scheduler, clk *clock, step time.Duration, n int) []core.Job {
	t.Helper()
	var jobs []core.Job
	for range n {
		clk.Add(step)
		got, err := s.FireDue(t.Context())
		if err != nil {
			t.Fatalf("FireDue: %v", err)
		}
		jobs = append(jobs, got...)
	}
	return jobs
}

func TestFiresEveryTickOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	pub := &recorder{}
	s := newScheduler(t, st, pub, scheduler.Config{Now: clk.Now, Node: "n1", MaxRetries: -1, RetryDelay: 5 * time.Second})
	task := createTask(t, st, "task", true)
	sc := mustCreate(t, s, core.Schedule{
		TaskID: task.ID, CronExpression: "* * * * * *", Enabled: true,
		Input:              json.RawMessage(`{"n":1}`),
		OutputDestinations: []core.OutputDestination{{Type: core.DestinationFilesystem, Config: map[string]any{"path": "/tmp/x.json"}}},
	})

	if jobs, err := s.FireDue(t.Context()); err != nil || len(jobs) != 0 {
		t.Fatalf("FireDue before the first tick: %d jobs, %v; want none", len(jobs), err)
	}
	jobs := stepAndFire(t, s, clk, time.Second, 10)
	if len(jobs) != 10 {
		t.Fatalf("10 one-second steps enqueued %d jobs, want 10", len(jobs))
	}
	stored := jobsOf(t, st, sc.ID)
	if len(stored) != 10 {
		t.Fatalf("%d jobs stored, want 10", len(stored))
	}
	assertOnePerTick(t, stored)
	j := stored[0]
	if j.TaskID != task.ID || string(j.Input) != `{"n":1}` || j.Priority != core.PriorityNormal ||
		j.MaxRetries != 0 || j.RetryDelaySeconds != 5 || j.ScheduleID == nil || *j.ScheduleID != sc.ID ||
		len(j.OutputDestinations) != 1 || j.Status != core.JobQueued {
		t.Errorf("job = %+v: want the schedule's task, input and destinations, normal priority, retries from Config", j)
	}
	if got := j.Metadata["scheduled_at"]; got != "2030-01-01T00:00:01Z" {
		t.Errorf("first job's scheduled_at = %v, want 2030-01-01T00:00:01Z", got)
	}

	sc = getSchedule(t, st, sc.ID)
	if sc.ExecutionCount != 10 || sc.LastRunAt == nil || !sc.LastRunAt.Equal(start.Add(10*time.Second).Truncate(time.Second)) {
		t.Errorf("execution_count=%d last_run_at=%v, want 10 and the last tick", sc.ExecutionCount, sc.LastRunAt)
	}
	if want := start.Add(11 * time.Second).Truncate(time.Second); sc.NextRunAt == nil || !sc.NextRunAt.Equal(want) {
		t.Errorf("next_run_at = %v, want %v", sc.NextRunAt, want)
	}

	evs := pub.Events()
	if len(evs) != 10 {
		t.Fatalf("%d events published, want 10", len(evs))
	}
	for i, ev := range evs {
		if ev.Type != core.EventJobQueued || ev.Job == nil || ev.Job.ID != jobs[i].ID || ev.Node != "n1" {
			t.Errorf("event %d = %+v, want job.queued for job %d from n1", i, ev, jobs[i].ID)
		}
	}
}

func TestMissedTicksFireOnceAfterDowntime(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	first := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", true)
	sc := mustCreate(t, first, core.Schedule{TaskID: task.ID, CronExpression: "* * * * *", Enabled: true})
	if got := stepAndFire(t, first, clk, time.Minute, 1); len(got) != 1 {
		t.Fatalf("first minute: %d jobs, want 1", len(got))
	}
	if err := first.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Down for ten minutes and a half: nine ticks and a half missed.
	clk.Add(10*time.Minute + 30*time.Second)
	second := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	jobs, err := second.FireDue(t.Context())
	if err != nil || len(jobs) != 1 {
		t.Fatalf("on restart: %d jobs, %v; want exactly 1 for the missed ticks", len(jobs), err)
	}
	if jobs[0].Metadata["missed_runs"] != float64(9) && jobs[0].Metadata["missed_runs"] != 9 {
		t.Errorf("missed_runs = %v (%T), want 9", jobs[0].Metadata["missed_runs"], jobs[0].Metadata["missed_runs"])
	}
	if again, _ := second.FireDue(t.Context()); len(again) != 0 {
		t.Errorf("a second FireDue right after enqueued %d more jobs", len(again))
	}
	got := getSchedule(t, st, sc.ID)
	if want := start.Add(12 * time.Minute).Truncate(time.Minute); got.NextRunAt == nil || !got.NextRunAt.Equal(want) {
		t.Errorf("next_run_at = %v, want the first tick after now, %v", got.NextRunAt, want)
	}
	if got.ExecutionCount != 2 {
		t.Errorf("execution_count = %d, want 2", got.ExecutionCount)
	}
	if n := len(jobsOf(t, st, sc.ID)); n != 2 {
		t.Errorf("%d jobs stored, want 2", n)
	}
}

func TestMaxExecutions(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", true)
	sc := mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "@every 1s", Enabled: true, MaxExecutions: ptr(3)})

	jobs := stepAndFire(t, s, clk, time.Second, 6)
	if len(jobs) != 3 {
		t.Fatalf("%d jobs, want max_executions = 3", len(jobs))
	}
	sc = getSchedule(t, st, sc.ID)
	if sc.Enabled || sc.NextRunAt != nil || sc.ExecutionCount != 3 {
		t.Errorf("after max_executions: enabled=%v next_run_at=%v count=%d, want disabled, none, 3", sc.Enabled, sc.NextRunAt, sc.ExecutionCount)
	}
	if _, err := s.Enable(t.Context(), sc.ID); !errors.Is(err, core.ErrConflict) {
		t.Errorf("Enable after max_executions: got %v, want a ConflictError", err)
	}
	// Raising the limit through Update enables it again.
	sc.MaxExecutions, sc.Enabled = ptr(4), true
	up, err := s.Update(t.Context(), sc)
	if err != nil || !up.Enabled || up.NextRunAt == nil {
		t.Fatalf("Update raising max_executions: %+v, %v", up, err)
	}
	if jobs := stepAndFire(t, s, clk, time.Second, 3); len(jobs) != 1 {
		t.Errorf("after raising the limit to 4: %d more jobs, want 1", len(jobs))
	}
}

func TestEnableDisableTrigger(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	pub := &recorder{}
	s := newScheduler(t, st, pub, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", true)
	sc := mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "*/10 * * * * *", Enabled: true, Input: json.RawMessage(`[1]`)})
	ctx := t.Context()

	off, err := s.Disable(ctx, sc.ID)
	if err != nil || off.Enabled || off.NextRunAt != nil {
		t.Fatalf("Disable: %+v, %v", off, err)
	}
	if jobs := stepAndFire(t, s, clk, 10*time.Second, 3); len(jobs) != 0 {
		t.Fatalf("a disabled schedule enqueued %d jobs", len(jobs))
	}

	job, err := s.Trigger(ctx, sc.ID)
	if err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if job.ScheduleID == nil || *job.ScheduleID != sc.ID || string(job.Input) != `[1]` || job.Metadata["trigger"] != "manual" {
		t.Errorf("triggered job = %+v", job)
	}
	if evs := pub.Events(); len(evs) != 1 || evs[0].Job.ID != job.ID {
		t.Errorf("events after Trigger = %+v, want one job.queued", evs)
	}
	if got := getSchedule(t, st, sc.ID); got.ExecutionCount != 0 || got.LastRunAt != nil || got.NextRunAt != nil {
		t.Errorf("Trigger changed the cron position: %+v", got)
	}

	// Enable computes the next run from now: ticks from before are not owed.
	on, err := s.Enable(ctx, sc.ID)
	if err != nil {
		t.Fatalf("Enable: %v", err)
	}
	if want := clk.Now().Truncate(10 * time.Second).Add(10 * time.Second); on.NextRunAt == nil || !on.NextRunAt.Equal(want) {
		t.Errorf("next_run_at after Enable = %v, want %v", on.NextRunAt, want)
	}
	again, err := s.Enable(ctx, sc.ID)
	if err != nil || !again.NextRunAt.Equal(*on.NextRunAt) {
		t.Errorf("a second Enable: %+v, %v; want no change", again, err)
	}
	if jobs := stepAndFire(t, s, clk, 10*time.Second, 2); len(jobs) != 2 {
		t.Errorf("enabled again: %d jobs in two ticks, want 2", len(jobs))
	}
	// Trigger on an enabled schedule leaves its position alone too.
	before := getSchedule(t, st, sc.ID)
	if _, err := s.Trigger(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if after := getSchedule(t, st, sc.ID); !after.NextRunAt.Equal(*before.NextRunAt) || after.ExecutionCount != before.ExecutionCount {
		t.Errorf("Trigger moved the schedule: before %+v, after %+v", before, after)
	}

	for _, op := range []func(context.Context, int64) error{
		func(ctx context.Context, id int64) error { _, err := s.Enable(ctx, id); return err },
		func(ctx context.Context, id int64) error { _, err := s.Disable(ctx, id); return err },
		func(ctx context.Context, id int64) error { _, err := s.Trigger(ctx, id); return err },
		s.Delete,
	} {
		if err := op(ctx, 424242); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("on an unknown schedule: got %v, want a NotFoundError", err)
		}
	}
	if err := s.Delete(ctx, sc.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := st.Schedules().Get(ctx, sc.ID); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
	if n := len(jobsOf(t, st, sc.ID)); n != 0 {
		// Jobs stay but lose their schedule_id.
		t.Errorf("%d jobs still point at the deleted schedule", n)
	}
}

func TestUpdateKeepsOrMovesPosition(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", true)
	sc := mustCreate(t, s, core.Schedule{TaskID: task.ID, Name: "a", CronExpression: "@hourly", Enabled: true})
	pos := *sc.NextRunAt

	clk.Add(10 * time.Minute)
	sc.Name = "b"
	sc.Input = json.RawMessage(`{"x":2}`)
	up, err := s.Update(t.Context(), sc)
	if err != nil || up.Name != "b" || string(up.Input) != `{"x":2}` || !up.NextRunAt.Equal(pos) {
		t.Fatalf("Update of name and input: %+v, %v; want next_run_at kept at %v", up, err, pos)
	}
	up.CronExpression = "*/5 * * * *"
	up, err = s.Update(t.Context(), up)
	if want := start.Add(15 * time.Minute).Truncate(5 * time.Minute); err != nil || !up.NextRunAt.Equal(want) {
		t.Fatalf("Update of the expression: %+v, %v; want next_run_at %v", up, err, want)
	}
	up.Timezone = "Nowhere/Land"
	if _, err := s.Update(t.Context(), up); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("Update with a bad zone: %v, want InvalidArgument", err)
	}
	up.Timezone, up.Enabled = "UTC", false
	if up, err = s.Update(t.Context(), up); err != nil || up.Enabled || up.NextRunAt != nil {
		t.Errorf("Update disabling: %+v, %v", up, err)
	}
}

func TestDisabledTaskSkipsTick(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", false)
	sc := mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "* * * * * *", Enabled: true})
	if jobs := stepAndFire(t, s, clk, time.Second, 2); len(jobs) != 0 {
		t.Fatalf("a disabled task's schedule enqueued %d jobs", len(jobs))
	}
	if got := getSchedule(t, st, sc.ID); got.ExecutionCount != 2 || got.NextRunAt == nil || !got.NextRunAt.After(clk.Now()) {
		t.Errorf("skipped ticks: %+v; want them consumed", got)
	}
}

func TestInvalidStoredExpressionIsDisabled(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now})
	task := createTask(t, st, "task", true)
	// Written around the scheduler, as an older version might have.
	sc, err := st.Schedules().Create(t.Context(), core.Schedule{TaskID: task.ID, CronExpression: "not cron", Enabled: true, NextRunAt: ptr(start)})
	if err != nil {
		t.Fatal(err)
	}
	good := mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "* * * * * *", Enabled: true})
	jobs := stepAndFire(t, s, clk, time.Second, 1)
	if len(jobs) != 1 || *jobs[0].ScheduleID != good.ID {
		t.Fatalf("jobs = %+v, want one from the valid schedule", jobs)
	}
	if got := getSchedule(t, st, sc.ID); got.Enabled || got.NextRunAt != nil {
		t.Errorf("invalid schedule: %+v, want it disabled", got)
	}
}

func TestBatchesManySchedules(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now, Batch: 3})
	task := createTask(t, st, "task", true)
	for range 10 {
		mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "* * * * *", Enabled: true})
	}
	if jobs := stepAndFire(t, s, clk, time.Minute, 1); len(jobs) != 10 {
		t.Errorf("batches of 3: %d jobs for 10 due schedules, want 10", len(jobs))
	}
}

// TestSchedulersShareTicks runs two schedulers (two nodes) on one database
// with one clock, firing concurrently: every tick gives exactly one job.
func TestSchedulersShareTicks(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testSharedTicks(t, openStores(t, 2))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testSharedTicks(t, openPostgresStores(t, 2))
	})
}

func testSharedTicks(t *testing.T, stores []*sqlstore.Store) {
	clk := newClock(start)
	var scheds []*scheduler.Scheduler
	for i, st := range stores {
		scheds = append(scheds, newScheduler(t, st, &recorder{}, scheduler.Config{Now: clk.Now, Node: "node" + string(rune('1'+i)), Batch: 2}))
	}
	task := createTask(t, stores[0], "task", true)
	var ids []int64
	for range 4 {
		ids = append(ids, mustCreate(t, scheds[0], core.Schedule{TaskID: task.ID, CronExpression: "* * * * * *", Enabled: true}).ID)
	}
	const ticks = 15
	fired := make([]int, len(scheds))
	for range ticks {
		clk.Add(time.Second)
		var wg sync.WaitGroup
		for i, s := range scheds {
			wg.Go(func() {
				jobs, err := s.FireDue(t.Context())
				if err != nil {
					t.Errorf("FireDue on node %d: %v", i+1, err)
				}
				fired[i] += len(jobs)
			})
		}
		wg.Wait()
	}
	if total := fired[0] + fired[1]; total != ticks*len(ids) {
		t.Errorf("nodes enqueued %v jobs, total %d, want %d", fired, total, ticks*len(ids))
	}
	for _, id := range ids {
		jobs := jobsOf(t, stores[1], id)
		if len(jobs) != ticks {
			t.Errorf("schedule %d: %d jobs, want %d", id, len(jobs), ticks)
		}
		assertOnePerTick(t, jobs)
	}
}

// TestLoopRealTime runs two started schedulers on one SQLite file with the
// real clock: a schedule every second fires N±1 times in N seconds, with
// no duplicate tick.
func TestLoopRealTime(t *testing.T) {
	t.Parallel()
	stores := openStores(t, 2)
	task := createTask(t, stores[0], "task", true)
	var scheds []*scheduler.Scheduler
	pubs := []*recorder{{}, {}}
	for i, st := range stores {
		scheds = append(scheds, newScheduler(t, st, pubs[i], scheduler.Config{}))
	}
	sc := mustCreate(t, scheds[0], core.Schedule{TaskID: task.ID, CronExpression: "* * * * * *", Enabled: true})
	began := time.Now()
	for _, s := range scheds {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	const n = 3
	time.Sleep(n * time.Second)
	for _, s := range scheds {
		if err := s.Stop(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(began)
	jobs := jobsOf(t, stores[0], sc.ID)
	if len(jobs) < n-1 || len(jobs) > n+1 {
		t.Errorf("%d jobs in %s, want %d±1", len(jobs), elapsed.Round(time.Millisecond), n)
	}
	assertOnePerTick(t, jobs)
	if evs := len(pubs[0].Events()) + len(pubs[1].Events()); evs != len(jobs) {
		t.Errorf("%d events for %d jobs", evs, len(jobs))
	}
}

// TestWakeCutsSleepShort: with nothing due for a minute, a schedule whose
// tick is due is fired as soon as Wake is called.
func TestWakeCutsSleepShort(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	clk := newClock(start)
	pub := &recorder{}
	s := newScheduler(t, st, pub, scheduler.Config{Now: clk.Now, PollMax: time.Hour})
	task := createTask(t, st, "task", true)
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Create wakes the loop, which then sleeps until the first tick, an
	// hour away on the fake clock.
	mustCreate(t, s, core.Schedule{TaskID: task.ID, CronExpression: "@hourly", Enabled: true})
	time.Sleep(50 * time.Millisecond)
	if n := len(pub.Events()); n != 0 {
		t.Fatalf("%d jobs before the tick", n)
	}
	clk.Add(time.Hour)
	s.Wake()
	waitFor(t, "the woken loop to fire", 2*time.Second, func() bool { return len(pub.Events()) == 1 })
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	s := newScheduler(t, st, &recorder{}, scheduler.Config{})
	if err := s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := s.Start(t.Context()); !errors.Is(err, lifecycle.ErrStopped) {
		t.Errorf("Start after Stop: %v, want ErrStopped", err)
	}
	s2 := newScheduler(t, st, &recorder{}, scheduler.Config{})
	if err := s2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(t.Context()); !errors.Is(err, lifecycle.ErrAlreadyStarted) {
		t.Errorf("second Start: %v, want ErrAlreadyStarted", err)
	}
	for range 2 {
		if err := s2.Stop(t.Context()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
}
