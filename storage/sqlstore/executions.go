package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/ratchet-go/ratchet/core"
)

// ExecutionRepo stores executions: one run of a task each.
type ExecutionRepo struct{ s *Store }

// Executions returns the execution repository.
func (s *Store) Executions() ExecutionRepo { return ExecutionRepo{s} }

var executionResource = &resource{
	name: "executions",
	fields: map[string]field{
		"id": idField("id"), "uuid": textField("uuid"), "task_id": idField("task_id"),
		"task_name": textField("task_name"), "task_version": textField("task_version"),
		"job_id":     refField("job_id"),
		"status":     enumField("status", core.ParseExecutionStatus),
		"error_type": textField("error_type"), "error_message": textField("error_message"),
		"worker_id": textField("worker_id"), "attempt": idField("attempt"),
		"queued_at": timeField("queued_at"), "started_at": optTimeField("started_at"),
		"completed_at": optTimeField("completed_at"),
		"duration_ms":  {column: "duration_ms", kind: kindInt, nullable: true},
	},
	search:      []string{"task_name", "error_type", "error_message", "worker_id", "uuid"},
	defaultSort: []core.SortField{{Field: "id", Desc: true}},
}

// Create stores a new execution. Status defaults to pending, QueuedAt to
// now, Attempt to 1; any status may be given (a run recorded after the
// fact is created completed).
func (r ExecutionRepo) Create(ctx context.Context, e core.Execution) (core.Execution, error) {
	if e.TaskID <= 0 {
		return core.Execution{}, core.Errorf(core.KindInvalidArgument, "execution needs a task_id").WithDetail("field", "task_id")
	}
	if e.Status == "" {
		e.Status = core.ExecutionPending
	}
	if !e.Status.Valid() {
		return core.Execution{}, core.Errorf(core.KindInvalidArgument, "invalid execution status %q", e.Status).WithDetail("field", "status")
	}
	if err := checkText("execution fields", e.UUID, e.TaskName, e.TaskVersion); err != nil {
		return core.Execution{}, err
	}
	e.ErrorType, e.ErrorMessage, e.WorkerID = clean(e.ErrorType), clean(e.ErrorMessage), clean(e.WorkerID)
	if e.UUID == "" {
		e.UUID = newUUID()
	}
	if e.QueuedAt.IsZero() {
		e.QueuedAt = r.s.now()
	}
	if e.Attempt <= 0 {
		e.Attempt = 1
	}
	m, err := executionToModel(e)
	if err != nil {
		return core.Execution{}, err
	}
	m.ID = 0
	if _, err := r.s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
		return core.Execution{}, mapError(err)
	}
	return executionFromModel(m)
}

func (r ExecutionRepo) getWhere(ctx context.Context, db bun.IDB, key any, where string, args ...any) (core.Execution, error) {
	var m executionModel
	if err := db.NewSelect().Model(&m).Where(where, args...).Limit(1).Scan(ctx); err != nil {
		return core.Execution{}, notFound(err, "execution", key)
	}
	return executionFromModel(&m)
}

// Get returns the execution with the given id.
func (r ExecutionRepo) Get(ctx context.Context, id int64) (core.Execution, error) {
	return r.getWhere(ctx, r.s.r, id, "id = ?", id)
}

// GetByUUID returns the execution with the given uuid.
func (r ExecutionRepo) GetByUUID(ctx context.Context, uuid string) (core.Execution, error) {
	return r.getWhere(ctx, r.s.r, uuid, "uuid = ?", uuid)
}

// List returns one page of executions. Filter and sort fields: id, uuid,
// task_id, task_name, task_version, job_id, status, error_type,
// error_message, worker_id, attempt, queued_at, started_at, completed_at,
// duration_ms; q searches task_name, error_type, error_message, worker_id
// and uuid. Newest first by default.
func (r ExecutionRepo) List(ctx context.Context, q core.ListQuery) (core.Page[core.Execution], error) {
	rows, total, err := list[executionModel](ctx, r.s, executionResource, q, "id")
	if err != nil {
		return core.Page[core.Execution]{}, err
	}
	items := make([]core.Execution, len(rows))
	for i := range rows {
		if items[i], err = executionFromModel(&rows[i]); err != nil {
			return core.Page[core.Execution]{}, err
		}
	}
	return core.Page[core.Execution]{Items: items, Total: total}, nil
}

// Start marks a pending execution running on workerID at at.
func (r ExecutionRepo) Start(ctx context.Context, id int64, workerID string, at time.Time) (core.Execution, error) {
	return r.transition(ctx, id, core.ExecutionRunning, func(q *bun.UpdateQuery) {
		q.Set("worker_id = ?", clean(workerID)).Set("started_at = ?", truncTime(at))
	})
}

// Finish records the end of an execution: e.ID names it and e.Status (a
// terminal status) where it ended; output, error type/message/details,
// logs, HTTP requests, worker id, completed_at (default now) and
// duration_ms (default completed_at - e.StartedAt when StartedAt is set)
// are stored. A pending or running execution may finish; a finished one is
// a conflict.
func (r ExecutionRepo) Finish(ctx context.Context, e core.Execution) (core.Execution, error) {
	if !e.Status.Terminal() {
		return core.Execution{}, core.Errorf(core.KindInvalidArgument, "finishing execution %d needs a final status, not %q", e.ID, e.Status)
	}
	e.ErrorType, e.ErrorMessage, e.WorkerID = clean(e.ErrorType), clean(e.ErrorMessage), clean(e.WorkerID)
	m, err := executionToModel(e)
	if err != nil {
		return core.Execution{}, err
	}
	done := truncTime(r.s.now())
	if m.CompletedAt != nil {
		done = *m.CompletedAt
	}
	if m.DurationMS == nil && m.StartedAt != nil {
		d := done.Sub(*m.StartedAt).Milliseconds()
		m.DurationMS = &d
	}
	return r.transition(ctx, e.ID, e.Status, func(q *bun.UpdateQuery) {
		q.Set("output = ?", m.Output).
			Set("error_type = ?", m.ErrorType).Set("error_message = ?", m.ErrorMessage).
			Set("error_details = ?", m.ErrorDetails).Set("logs = ?", m.Logs).
			Set("http_requests = ?", m.HTTPRequests).Set("completed_at = ?", done)
		if m.WorkerID != "" {
			q.Set("worker_id = ?", m.WorkerID)
		}
		if m.StartedAt != nil {
			q.Set("started_at = ?", *m.StartedAt)
		}
		if m.DurationMS != nil {
			q.Set("duration_ms = ?", *m.DurationMS)
		}
	})
}

// transition applies the execution state machine the way JobRepo's does:
// one conditional UPDATE, and on no match the current row tells a missing
// execution from a forbidden transition.
func (r ExecutionRepo) transition(ctx context.Context, id int64, to core.ExecutionStatus, set func(*bun.UpdateQuery)) (core.Execution, error) {
	var from []string
	for _, st := range core.ExecutionStatuses {
		if st.CanTransitionTo(to) {
			from = append(from, string(st))
		}
	}
	var m executionModel
	q := r.s.w.NewUpdate().Model(&m).Set("status = ?", to).
		Where("id = ?", id).Where("status IN (?)", bun.List(from))
	set(q)
	err := q.Returning("*").Scan(ctx)
	if err == nil {
		return executionFromModel(&m)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return core.Execution{}, mapError(err)
	}
	cur, gerr := r.getWhere(ctx, r.s.w, id, "id = ?", id)
	if gerr != nil {
		return core.Execution{}, gerr
	}
	if terr := cur.Status.CheckTransition(to); terr != nil {
		return core.Execution{}, core.Errorf(core.KindConflict, "execution %d: %w", id, terr).
			WithDetail("execution_id", id).WithDetail("status", string(cur.Status))
	}
	return core.Execution{}, core.Errorf(core.KindConflict, "execution %d changed concurrently (now %s)", id, cur.Status)
}

// Delete removes an execution.
func (r ExecutionRepo) Delete(ctx context.Context, id int64) error {
	res, err := r.s.w.NewDelete().Model((*executionModel)(nil)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, "execution", id)
}

// Prune deletes finished executions (completed, failed, cancelled) that
// completed before olderThan, with their delivery results; jobs pointing at
// them keep no execution_id. It returns the number deleted.
func (r ExecutionRepo) Prune(ctx context.Context, olderThan time.Time) (int64, error) {
	return pruneLoop(ctx, func(ctx context.Context) (int64, error) {
		sub := r.s.w.NewSelect().Table("executions").Column("id").
			Where("status IN (?)", bun.List([]string{string(core.ExecutionCompleted), string(core.ExecutionFailed), string(core.ExecutionCancelled)})).
			Where("completed_at < ?", truncTime(olderThan)).Limit(pruneChunk)
		res, err := r.s.w.NewDelete().Model((*executionModel)(nil)).Where("id IN (?)", sub).Exec(ctx)
		if err != nil {
			return 0, mapError(err)
		}
		return res.RowsAffected()
	})
}

// PruneExecutions deletes finished executions older than olderThan.
func (s *Store) PruneExecutions(ctx context.Context, olderThan time.Time) (int64, error) {
	return s.Executions().Prune(ctx, olderThan)
}

// PruneJobs deletes finished jobs older than olderThan.
func (s *Store) PruneJobs(ctx context.Context, olderThan time.Time) (int64, error) {
	return s.Jobs().Prune(ctx, olderThan)
}
