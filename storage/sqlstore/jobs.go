package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/ratchet-go/ratchet/core"
)

// JobRepo is the job queue: enqueue, claim with a lease, and the state
// changes of core's job state machine.
type JobRepo struct{ s *Store }

// Jobs returns the job repository.
func (s *Store) Jobs() JobRepo { return JobRepo{s} }

var jobResource = &resource{
	name: "jobs",
	fields: map[string]field{
		"id": idField("id"), "uuid": textField("uuid"), "task_id": idField("task_id"),
		"task_name":  textField("task_name"),
		"status":     enumField("status", core.ParseJobStatus),
		"priority":   {column: "priority", kind: kindPriority},
		"error_type": textField("error_type"), "error_message": textField("error_message"),
		"attempts": idField("attempts"), "max_retries": idField("max_retries"),
		"retry_delay_seconds": idField("retry_delay_seconds"), "timeout_seconds": idField("timeout_seconds"),
		"process_at": timeField("process_at"), "schedule_id": refField("schedule_id"),
		"idempotency_key": {column: "idempotency_key", kind: kindString, nullable: true},
		"execution_id":    refField("execution_id"), "lease_owner": textField("lease_owner"),
		"created_at": timeField("created_at"), "started_at": optTimeField("started_at"),
		"completed_at": optTimeField("completed_at"),
	},
	search:      []string{"task_name", "error_message", "error_type", "uuid"},
	defaultSort: []core.SortField{{Field: "id", Desc: true}},
}

// EnqueueResult is one job of an EnqueueBatch: the stored job, and whether
// it existed already (same idempotency key).
type EnqueueResult struct {
	Job     core.Job
	Existed bool
}

// prepareJob validates a new job and fills what the store owns.
func (r JobRepo) prepareJob(j *core.Job, now time.Time) error {
	if j.TaskID <= 0 {
		return core.Errorf(core.KindInvalidArgument, "job needs a task_id").WithDetail("field", "task_id")
	}
	if j.Status == "" {
		j.Status = core.JobQueued
	}
	if j.Status != core.JobQueued {
		return core.Errorf(core.KindInvalidArgument, "a new job must be queued, not %s", j.Status).WithDetail("field", "status")
	}
	if !j.Priority.Valid() {
		return core.Errorf(core.KindInvalidArgument, "invalid priority %d: must be 0 to 3", int(j.Priority)).WithDetail("field", "priority")
	}
	if j.MaxRetries < 0 || j.RetryDelaySeconds < 0 || j.TimeoutSeconds < 0 {
		return core.Errorf(core.KindInvalidArgument, "max_retries, retry_delay_seconds and timeout_seconds must not be negative")
	}
	if err := checkText("job fields", j.UUID, j.TaskName, j.IdempotencyKey); err != nil {
		return err
	}
	if j.UUID == "" {
		j.UUID = newUUID()
	}
	j.CreatedAt = now
	if j.ProcessAt.IsZero() {
		j.ProcessAt = now
	}
	j.Attempts = 0
	j.Output, j.ErrorType, j.ErrorMessage = nil, "", ""
	j.LeaseOwner, j.LeaseExpiresAt, j.StartedAt, j.CompletedAt = "", nil, nil, nil
	return nil
}

// taskNames fills TaskName of jobs that have none, checking that their
// tasks exist.
func (r JobRepo) taskNames(ctx context.Context, jobs []core.Job) error {
	var ids []int64
	for _, j := range jobs {
		if j.TaskName == "" && !slices.Contains(ids, j.TaskID) {
			ids = append(ids, j.TaskID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
	}
	if err := r.s.w.NewSelect().Table("tasks").Column("id", "name").Where("id IN (?)", bun.List(ids)).Scan(ctx, &rows); err != nil {
		return mapError(err)
	}
	names := make(map[int64]string, len(rows))
	for _, row := range rows {
		names[row.ID] = row.Name
	}
	for i := range jobs {
		if jobs[i].TaskName != "" {
			continue
		}
		name, ok := names[jobs[i].TaskID]
		if !ok {
			return core.Errorf(core.KindNotFound, "task %d not found", jobs[i].TaskID).WithDetail("task_id", jobs[i].TaskID)
		}
		jobs[i].TaskName = name
	}
	return nil
}

// Enqueue stores a new queued job. A job whose idempotency key is already
// taken is not inserted: the existing job is returned with existed true.
// The status must be empty or queued; ProcessAt defaults to now.
func (r JobRepo) Enqueue(ctx context.Context, j core.Job) (job core.Job, existed bool, err error) {
	if err := r.prepareJob(&j, r.s.now()); err != nil {
		return core.Job{}, false, err
	}
	batch := []core.Job{j}
	if err := r.taskNames(ctx, batch); err != nil {
		return core.Job{}, false, err
	}
	return r.insertOne(ctx, batch[0])
}

func (r JobRepo) insertOne(ctx context.Context, j core.Job) (core.Job, bool, error) {
	m, err := jobToModel(j)
	if err != nil {
		return core.Job{}, false, err
	}
	m.ID = 0
	ins := r.s.w.NewInsert().Model(m).Returning("*")
	if m.IdempotencyKey != nil {
		ins.On("CONFLICT (idempotency_key) DO NOTHING")
	}
	res, err := ins.Exec(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return core.Job{}, false, mapError(err)
	}
	if err == nil {
		if n, _ := res.RowsAffected(); n > 0 || m.IdempotencyKey == nil {
			out, err := jobFromModel(m)
			return out, false, err
		}
	}
	// The key is taken: return the job holding it.
	existing, err := r.getWhere(ctx, r.s.w, "job with idempotency key", *m.IdempotencyKey, "idempotency_key = ?", *m.IdempotencyKey)
	if err != nil {
		return core.Job{}, false, err
	}
	return existing, true, nil
}

// EnqueueBatch stores many jobs in one transaction, in order. Jobs without
// an idempotency key are inserted with multi-row INSERTs; the others as
// Enqueue does, so a batch may return existing jobs.
func (r JobRepo) EnqueueBatch(ctx context.Context, jobs []core.Job) ([]EnqueueResult, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	now := r.s.now()
	batch := slices.Clone(jobs)
	for i := range batch {
		if err := r.prepareJob(&batch[i], now); err != nil {
			return nil, fmt.Errorf("job %d of the batch: %w", i, err)
		}
	}
	out := make([]EnqueueResult, len(batch))
	err := r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		tr := JobRepo{tx}
		if err := tr.taskNames(ctx, batch); err != nil {
			return err
		}
		const chunk = 500
		var (
			plain []*jobModel
			idx   []int
		)
		flush := func() error {
			if len(plain) == 0 {
				return nil
			}
			if _, err := tx.w.NewInsert().Model(&plain).Returning("*").Exec(ctx); err != nil {
				return mapError(err)
			}
			for k, m := range plain {
				j, err := jobFromModel(m)
				if err != nil {
					return err
				}
				out[idx[k]] = EnqueueResult{Job: j}
			}
			plain, idx = plain[:0], idx[:0]
			return nil
		}
		for i, j := range batch {
			if j.IdempotencyKey != "" {
				if err := flush(); err != nil {
					return err
				}
				job, existed, err := tr.insertOne(ctx, j)
				if err != nil {
					return err
				}
				out[i] = EnqueueResult{Job: job, Existed: existed}
				continue
			}
			m, err := jobToModel(j)
			if err != nil {
				return err
			}
			m.ID = 0
			plain = append(plain, m)
			idx = append(idx, i)
			if len(plain) == chunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		return flush()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (r JobRepo) getWhere(ctx context.Context, db bun.IDB, what string, key any, where string, args ...any) (core.Job, error) {
	var m jobModel
	if err := db.NewSelect().Model(&m).Where(where, args...).Limit(1).Scan(ctx); err != nil {
		return core.Job{}, notFound(err, what, key)
	}
	return jobFromModel(&m)
}

// Get returns the job with the given id.
func (r JobRepo) Get(ctx context.Context, id int64) (core.Job, error) {
	return r.getWhere(ctx, r.s.r, "job", id, "id = ?", id)
}

// GetByUUID returns the job with the given uuid.
func (r JobRepo) GetByUUID(ctx context.Context, uuid string) (core.Job, error) {
	return r.getWhere(ctx, r.s.r, "job", uuid, "uuid = ?", uuid)
}

// List returns one page of jobs. Filter and sort fields are SPEC §4.1's job
// fields except the JSON ones (input, output, output_destinations) plus
// lease_owner; status and priority take names ("priority=high"); q
// searches task_name, error_message, error_type and uuid. Newest first by
// default.
func (r JobRepo) List(ctx context.Context, q core.ListQuery) (core.Page[core.Job], error) {
	rows, total, err := list[jobModel](ctx, r.s, jobResource, q, "id")
	if err != nil {
		return core.Page[core.Job]{}, err
	}
	items, err := jobsFromModels(rows)
	if err != nil {
		return core.Page[core.Job]{}, err
	}
	return core.Page[core.Job]{Items: items, Total: total}, nil
}

// Delete removes a job that is not running (a processing job is a
// conflict: cancel it first).
func (r JobRepo) Delete(ctx context.Context, id int64) error {
	res, err := r.s.w.NewDelete().Model((*jobModel)(nil)).
		Where("id = ?", id).Where("status <> ?", core.JobProcessing).Exec(ctx)
	err = affected(res, err, "job", id)
	if errors.Is(err, core.ErrNotFound) {
		if j, gerr := r.Get(ctx, id); gerr == nil {
			return core.Errorf(core.KindConflict, "job %d is %s: cancel it before deleting it", id, j.Status)
		}
	}
	return err
}

// readyStatuses are the statuses Claim takes jobs from.
const readyStatuses = "('queued', 'retrying')"

// Claim takes up to n ready jobs (queued or retrying, process_at <= now) in
// priority order (highest first), then by process_at, then id, and leases
// them to node for leaseDuration: status processing, attempts+1,
// started_at now. Concurrent claimers never get the same job: PostgreSQL
// skips rows other claimers hold (FOR UPDATE SKIP LOCKED); SQLite runs the
// claim as one statement under its single-writer lock. The jobs are
// returned in claim order.
func (r JobRepo) Claim(ctx context.Context, node string, n int, leaseDuration time.Duration) ([]core.Job, error) {
	if n <= 0 {
		return nil, nil
	}
	if node == "" || checkText("node", node) != nil {
		return nil, core.Errorf(core.KindInvalidArgument, "claiming jobs needs a node name (without NUL characters)")
	}
	if leaseDuration <= 0 {
		return nil, core.Errorf(core.KindInvalidArgument, "lease duration must be positive, got %s", leaseDuration)
	}
	now := truncTime(r.s.now())
	expires := now.Add(leaseDuration)
	var query string
	if r.s.db.dialect == DialectPostgres {
		query = `WITH next AS (
	SELECT id FROM jobs
	WHERE status IN ` + readyStatuses + ` AND process_at <= ?0
	ORDER BY priority DESC, process_at ASC, id ASC
	LIMIT ?1
	FOR UPDATE SKIP LOCKED
)
UPDATE jobs SET status = 'processing', attempts = jobs.attempts + 1, started_at = ?0,
	lease_owner = ?2, lease_expires_at = ?3, updated_at = ?0
FROM next WHERE jobs.id = next.id
RETURNING jobs.*`
	} else {
		// INDEXED BY: without statistics SQLite prefers the status index
		// and sorts every ready job; the claim index is already in order.
		query = `UPDATE jobs SET status = 'processing', attempts = attempts + 1, started_at = ?0,
	lease_owner = ?2, lease_expires_at = ?3, updated_at = ?0
WHERE id IN (
	SELECT id FROM jobs INDEXED BY jobs_claim_idx
	WHERE status IN ` + readyStatuses + ` AND process_at <= ?0
	ORDER BY priority DESC, process_at ASC, id ASC
	LIMIT ?1
)
RETURNING *`
	}
	var ms []jobModel
	if err := r.s.w.NewRaw(query, now, n, node, expires).Scan(ctx, &ms); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, mapError(err)
	}
	slices.SortFunc(ms, func(a, b jobModel) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		if c := a.ProcessAt.Compare(b.ProcessAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return jobsFromModels(ms)
}

// NextReadyAt returns the earliest process_at of the jobs waiting to run
// (queued or retrying); ok is false when there are none. It reads the
// claim index once per priority, so it stays cheap however long the queue.
func (r JobRepo) NextReadyAt(ctx context.Context) (at time.Time, ok bool, err error) {
	parts := make([]string, len(core.Priorities))
	for i, p := range core.Priorities {
		parts[i] = "SELECT MIN(process_at) AS at FROM jobs WHERE status IN " + readyStatuses +
			" AND priority = " + strconv.Itoa(int(p))
	}
	var rows []struct {
		At *time.Time `bun:"at"`
	}
	if err := r.s.r.NewRaw(strings.Join(parts, " UNION ALL ")).Scan(ctx, &rows); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, mapError(err)
	}
	for _, row := range rows {
		if row.At != nil && (!ok || row.At.Before(at)) {
			at, ok = row.At.UTC(), true
		}
	}
	return at, ok, nil
}

// Lease fences a state change to the claim that holds the job: when Owner
// is set the job's lease owner must match, and when Attempt is set so must
// its attempt count. A mismatch (the lease expired and someone else took
// the job) is a conflict, so a job's outcome is recorded once.
type Lease struct {
	Owner   string
	Attempt int
}

// Outcome is what a finished attempt reports.
type Outcome struct {
	Output       json.RawMessage
	ExecutionID  *int64
	ErrorType    string
	ErrorMessage string
	Lease        Lease
}

// ExtendLease pushes the lease of a job node holds to now+leaseDuration and
// returns the new expiry. A job no longer processing for node is a
// conflict.
func (r JobRepo) ExtendLease(ctx context.Context, id int64, node string, leaseDuration time.Duration) (time.Time, error) {
	if node == "" || leaseDuration <= 0 {
		return time.Time{}, core.Errorf(core.KindInvalidArgument, "extending a lease needs the node holding it and a positive duration")
	}
	expires := truncTime(r.s.now().Add(leaseDuration))
	_, err := r.transition(ctx, id, core.JobProcessing, Lease{Owner: node}, func(q *bun.UpdateQuery) {
		q.Set("lease_expires_at = ?", expires)
	})
	if err != nil {
		return time.Time{}, err
	}
	return expires, nil
}

// Complete records a successful attempt: processing → completed.
func (r JobRepo) Complete(ctx context.Context, id int64, o Outcome) (core.Job, error) {
	if err := checkJSON("job output", o.Output); err != nil {
		return core.Job{}, err
	}
	now := r.s.now()
	return r.transition(ctx, id, core.JobCompleted, o.Lease, func(q *bun.UpdateQuery) {
		q.Set("output = ?", rawJSON(o.Output)).
			Set("error_type = ''").Set("error_message = ''").
			Set("completed_at = ?", now).Set("lease_owner = ''").Set("lease_expires_at = NULL")
		if o.ExecutionID != nil {
			q.Set("execution_id = ?", *o.ExecutionID)
		}
	})
}

// Completion is one job's success for CompleteMany.
type Completion struct {
	ID int64
	Outcome
}

// CompleteMany records many successful attempts at once (processing →
// completed), in one statement per 500 jobs: what a completer that batches
// finished jobs uses. errs is aligned with cs: nil for a job completed, a
// NotFoundError or ConflictError (wrong status, lost lease) for one
// refused. err is set only when the database failed, and then nothing is
// known about the batch.
func (r JobRepo) CompleteMany(ctx context.Context, cs []Completion) (errs []error, err error) {
	errs = make([]error, len(cs))
	const chunk = 500
	for start := 0; start < len(cs); start += chunk {
		part := cs[start:min(start+chunk, len(cs))]
		if err := r.completeChunk(ctx, part, errs[start:start+len(part)]); err != nil {
			return nil, err
		}
	}
	return errs, nil
}

func (r JobRepo) completeChunk(ctx context.Context, cs []Completion, errs []error) error {
	now := truncTime(r.s.now())
	ids := make([]int64, 0, len(cs))
	var output, execID, fence strings.Builder
	var args, execArgs, fenceArgs []any
	fenced := false
	for i, c := range cs {
		if err := checkJSON("job output", c.Output); err != nil {
			errs[i] = err
			continue
		}
		ids = append(ids, c.ID)
		output.WriteString(" WHEN ? THEN " + r.s.jsonParam())
		args = append(args, c.ID, rawJSON(c.Output))
		if c.ExecutionID != nil {
			execID.WriteString(" WHEN ? THEN ?")
			execArgs = append(execArgs, c.ID, *c.ExecutionID)
		}
		fence.WriteString(" WHEN ? THEN ")
		fenceArgs = append(fenceArgs, c.ID)
		c.Lease.Owner = clean(c.Lease.Owner)
		switch {
		case c.Lease.Owner != "" && c.Lease.Attempt > 0:
			fence.WriteString("lease_owner = ? AND attempts = ?")
			fenceArgs = append(fenceArgs, c.Lease.Owner, c.Lease.Attempt)
			fenced = true
		case c.Lease.Owner != "":
			fence.WriteString("lease_owner = ?")
			fenceArgs = append(fenceArgs, c.Lease.Owner)
			fenced = true
		case c.Lease.Attempt > 0:
			fence.WriteString("attempts = ?")
			fenceArgs = append(fenceArgs, c.Lease.Attempt)
			fenced = true
		default:
			fence.WriteString("1 = 1")
		}
	}
	if len(ids) == 0 {
		return nil
	}
	q := r.s.w.NewUpdate().Model((*jobModel)(nil)).
		Set("status = ?", core.JobCompleted).
		Set("output = CASE id"+output.String()+" END", args...).
		Set("error_type = ''").Set("error_message = ''").
		Set("completed_at = ?", now).Set("updated_at = ?", now).
		Set("lease_owner = ''").Set("lease_expires_at = NULL").
		Where("id IN (?)", bun.List(ids)).Where("status = ?", core.JobProcessing)
	if len(execArgs) > 0 {
		q.Set("execution_id = CASE id"+execID.String()+" ELSE execution_id END", execArgs...)
	}
	if fenced {
		q.Where("CASE id"+fence.String()+" ELSE 1 = 0 END", fenceArgs...)
	}
	var done []int64
	if err := q.Returning("id").Scan(ctx, &done); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return mapError(err)
	}
	if len(done) == len(ids) {
		return nil
	}
	ok := make(map[int64]bool, len(done))
	for _, id := range done {
		ok[id] = true
	}
	for i, c := range cs {
		if ok[c.ID] || errs[i] != nil {
			continue
		}
		errs[i] = r.refusal(ctx, c.ID, core.JobCompleted, c.Lease)
	}
	return nil
}

// Fail records a final failure: processing → failed.
func (r JobRepo) Fail(ctx context.Context, id int64, o Outcome) (core.Job, error) {
	now := r.s.now()
	o.ErrorType, o.ErrorMessage = clean(o.ErrorType), clean(o.ErrorMessage)
	if err := checkJSON("job output", o.Output); err != nil {
		return core.Job{}, err
	}
	return r.transition(ctx, id, core.JobFailed, o.Lease, func(q *bun.UpdateQuery) {
		q.Set("output = ?", rawJSON(o.Output)).
			Set("error_type = ?", o.ErrorType).Set("error_message = ?", o.ErrorMessage).
			Set("completed_at = ?", now).Set("lease_owner = ''").Set("lease_expires_at = NULL")
		if o.ExecutionID != nil {
			q.Set("execution_id = ?", *o.ExecutionID)
		}
	})
}

// Retry records a failed attempt to be tried again at nextAt:
// processing → retrying.
func (r JobRepo) Retry(ctx context.Context, id int64, nextAt time.Time, o Outcome) (core.Job, error) {
	o.ErrorType, o.ErrorMessage = clean(o.ErrorType), clean(o.ErrorMessage)
	return r.transition(ctx, id, core.JobRetrying, o.Lease, func(q *bun.UpdateQuery) {
		q.Set("process_at = ?", truncTime(nextAt)).
			Set("error_type = ?", o.ErrorType).Set("error_message = ?", o.ErrorMessage).
			Set("lease_owner = ''").Set("lease_expires_at = NULL")
		if o.ExecutionID != nil {
			q.Set("execution_id = ?", *o.ExecutionID)
		}
	})
}

// Cancel cancels a queued, retrying or processing job. Interrupting a
// running attempt is the caller's business; its later Complete or Fail is
// then a conflict.
func (r JobRepo) Cancel(ctx context.Context, id int64) (core.Job, error) {
	now := r.s.now()
	return r.transition(ctx, id, core.JobCancelled, Lease{}, func(q *bun.UpdateQuery) {
		q.Set("error_type = ?", string(core.KindCancelled)).Set("error_message = 'job cancelled'").
			Set("completed_at = ?", now).Set("lease_owner = ''").Set("lease_expires_at = NULL")
	})
}

// RequeueOptions tune Requeue.
type RequeueOptions struct {
	// ProcessAt delays the job; zero means now.
	ProcessAt time.Time
	// ResetAttempts starts the attempt count over (a manual retry of a job
	// that used up its retries).
	ResetAttempts bool
	Lease         Lease
}

// Requeue puts a job back in the queue: a processing job on shutdown, or a
// failed, cancelled or retrying one on a manual retry. Output and error are
// cleared; past executions keep them.
func (r JobRepo) Requeue(ctx context.Context, id int64, opts RequeueOptions) (core.Job, error) {
	at := opts.ProcessAt
	if at.IsZero() {
		at = r.s.now()
	}
	return r.transition(ctx, id, core.JobQueued, opts.Lease, func(q *bun.UpdateQuery) {
		q.Set("process_at = ?", truncTime(at)).Set("output = NULL").
			Set("error_type = ''").Set("error_message = ''").Set("completed_at = NULL").
			Set("lease_owner = ''").Set("lease_expires_at = NULL")
		if opts.ResetAttempts {
			q.Set("attempts = 0")
		}
	})
}

// RequeueNode puts every job node is processing back in the queue (a
// draining shutdown that could not finish them) and returns their ids.
func (r JobRepo) RequeueNode(ctx context.Context, node string) ([]int64, error) {
	now := truncTime(r.s.now())
	var ids []int64
	err := r.s.w.NewUpdate().Model((*jobModel)(nil)).
		Set("status = ?", core.JobQueued).Set("process_at = ?", now).Set("updated_at = ?", now).
		Set("lease_owner = ''").Set("lease_expires_at = NULL").
		Where("status = ?", core.JobProcessing).Where("lease_owner = ?", node).
		Returning("id").Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, mapError(err)
	}
	slices.Sort(ids)
	return ids, nil
}

// transition moves job id to status to, when core's state machine allows it
// from the job's current status and the lease fence holds. The happy path
// is one conditional UPDATE (WHERE status IN <allowed sources>); when it
// matches nothing, the current row tells a missing job (NotFoundError) from
// a forbidden transition or a lost race (ConflictError).
func (r JobRepo) transition(ctx context.Context, id int64, to core.JobStatus, lease Lease, set func(*bun.UpdateQuery)) (core.Job, error) {
	lease.Owner = clean(lease.Owner)
	// to == processing only extends a lease: the job must be processing.
	// Claim is the one way into processing.
	from := []string{string(core.JobProcessing)}
	if to != core.JobProcessing {
		from = from[:0]
		for _, st := range core.JobStatuses {
			if st.CanTransitionTo(to) {
				from = append(from, string(st))
			}
		}
	}
	now := truncTime(r.s.now())
	var m jobModel
	q := r.s.w.NewUpdate().Model(&m).
		Set("status = ?", to).Set("updated_at = ?", now).
		Where("id = ?", id).Where("status IN (?)", bun.List(from))
	if lease.Owner != "" {
		q.Where("lease_owner = ?", lease.Owner)
	}
	if lease.Attempt > 0 {
		q.Where("attempts = ?", lease.Attempt)
	}
	set(q)
	err := q.Returning("*").Scan(ctx)
	if err == nil {
		return jobFromModel(&m)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return core.Job{}, mapError(err)
	}
	return core.Job{}, r.refusal(ctx, id, to, lease)
}

// refusal explains why job id could not go to status to: it is missing
// (NotFoundError), core forbids the transition, its lease is someone
// else's, or it changed concurrently (ConflictError).
func (r JobRepo) refusal(ctx context.Context, id int64, to core.JobStatus, lease Lease) error {
	cur, err := r.getWhere(ctx, r.s.w, "job", id, "id = ?", id)
	if err != nil {
		return err
	}
	if to != core.JobProcessing {
		if err := cur.Status.CheckTransition(to); err != nil {
			return core.Errorf(core.KindConflict, "job %d: %w", id, err).
				WithDetail("job_id", id).WithDetail("status", string(cur.Status))
		}
	} else if cur.Status != core.JobProcessing {
		return core.Errorf(core.KindConflict, "job %d is %s, not processing: its lease is gone", id, cur.Status).
			WithDetail("job_id", id).WithDetail("status", string(cur.Status))
	}
	if (lease.Owner != "" && cur.LeaseOwner != lease.Owner) || (lease.Attempt > 0 && cur.Attempts != lease.Attempt) {
		return core.Errorf(core.KindConflict,
			"job %d is held by %q (attempt %d), not %q (attempt %d): the lease was lost",
			id, cur.LeaseOwner, cur.Attempts, lease.Owner, lease.Attempt).WithDetail("job_id", id)
	}
	return core.Errorf(core.KindConflict, "job %d changed concurrently (now %s)", id, cur.Status).WithDetail("job_id", id)
}

// ReclaimResult lists the jobs ReclaimExpired took back.
type ReclaimResult struct {
	// Requeued jobs had attempts left and are queued again.
	Requeued []int64
	// Failed jobs had used every attempt (attempts > max_retries) and are
	// failed with error type WorkerCrashError.
	Failed []int64
}

// ReclaimExpired takes back jobs whose lease expired before now (their node
// or worker died): a job with attempts left goes back to queued (so it runs
// again: at-least-once), one that used all of its max_retries+1 attempts
// becomes failed with a WorkerCrashError.
func (r JobRepo) ReclaimExpired(ctx context.Context, now time.Time) (ReclaimResult, error) {
	now = truncTime(now)
	var res ReclaimResult
	err := r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		upd := func(exhausted bool, dst *[]int64, set func(*bun.UpdateQuery)) error {
			q := tx.w.NewUpdate().Model((*jobModel)(nil)).
				Set("updated_at = ?", now).Set("lease_owner = ''").Set("lease_expires_at = NULL").
				Where("status = ?", core.JobProcessing).Where("lease_expires_at < ?", now)
			if exhausted {
				q.Where("attempts > max_retries")
			} else {
				q.Where("attempts <= max_retries")
			}
			set(q)
			if err := q.Returning("id").Scan(ctx, dst); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return mapError(err)
			}
			slices.Sort(*dst)
			return nil
		}
		if err := upd(true, &res.Failed, func(q *bun.UpdateQuery) {
			q.Set("status = ?", core.JobFailed).Set("completed_at = ?", now).
				Set("error_type = ?", string(core.KindWorkerCrash)).
				Set("error_message = 'lease expired: the worker or node running the job stopped, and no attempts are left'")
		}); err != nil {
			return err
		}
		return upd(false, &res.Requeued, func(q *bun.UpdateQuery) {
			q.Set("status = ?", core.JobQueued).Set("process_at = ?", now)
		})
	})
	return res, err
}

// QueueDepth is the number of jobs in one status and priority.
type QueueDepth struct {
	Status   core.JobStatus `json:"status"`
	Priority core.Priority  `json:"priority"`
	Count    int            `json:"count"`
}

// QueueDepth counts jobs by status and priority (statuses with no jobs are
// left out).
func (r JobRepo) QueueDepth(ctx context.Context) ([]QueueDepth, error) {
	var rows []struct {
		Status   string `bun:"status"`
		Priority int    `bun:"priority"`
		Count    int    `bun:"count"`
	}
	err := r.s.r.NewSelect().Table("jobs").Column("status", "priority").ColumnExpr("count(*) AS count").
		Group("status", "priority").Order("status", "priority").Scan(ctx, &rows)
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]QueueDepth, len(rows))
	for i, row := range rows {
		out[i] = QueueDepth{Status: core.JobStatus(row.Status), Priority: core.Priority(row.Priority), Count: row.Count}
	}
	return out, nil
}

// CountActive counts jobs not yet finished (queued, retrying and
// processing), the size server.job_queue.max_queue_size bounds.
func (r JobRepo) CountActive(ctx context.Context) (int, error) {
	n, err := r.s.r.NewSelect().Table("jobs").
		Where("status IN (?)", bun.List([]string{string(core.JobQueued), string(core.JobRetrying), string(core.JobProcessing)})).
		Count(ctx)
	return int(n), mapError(err)
}

// Prune deletes finished jobs (completed, failed, cancelled) that finished
// before olderThan, with their delivery results; their executions stay
// (job_id is cleared). It returns the number deleted.
func (r JobRepo) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	return pruneLoop(ctx, func(ctx context.Context) (int64, error) {
		sub := r.s.w.NewSelect().Table("jobs").Column("id").
			Where("status IN (?)", bun.List([]string{string(core.JobCompleted), string(core.JobFailed), string(core.JobCancelled)})).
			Where("completed_at < ?", truncTime(olderThan)).Limit(pruneChunk)
		res, err := r.s.w.NewDelete().Model((*jobModel)(nil)).Where("id IN (?)", sub).Exec(ctx)
		if err != nil {
			return 0, mapError(err)
		}
		return res.RowsAffected()
	})
}

// pruneChunk bounds one DELETE so that SQLite's write lock is never held
// long.
const pruneChunk = 1000

func pruneLoop(ctx context.Context, step func(context.Context) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := step(ctx)
		total += n
		if err != nil || n < pruneChunk {
			return total, err
		}
	}
}
