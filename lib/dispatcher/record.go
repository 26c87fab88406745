package dispatcher

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/resilience/retry"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

type action int

const (
	actNone     action = iota // the job's state is someone else's (cancelled, lease lost)
	actComplete               // processing → completed
	actRetry                  // processing → retrying
	actFail                   // processing → failed
	actRequeue                // processing → queued (shutdown)
)

// outcome is what the completer records for one attempt.
type outcome struct {
	r      *run
	exec   core.Execution
	act    action
	nextAt time.Time
	fail   *core.Error

	job     core.Job // the job after the change, when the store returned it
	jobErr  error    // the job change was refused (conflict, not found)
	execErr error    // the execution finish was refused
}

// complete group-commits finished attempts until results is closed.
func (d *Dispatcher) complete() {
	defer close(d.completer)
	const maxBatch = 500
	batch := make([]*run, 0, 64)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for r := range d.results {
		batch = append(batch[:0], r)
		// While short attempts are running, more results are due within
		// moments: wait a little for them, since a transaction per result
		// or two costs more than the wait. An idle node records at once.
		if d.collect(&batch, maxBatch, nil) && len(batch) < maxBatch && d.cfg.RecordDelay > 0 &&
			d.running.Load() > 0 && d.avgNanos.Load() < int64(d.cfg.ShortJob) {
			linger.Reset(d.cfg.RecordDelay)
			d.collect(&batch, maxBatch, linger.C)
			linger.Stop()
		}
		d.record(batch)
	}
}

// collect adds results to batch, up to limit: those waiting or, when until
// is set, those that come before it fires. It reports false when results
// is closed.
func (d *Dispatcher) collect(batch *[]*run, limit int, until <-chan time.Time) bool {
	for len(*batch) < limit {
		var (
			r  *run
			ok bool
		)
		if until == nil {
			select {
			case r, ok = <-d.results:
			default:
				return true
			}
		} else {
			select {
			case r, ok = <-d.results:
			case <-until:
				return true
			}
		}
		if !ok {
			return false
		}
		*batch = append(*batch, r)
	}
	return true
}

// decide turns an attempt's result into the execution's end and the job's
// next state (SPEC §3).
func (d *Dispatcher) decide(r *run, now time.Time) outcome {
	o := outcome{r: r, exec: r.exec}
	e := &o.exec
	e.WorkerID = r.workerID
	start, end := r.startedAt, r.endedAt
	if start.IsZero() {
		start = now
	}
	if end.IsZero() {
		end = now
	}
	start, end = start.UTC(), end.UTC()
	ms := end.Sub(start).Milliseconds()
	e.StartedAt, e.CompletedAt, e.DurationMS = &start, &end, &ms
	e.Logs, e.HTTPRequests = r.res.Logs, r.res.HTTPRequests
	reason := r.interrupted()

	var fail *core.Error
	switch {
	case r.notStarted:
		fail = core.NewError(core.KindCancelled, "not started: the node is shutting down and queued the job again")
		o.act = actRequeue
	case r.loadErr != nil:
		fail = asCoreError(r.loadErr)
	case r.execErr != nil:
		fail = asCoreError(r.execErr)
		if reason == reasonShutdown || d.isStopping() {
			o.act = actRequeue
		}
	case r.res.Err != nil:
		fail = r.res.Err
	}
	if fail == nil {
		e.Status = core.ExecutionCompleted
		e.Output = r.res.Output
		o.act = actComplete
		return o
	}
	o.fail = fail
	e.Status = core.ExecutionFailed
	if fail.Kind == core.KindCancelled {
		e.Status = core.ExecutionCancelled
	}
	e.ErrorType, e.ErrorMessage = string(fail.Kind), fail.Message
	if len(fail.Details) > 0 {
		if b, err := json.Marshal(fail.Details); err == nil {
			e.ErrorDetails = b
		}
	}
	if o.act == actRequeue {
		return o
	}
	switch reason {
	case reasonCancelled, reasonLeaseLost:
		o.act = actNone
		return o
	case reasonShutdown:
		o.act = actRequeue
		return o
	}
	if fail.Retryable() && r.job.Attempts <= r.job.MaxRetries {
		o.act = actRetry
		o.nextAt = now.Add(d.retryDelay(r.job))
		return o
	}
	o.act = actFail
	return o
}

// retryDelay is the backoff after the job's latest attempt:
// retry_delay_seconds·2^(attempt-1), jittered, capped.
func (d *Dispatcher) retryDelay(j core.Job) time.Duration {
	p := retry.Policy{
		InitialDelay: time.Duration(j.RetryDelaySeconds) * time.Second,
		MaxDelay:     d.cfg.MaxRetryDelay,
		Multiplier:   2,
		Jitter:       d.cfg.RetryJitter,
	}
	if p.MaxDelay < p.InitialDelay {
		p.MaxDelay = p.InitialDelay
	}
	return p.Delay(j.Attempts)
}

func asCoreError(err error) *core.Error {
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce
	}
	return core.WrapError(core.KindOf(err), err, "")
}

// refused reports whether err is the store refusing a state change
// (rather than the database failing).
func refused(err error) bool {
	return errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrNotFound)
}

// record stores a batch of finished attempts in one transaction, then
// publishes their events and starts deliveries.
func (d *Dispatcher) record(batch []*run) {
	ctx := context.Background()
	now := d.cfg.Now()
	outs := make([]outcome, 0, len(batch))
	for _, r := range batch {
		if r.abandoned {
			continue
		}
		outs = append(outs, d.decide(r, now))
	}
	var err error
	for attempt := 1; attempt <= 5; attempt++ {
		if err = d.store.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
			return d.write(ctx, tx, outs)
		}); err == nil {
			break
		}
		d.log.Warn("recording finished jobs failed; trying again", slog.Int("jobs", len(outs)),
			slog.Int("attempt", attempt), slog.Any("error", err))
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
	}
	if err != nil {
		// The leases expire and the jobs run again (at least once).
		d.log.Error("recording finished jobs failed; their leases will expire and they will run again",
			slog.Int("jobs", len(outs)), slog.Any("error", err))
	}
	d.mu.Lock()
	for _, r := range batch {
		if d.runs[r.job.ID] == r {
			delete(d.runs, r.job.ID)
		}
	}
	d.mu.Unlock()
	for _, r := range batch {
		r.cancel(nil)
	}
	if err != nil {
		return
	}
	for i := range outs {
		d.announce(ctx, &outs[i], now)
	}
}

// write applies the outcomes inside tx. Refusals (a job cancelled or taken
// over meanwhile) are noted per outcome; database errors abort.
func (d *Dispatcher) write(ctx context.Context, tx *sqlstore.Store, outs []outcome) error {
	var (
		cs  []sqlstore.Completion
		idx []int
	)
	execs := make([]core.Execution, len(outs))
	for i := range outs {
		execs[i] = outs[i].exec
	}
	fins, finErrs, err := tx.Executions().FinishMany(ctx, execs)
	if err != nil {
		return err
	}
	for i := range outs {
		o := &outs[i]
		o.jobErr, o.execErr = nil, nil
		if err := finErrs[i]; err != nil {
			if !refused(err) {
				return err
			}
			o.execErr = err
		} else {
			o.exec = fins[i]
		}
		execID := o.r.exec.ID
		lease := sqlstore.Lease{Owner: d.cfg.Node, Attempt: o.r.job.Attempts}
		var (
			job core.Job
			err error
		)
		switch o.act {
		case actComplete:
			cs = append(cs, sqlstore.Completion{ID: o.r.job.ID, Outcome: sqlstore.Outcome{
				Output: o.exec.Output, ExecutionID: &execID, Lease: lease,
			}})
			idx = append(idx, i)
			continue
		case actRetry:
			job, err = tx.Jobs().Retry(ctx, o.r.job.ID, o.nextAt, sqlstore.Outcome{
				ExecutionID: &execID, ErrorType: o.exec.ErrorType, ErrorMessage: o.exec.ErrorMessage, Lease: lease,
			})
		case actFail:
			job, err = tx.Jobs().Fail(ctx, o.r.job.ID, sqlstore.Outcome{
				ExecutionID: &execID, ErrorType: o.exec.ErrorType, ErrorMessage: o.exec.ErrorMessage, Lease: lease,
			})
		case actRequeue:
			job, err = tx.Jobs().Requeue(ctx, o.r.job.ID, sqlstore.RequeueOptions{Lease: lease})
		default:
			continue
		}
		if err != nil {
			if !refused(err) {
				return err
			}
			o.jobErr = err
			continue
		}
		o.job = job
	}
	if len(cs) == 0 {
		return nil
	}
	errs, err := tx.Jobs().CompleteMany(ctx, cs)
	if err != nil {
		return err
	}
	for k, e := range errs {
		outs[idx[k]].jobErr = e
	}
	return nil
}

// announce publishes what one recorded outcome changed and starts its
// delivery.
func (d *Dispatcher) announce(ctx context.Context, o *outcome, now time.Time) {
	r := o.r
	if o.execErr == nil {
		exec := o.exec
		d.publish(ctx, core.Event{Type: core.EventExecutionFinished, Execution: &exec})
	}
	if o.jobErr != nil {
		d.log.Info("job changed while it ran; its attempt's result was not applied to it",
			slog.Int64("job_id", r.job.ID), slog.Any("reason", o.jobErr))
		return
	}
	switch o.act {
	case actNone:
		d.stats.cancelled.Add(1)
	case actComplete:
		d.stats.completed.Add(1)
		job := r.job
		execID := r.exec.ID
		done := now.UTC()
		job.Status, job.Output, job.ExecutionID, job.CompletedAt = core.JobCompleted, o.exec.Output, &execID, &done
		job.ErrorType, job.ErrorMessage, job.LeaseOwner, job.LeaseExpiresAt = "", "", "", nil
		d.publish(ctx, core.Event{Type: core.EventJobCompleted, Job: &job})
		d.deliver(&job, &o.exec)
	case actRetry:
		d.stats.retried.Add(1)
		job := o.job
		d.publish(ctx, core.Event{Type: core.EventJobRetrying, Job: &job})
		d.WakeAt(o.nextAt)
	case actFail:
		d.stats.failed.Add(1)
		job := o.job
		d.publish(ctx, core.Event{Type: core.EventJobFailed, Job: &job})
	case actRequeue:
		d.stats.requeued.Add(1)
		job := o.job
		d.publish(ctx, core.Event{Type: core.EventJobQueued, Job: &job})
	}
}

func (d *Dispatcher) deliver(job *core.Job, exec *core.Execution) {
	if d.cfg.Deliverer == nil {
		return
	}
	should := d.cfg.ShouldDeliver
	if should == nil {
		should = func(j *core.Job) bool { return len(j.OutputDestinations) > 0 }
	}
	if !should(job) {
		return
	}
	d.deliveries.Go(func() {
		d.cfg.Deliverer.Deliver(d.deliverCtx, job, exec, job.TaskName, job.OutputDestinations)
	})
}

// recover takes back what a dead process of this node held, and expired
// leases of any node.
func (d *Dispatcher) recover(ctx context.Context) error {
	ids, err := d.store.Jobs().RequeueNode(ctx, d.cfg.Node)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		d.log.WarnContext(ctx, "requeued jobs a previous process of this node left processing",
			slog.Int("jobs", len(ids)))
		d.closeOrphans(ctx, ids, "the node running this attempt stopped; the job was queued again")
	}
	_, err = d.reclaimExpired(ctx)
	return err
}

// reclaimExpired takes back expired leases and closes their attempts'
// executions. It returns how many jobs were requeued.
func (d *Dispatcher) reclaimExpired(ctx context.Context) (int, error) {
	res, err := d.store.Jobs().ReclaimExpired(ctx, d.cfg.Now())
	if err != nil {
		return 0, err
	}
	if n := len(res.Requeued) + len(res.Failed); n > 0 {
		d.log.WarnContext(ctx, "reclaimed jobs whose lease expired",
			slog.Int("requeued", len(res.Requeued)), slog.Int("failed", len(res.Failed)))
		d.closeOrphans(ctx, append(res.Requeued, res.Failed...), "the lease of this attempt expired: its worker or node stopped")
	}
	return len(res.Requeued), nil
}

// closeOrphans ends the executions that attempts of jobs ids left pending
// or running, as WorkerCrashError.
func (d *Dispatcher) closeOrphans(ctx context.Context, ids []int64, msg string) {
	now := d.cfg.Now().UTC()
	for start := 0; start < len(ids); start += 200 {
		part := ids[start:min(start+200, len(ids))]
		vals := make([]string, len(part))
		for i, id := range part {
			vals[i] = strconv.FormatInt(id, 10)
		}
		page, err := d.store.Executions().List(ctx, core.ListQuery{
			Filters: []core.Filter{
				{Field: "job_id", Op: core.OpIn, Values: vals},
				{Field: "status", Op: core.OpIn, Values: []string{string(core.ExecutionPending), string(core.ExecutionRunning)}},
			},
			Limit: core.MaxPageSize,
		})
		if err != nil {
			d.log.Warn("looking up orphaned executions failed", slog.Any("error", err))
			continue
		}
		for _, e := range page.Items {
			e.Status = core.ExecutionFailed
			e.ErrorType, e.ErrorMessage = string(core.KindWorkerCrash), msg
			e.CompletedAt = &now
			if _, err := d.store.Executions().Finish(ctx, e); err != nil && !refused(err) {
				d.log.Warn("closing an orphaned execution failed", slog.Int64("execution_id", e.ID), slog.Any("error", err))
			}
		}
	}
}
