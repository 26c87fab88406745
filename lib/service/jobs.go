package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Jobs are the job operations.
type Jobs struct{ s *Service }

// CreateJob is a request to enqueue a job (POST /jobs). Zero fields take
// the defaults: normal priority, max_retries and retry_delay_seconds from
// server.job_queue, process now, input {}.
type CreateJob struct {
	// TaskRef names the task by id, uuid or name.
	TaskRef            string
	Input              json.RawMessage
	Priority           *core.Priority
	MaxRetries         *int
	RetryDelaySeconds  *int
	TimeoutSeconds     int
	ProcessAt          time.Time
	IdempotencyKey     string
	OutputDestinations []core.OutputDestination
	ScheduleID         *int64
	Metadata           map[string]any
}

// Enqueued is one job of a batch: the stored job, and whether it existed
// already (same idempotency key).
type Enqueued struct {
	Job     core.Job `json:"job"`
	Existed bool     `json:"existed"`
}

// List returns one page of jobs (see sqlstore.JobRepo.List for fields).
func (j *Jobs) List(ctx context.Context, q core.ListQuery) (core.Page[core.Job], error) {
	if err := q.Normalize(); err != nil {
		return core.Page[core.Job]{}, err
	}
	return j.s.d.Store.Jobs().List(ctx, q)
}

// Get returns a job by numeric id or uuid.
func (j *Jobs) Get(ctx context.Context, ref string) (core.Job, error) {
	id, isID, key, err := parseRef("job", "id", ref)
	switch {
	case err != nil:
		return core.Job{}, err
	case isID:
		return j.s.d.Store.Jobs().Get(ctx, id)
	}
	return j.s.d.Store.Jobs().GetByUUID(ctx, key)
}

// prepare validates a request and builds the job. tasks caches task
// lookups within a batch.
func (j *Jobs) prepare(ctx context.Context, req CreateJob, tasks map[string]core.Task) (core.Job, error) {
	ref := strings.TrimSpace(req.TaskRef)
	t, ok := tasks[ref]
	if !ok {
		var err error
		if t, err = j.s.tasks.resolveParam(ctx, "task_id", ref); err != nil {
			return core.Job{}, err
		}
		if tasks != nil {
			tasks[ref] = t
		}
	}
	if err := taskDisabled(t); err != nil {
		return core.Job{}, err
	}
	input, err := j.s.checkInput(req.Input)
	if err != nil {
		return core.Job{}, err
	}
	prio := core.PriorityNormal
	if req.Priority != nil {
		if !req.Priority.Valid() {
			return core.Job{}, core.Errorf(core.KindInvalidArgument, "invalid priority %d: must be low, normal, high or urgent", int(*req.Priority)).
				WithDetail("field", "priority")
		}
		prio = *req.Priority
	}
	maxRetries := j.s.cfg.DefaultMaxRetries
	if req.MaxRetries != nil {
		if *req.MaxRetries < 0 || *req.MaxRetries > 100 {
			return core.Job{}, core.Errorf(core.KindInvalidArgument, "max_retries must be between 0 and 100, got %d", *req.MaxRetries).
				WithDetail("field", "max_retries")
		}
		maxRetries = *req.MaxRetries
	}
	delay := int(j.s.cfg.DefaultRetryDelay / time.Second)
	if req.RetryDelaySeconds != nil {
		if *req.RetryDelaySeconds < 0 || *req.RetryDelaySeconds > 86400 {
			return core.Job{}, core.Errorf(core.KindInvalidArgument, "retry_delay_seconds must be between 0 and 86400, got %d", *req.RetryDelaySeconds).
				WithDetail("field", "retry_delay_seconds")
		}
		delay = *req.RetryDelaySeconds
	}
	if req.TimeoutSeconds < 0 || req.TimeoutSeconds > 86400 {
		return core.Job{}, core.Errorf(core.KindInvalidArgument, "timeout_seconds must be between 0 and 86400, got %d", req.TimeoutSeconds).
			WithDetail("field", "timeout_seconds")
	}
	if len(req.IdempotencyKey) > 255 {
		return core.Job{}, core.Errorf(core.KindInvalidArgument, "idempotency_key is longer than 255 characters").
			WithDetail("field", "idempotency_key")
	}
	if err := j.s.checkDestinations(req.OutputDestinations); err != nil {
		return core.Job{}, err
	}
	return core.Job{
		TaskID: t.ID, TaskName: t.Name, Priority: prio, Input: input,
		MaxRetries: maxRetries, RetryDelaySeconds: delay, TimeoutSeconds: req.TimeoutSeconds,
		ProcessAt: req.ProcessAt.UTC(), ScheduleID: req.ScheduleID, IdempotencyKey: req.IdempotencyKey,
		OutputDestinations: req.OutputDestinations, Metadata: req.Metadata,
	}, nil
}

// Create enqueues a job. A job whose idempotency key is taken is not
// created: the existing one is returned with existed true. A full queue
// is a RateLimitError (429).
func (j *Jobs) Create(ctx context.Context, req CreateJob) (job core.Job, existed bool, err error) {
	job, err = j.prepare(ctx, req, nil)
	if err != nil {
		return core.Job{}, false, err
	}
	if err := j.s.queue.admit(ctx, 1); err != nil {
		return core.Job{}, false, err
	}
	job, existed, err = j.s.d.Store.Jobs().Enqueue(ctx, job)
	if err != nil || existed {
		j.s.queue.release(1)
		return job, existed, err
	}
	j.enqueued(ctx, job)
	j.s.d.Dispatcher.WakeAt(job.ProcessAt)
	return job, false, nil
}

// CreateBatch enqueues many jobs in one transaction: all or none. The
// results are in request order.
func (j *Jobs) CreateBatch(ctx context.Context, reqs []CreateJob) ([]Enqueued, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	tasks := make(map[string]core.Task, 1)
	jobs := make([]core.Job, len(reqs))
	for i, req := range reqs {
		job, err := j.prepare(ctx, req, tasks)
		if err != nil {
			return nil, prefixError(err, "job %d of the batch", i)
		}
		jobs[i] = job
	}
	if err := j.s.queue.admit(ctx, len(jobs)); err != nil {
		return nil, err
	}
	res, err := j.s.d.Store.Jobs().EnqueueBatch(ctx, jobs)
	if err != nil {
		j.s.queue.release(len(jobs))
		return nil, err
	}
	out := make([]Enqueued, len(res))
	var first time.Time
	existing := 0
	for i, r := range res {
		out[i] = Enqueued{Job: r.Job, Existed: r.Existed}
		if r.Existed {
			existing++
			continue
		}
		j.enqueued(ctx, r.Job)
		if first.IsZero() || r.Job.ProcessAt.Before(first) {
			first = r.Job.ProcessAt
		}
	}
	j.s.queue.release(existing)
	if !first.IsZero() {
		j.s.d.Dispatcher.WakeAt(first)
	}
	return out, nil
}

func (j *Jobs) enqueued(ctx context.Context, job core.Job) {
	if j.s.d.Publisher == nil {
		return
	}
	jc := job
	j.s.publish(ctx, core.Event{Type: core.EventJobQueued, Job: &jc})
}

// Cancel cancels a queued, retrying or processing job; a running attempt
// is interrupted and its execution ends cancelled. A finished job is a
// conflict.
func (j *Jobs) Cancel(ctx context.Context, id int64) (core.Job, error) {
	job, err := j.s.d.Store.Jobs().Cancel(ctx, id)
	if err != nil {
		return core.Job{}, transitionConflict(err, id, core.JobCancelled)
	}
	j.s.d.Dispatcher.CancelJob(id)
	jc := job
	j.s.publish(ctx, core.Event{Type: core.EventJobCancelled, Job: &jc})
	return job, nil
}

// Retry queues a failed or cancelled job again, with its attempts reset.
func (j *Jobs) Retry(ctx context.Context, id int64) (core.Job, error) {
	cur, err := j.s.d.Store.Jobs().Get(ctx, id)
	if err != nil {
		return core.Job{}, err
	}
	if cur.Status != core.JobFailed && cur.Status != core.JobCancelled {
		return core.Job{}, core.Errorf(core.KindConflict, "job %d is %s: only failed or cancelled jobs can be retried", id, cur.Status).
			WithDetail("status", string(cur.Status))
	}
	if err := j.s.queue.admit(ctx, 1); err != nil {
		return core.Job{}, err
	}
	job, err := j.s.d.Store.Jobs().Requeue(ctx, id, sqlstore.RequeueOptions{ResetAttempts: true})
	if err != nil {
		j.s.queue.release(1)
		return core.Job{}, transitionConflict(err, id, core.JobQueued)
	}
	j.enqueued(ctx, job)
	j.s.d.Dispatcher.WakeAt(job.ProcessAt)
	return job, nil
}

// Delete removes a finished job (completed, failed or cancelled). A job
// that is queued, retrying or processing is a ConflictError (409): cancel
// it first. The check and the delete are one transaction, which on SQLite
// holds the write lock from its start, so no claim or retry can slip
// between them.
func (j *Jobs) Delete(ctx context.Context, id int64) error {
	return j.s.d.Store.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
		cur, err := tx.Jobs().Get(ctx, id)
		if err != nil {
			return err
		}
		if !cur.Status.Terminal() {
			return core.Errorf(core.KindConflict, "job %d is %s: only completed, failed or cancelled jobs can be deleted; cancel it first", id, cur.Status).
				WithDetail("job_id", id).WithDetail("status", string(cur.Status))
		}
		return tx.Jobs().Delete(ctx, id)
	})
}

// Wait blocks until job id is completed, failed or cancelled, or ctx ends,
// and returns the job as it ended.
func (j *Jobs) Wait(ctx context.Context, id int64) (core.Job, error) {
	var events <-chan core.Event
	if j.s.d.Subscriber != nil {
		ch, cancel := j.s.d.Subscriber.Subscribe(ctx, func(ev core.Event) bool {
			return ev.Job != nil && ev.Job.ID == id && ev.Job.Status.Terminal()
		})
		defer cancel()
		events = ch
	}
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for {
		job, err := j.s.d.Store.Jobs().Get(ctx, id)
		if err != nil {
			return core.Job{}, err
		}
		if job.Status.Terminal() {
			return job, nil
		}
		select {
		case <-ctx.Done():
			// A cause that is a core error keeps its kind (and its message
			// names it once); a plain one takes the context's kind.
			err := prefixError(context.Cause(ctx), "waiting for job %d", id)
			if _, ok := err.(*core.Error); !ok {
				err = core.WrapError(core.KindOf(ctx.Err()), context.Cause(ctx), fmt.Sprintf("waiting for job %d", id))
			}
			return job, err
		case ev, ok := <-events:
			if ok && ev.Job.Status == core.JobCompleted {
				return *ev.Job, nil
			}
			if !ok {
				events = nil
			}
		case <-poll.C:
		}
	}
}

// JobStats count jobs by status and by priority (GET /jobs/stats).
type JobStats struct {
	Total        int                    `json:"total"`
	Active       int                    `json:"active"`
	MaxQueueSize int                    `json:"max_queue_size"`
	ByStatus     map[core.JobStatus]int `json:"by_status"`
	// ByPriority counts the active jobs (queued, retrying and processing)
	// by priority.
	ByPriority map[string]int `json:"by_priority"`
	// Queued counts the jobs waiting (queued and retrying) by priority.
	Queued map[string]int `json:"queued_by_priority"`
	// QueueDepth is the number of jobs waiting (queued and retrying).
	QueueDepth int `json:"queue_depth"`
	// OldestWaitingAt is the process_at of the job that has waited longest
	// (queued or retrying); nil when none waits.
	OldestWaitingAt *time.Time `json:"oldest_waiting_at"`
}

// waitingStatuses are the statuses of jobs waiting to run.
var waitingStatuses = []string{string(core.JobQueued), string(core.JobRetrying)}

// Stats counts the jobs: one grouped count, and when jobs wait, one read
// of the longest-waiting one.
func (j *Jobs) Stats(ctx context.Context) (JobStats, error) {
	rows, err := j.s.d.Store.Jobs().QueueDepth(ctx)
	if err != nil {
		return JobStats{}, err
	}
	st := JobStats{
		MaxQueueSize: j.s.cfg.MaxQueueSize,
		ByStatus:     make(map[core.JobStatus]int, len(core.JobStatuses)),
		ByPriority:   make(map[string]int, len(core.Priorities)),
		Queued:       make(map[string]int, len(core.Priorities)),
	}
	for _, s := range core.JobStatuses {
		st.ByStatus[s] = 0
	}
	for _, p := range core.Priorities {
		st.ByPriority[p.String()] = 0
		st.Queued[p.String()] = 0
	}
	for _, r := range rows {
		st.Total += r.Count
		st.ByStatus[r.Status] += r.Count
		switch r.Status {
		case core.JobQueued, core.JobRetrying:
			st.Queued[r.Priority.String()] += r.Count
			st.ByPriority[r.Priority.String()] += r.Count
			st.QueueDepth += r.Count
			st.Active += r.Count
		case core.JobProcessing:
			st.ByPriority[r.Priority.String()] += r.Count
			st.Active += r.Count
		}
	}
	if st.QueueDepth == 0 {
		return st, nil
	}
	// The longest-waiting job is the last of the waiting jobs newest first:
	// the count above says where it is, and asking past it makes this the
	// last page, which the store reads without counting again.
	page, err := j.s.d.Store.Jobs().List(ctx, core.ListQuery{
		Filters: []core.Filter{{Field: "status", Op: core.OpIn, Values: waitingStatuses}},
		Sort:    []core.SortField{{Field: "process_at", Desc: true}, {Field: "id", Desc: true}},
		Offset:  st.QueueDepth - 1,
		Limit:   2,
	})
	if err != nil {
		return JobStats{}, err
	}
	if n := len(page.Items); n > 0 {
		t := page.Items[n-1].ProcessAt.UTC()
		st.OldestWaitingAt = &t
	}
	return st, nil
}
