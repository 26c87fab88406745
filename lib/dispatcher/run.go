package dispatcher

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/host"
	"github.com/ratchet-go/ratchet/plugin/sdk"
	"github.com/ratchet-go/ratchet/runtime/worker"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Why an attempt was interrupted.
const (
	reasonCancelled = "cancelled"
	reasonShutdown  = "shutdown"
	reasonLeaseLost = "lease_lost"
)

// run is one claimed job attempt, from claim to record.
type run struct {
	job     core.Job
	exec    core.Execution
	task    core.Task
	content worker.Task
	loadErr error

	ctx    context.Context
	cancel context.CancelCauseFunc

	mu     sync.Mutex
	reason string // why it was interrupted, "" while not

	// Set by the runner; read by the completer after the hand-off.
	notStarted bool // never ran (shutdown before a runner took it)
	abandoned  bool // Abandon: record nothing
	res        worker.Result
	execErr    error // the pool refused the execution
	workerID   string
	startedAt  time.Time
	endedAt    time.Time
}

func newRun(job core.Job, exec core.Execution, task core.Task, loadErr error) *run {
	r := &run{job: job, exec: exec, task: task, loadErr: loadErr}
	r.ctx, r.cancel = context.WithCancelCause(context.Background())
	return r
}

// interrupt cancels the attempt; the first reason wins.
func (r *run) interrupt(reason string) {
	r.mu.Lock()
	if r.reason == "" {
		r.reason = reason
	}
	r.mu.Unlock()
	r.cancel(core.Errorf(core.KindCancelled, "execution interrupted: %s", reason))
}

func (r *run) interrupted() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reason
}

// limit is how many jobs may be claimed and not done running: one per
// worker, plus the prefetch while attempts are short.
func (d *Dispatcher) limit() int64 {
	n := int64(d.workers)
	if avg := d.avgNanos.Load(); avg < int64(d.cfg.ShortJob) {
		n += int64(d.cfg.Prefetch)
	}
	return n
}

// loop claims while there is room and sleeps otherwise.
func (d *Dispatcher) loop() {
	defer close(d.loopDone)
	ctx := context.Background()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var poll <-chan time.Time
	if d.cfg.PollInterval > 0 {
		t := time.NewTicker(d.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	empty := false // the last claim found the queue empty
	// lookup: the next delayed job must be read from the queue (at start,
	// when the timer or the poll fired); otherwise what WakeAt was told
	// and the armed timer suffice.
	lookup := true
	for {
		if d.isStopping() {
			return
		}
		if !empty {
			for {
				free := d.limit() - d.outstanding.Load()
				if free <= 0 {
					break
				}
				// While the runners have work buffered, claim in full
				// batches: a transaction per job or two costs more than
				// the wait.
				if free < int64(d.cfg.BatchSize) && len(d.ready) >= d.workers {
					break
				}
				n := int(min(free, int64(d.cfg.BatchSize)))
				got, err := d.claim(ctx, n)
				if err != nil {
					d.log.Error("claiming jobs failed", slog.Any("error", err))
					d.armTimer(timer, d.cfg.Now().Add(time.Second))
					empty = true
					break
				}
				if got < n {
					empty = true
					d.armNext(ctx, timer, lookup)
					lookup = false
					break
				}
				if d.isStopping() {
					return
				}
			}
		}
		select {
		case <-d.wake:
			empty = false
		case <-timer.C:
			d.mu.Lock()
			d.armedAt = time.Time{}
			d.mu.Unlock()
			empty, lookup = false, true
		case <-poll:
			empty, lookup = false, true
		case <-d.freed:
		case <-d.stopping:
			return
		}
	}
}

// armNext sets the timer to the next known process_at: the earliest of
// what WakeAt was told, the timer already armed and, with lookup, what the
// queue holds.
func (d *Dispatcher) armNext(ctx context.Context, timer *time.Timer, lookup bool) {
	now := d.cfg.Now()
	d.mu.Lock()
	next := d.nextAt
	if !next.IsZero() && !next.After(now) {
		next = time.Time{}
	}
	d.nextAt = time.Time{}
	armed := d.armedAt
	d.mu.Unlock()
	if !lookup {
		if !armed.IsZero() && (next.IsZero() || !next.Before(armed)) {
			return // the armed timer comes first
		}
		if !next.IsZero() {
			d.armTimer(timer, next)
		}
		return
	}
	if at, ok, err := d.store.Jobs().NextReadyAt(ctx); err != nil {
		d.log.Warn("looking up the next delayed job failed", slog.Any("error", err))
	} else if ok && (next.IsZero() || at.Before(next)) {
		next = at
	}
	if next.IsZero() {
		d.disarm(timer)
		return
	}
	d.armTimer(timer, next)
}

func (d *Dispatcher) armTimer(timer *time.Timer, at time.Time) {
	now := d.cfg.Now()
	wait := at.Sub(now)
	// Never spin: a job that should be ready but was not claimed (clock
	// granularity) is looked at again shortly.
	wait = max(wait+time.Millisecond, 5*time.Millisecond)
	timer.Reset(wait)
	d.mu.Lock()
	d.armedAt = at // what the timer is for (it fires a little after)
	d.mu.Unlock()
}

func (d *Dispatcher) disarm(timer *time.Timer) {
	timer.Stop()
	d.mu.Lock()
	d.armedAt = time.Time{}
	d.mu.Unlock()
}

// claim leases up to n jobs and creates their executions in one
// transaction, then hands them to the runners. It returns how many it got.
func (d *Dispatcher) claim(ctx context.Context, n int) (int, error) {
	var runs []*run
	type taskEntry struct {
		task core.Task
		err  error
	}
	err := d.store.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
		runs = runs[:0]
		jobs, err := tx.Jobs().Claim(ctx, d.cfg.Node, n, d.cfg.LeaseDuration)
		if err != nil || len(jobs) == 0 {
			return err
		}
		tasks := make(map[int64]*taskEntry, 1)
		now := d.cfg.Now().UTC()
		entries := make([]*taskEntry, len(jobs))
		execs := make([]core.Execution, len(jobs))
		for i, j := range jobs {
			te, ok := tasks[j.TaskID]
			if !ok {
				te = &taskEntry{}
				te.task, te.err = tx.Tasks().Get(ctx, j.TaskID)
				if te.err == nil && !te.task.Enabled {
					te.err = core.Errorf(core.KindConfiguration, "task %q is disabled", te.task.Name).WithDetail("task_id", j.TaskID)
				}
				if te.err != nil && core.KindOf(te.err) != core.KindNotFound && core.KindOf(te.err) != core.KindConfiguration {
					return te.err
				}
				tasks[j.TaskID] = te
			}
			entries[i] = te
			jobID := j.ID
			started := now
			execs[i] = core.Execution{
				TaskID: j.TaskID, TaskName: j.TaskName, TaskVersion: te.task.Version,
				JobID: &jobID, Status: core.ExecutionRunning, Input: j.Input,
				Attempt: j.Attempts, QueuedAt: j.ProcessAt, StartedAt: &started,
			}
		}
		execs, err = tx.Executions().CreateMany(ctx, execs)
		if err != nil {
			return err
		}
		for i, j := range jobs {
			execID := execs[i].ID // CreateMany made it the job's latest
			j.ExecutionID = &execID
			runs = append(runs, newRun(j, execs[i], entries[i].task, entries[i].err))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(runs) == 0 {
		return 0, nil
	}
	for _, r := range runs {
		if r.loadErr == nil {
			if _, ok := pluginOf(r.task); ok {
				continue // a plugin runs it: no code to load
			}
			r.content, r.loadErr = d.contents.Load(ctx, r.task)
		}
	}
	d.mu.Lock()
	for _, r := range runs {
		d.runs[r.job.ID] = r
	}
	d.mu.Unlock()
	d.outstanding.Add(int64(len(runs)))
	d.stats.claimed.Add(int64(len(runs)))
	for _, r := range runs {
		job := r.job
		d.publish(ctx, core.Event{Type: core.EventJobStarted, Job: &job})
		d.ready <- r
	}
	return len(runs), nil
}

// runner runs claimed jobs, one at a time, until Stop.
func (d *Dispatcher) runner() {
	for {
		var r *run
		select {
		case <-d.stopping:
			return
		case r = <-d.ready:
		}
		if d.isStopping() {
			r.notStarted = true
		} else {
			d.execute(r)
		}
		d.results <- r
		d.outstanding.Add(-1)
		select {
		case d.freed <- struct{}{}:
		default:
		}
	}
}

// execute runs r on the pool.
func (d *Dispatcher) execute(r *run) {
	r.startedAt = d.cfg.Now()
	if r.loadErr != nil || r.ctx.Err() != nil {
		r.endedAt = r.startedAt
		return
	}
	d.running.Add(1)
	limits := d.cfg.Limits
	if r.job.TimeoutSeconds > 0 {
		limits.Timeout = time.Duration(r.job.TimeoutSeconds) * time.Second
	}
	jobID := r.job.ID
	if name, ok := pluginOf(r.task); ok {
		r.res = d.runPlugin(r.ctx, pluginCall{
			plugin: name, task: r.task, input: r.job.Input, timeout: limits.Timeout,
			ec: sdk.ExecContext{
				ExecutionID: r.exec.ID, ExecutionUUID: r.exec.UUID, JobID: jobID,
				TaskID: r.job.TaskID, TaskName: r.job.TaskName, Attempt: r.job.Attempts,
			},
		})
		r.workerID = host.SourcePrefix + name
	} else {
		d.executeOnPool(r, limits, jobID)
	}
	r.endedAt = d.cfg.Now()
	d.running.Add(-1)
	took := int64(r.endedAt.Sub(r.startedAt))
	for {
		old := d.avgNanos.Load()
		next := took
		if old != 0 {
			next = old - old/8 + took/8
		}
		if d.avgNanos.CompareAndSwap(old, next) {
			break
		}
	}
}

// executeOnPool runs r's JS task on a worker of the pool.
func (d *Dispatcher) executeOnPool(r *run, limits worker.Limits, jobID int64) {
	req := worker.Request{
		Task:  r.content,
		Input: r.job.Input,
		Context: worker.ExecContext{
			ExecutionID: execIDString(r.exec.ID),
			JobID:       &jobID,
			TaskID:      r.job.TaskID,
			TaskName:    r.job.TaskName,
			TaskVersion: r.task.Version,
			Attempt:     r.job.Attempts,
		},
		Limits: limits,
	}
	r.res, r.execErr = d.pool.Execute(r.ctx, req)
	r.workerID = d.workerOf(r.res)
}

// maintain extends the leases of claimed jobs and reclaims expired ones,
// until no job runs any more.
func (d *Dispatcher) maintain() {
	ctx := context.Background()
	every := max(d.cfg.LeaseDuration/3, 10*time.Millisecond)
	lease := time.NewTicker(every)
	defer lease.Stop()
	var reclaim <-chan time.Time
	if d.cfg.ReclaimEvery > 0 {
		t := time.NewTicker(d.cfg.ReclaimEvery)
		defer t.Stop()
		reclaim = t.C
	}
	for {
		select {
		case <-d.maintStop:
			return
		case <-lease.C:
			d.extendLeases(ctx)
		case <-reclaim:
			if d.isStopping() {
				continue
			}
			if n, err := d.reclaimExpired(ctx); err != nil {
				d.log.Warn("reclaiming expired leases failed", slog.Any("error", err))
			} else if n > 0 {
				d.Wake()
			}
		}
	}
}

func (d *Dispatcher) extendLeases(ctx context.Context) {
	d.mu.Lock()
	runs := make([]*run, 0, len(d.runs))
	for _, r := range d.runs {
		runs = append(runs, r)
	}
	d.mu.Unlock()
	for _, r := range runs {
		if r.ctx.Err() != nil {
			continue
		}
		_, err := d.store.Jobs().ExtendLease(ctx, r.job.ID, d.cfg.Node, d.cfg.LeaseDuration)
		switch {
		case err == nil:
		case errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrNotFound):
			// Cancelled, deleted or taken over elsewhere: stop working on it.
			d.log.Info("lease of a running job lost; interrupting it",
				slog.Int64("job_id", r.job.ID), slog.Any("reason", err))
			r.interrupt(reasonLeaseLost)
		default:
			d.log.Warn("extending a job lease failed", slog.Int64("job_id", r.job.ID), slog.Any("error", err))
		}
	}
}
