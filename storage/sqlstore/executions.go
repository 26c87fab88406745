package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
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
// fact is created completed). An execution of a job becomes the job's
// latest (execution_id) in the same transaction.
func (r ExecutionRepo) Create(ctx context.Context, e core.Execution) (core.Execution, error) {
	m, err := r.prepare(&e)
	if err != nil {
		return core.Execution{}, err
	}
	err = r.s.RunInTx(ctx, func(ctx context.Context, s *Store) error {
		if _, err := s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
			return mapError(err)
		}
		return (ExecutionRepo{s}).markLatest(ctx, []*executionModel{m})
	})
	if err != nil {
		return core.Execution{}, err
	}
	return executionFromModel(m)
}

// markLatest makes the executions ms, just created, their jobs' latest
// (jobs.execution_id, SPEC §4.1): one UPDATE for the lot, in the
// transaction that created them.
func (r ExecutionRepo) markLatest(ctx context.Context, ms []*executionModel) error {
	var (
		when strings.Builder
		args []any
		ids  []int64
	)
	latest := make(map[int64]int64, len(ms))
	for _, m := range ms {
		if m.JobID == nil {
			continue
		}
		if cur, ok := latest[*m.JobID]; !ok {
			ids = append(ids, *m.JobID)
			latest[*m.JobID] = m.ID
		} else if m.ID > cur {
			latest[*m.JobID] = m.ID
		}
	}
	for _, id := range ids {
		when.WriteString(" WHEN ? THEN ?")
		args = append(args, id, latest[id])
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := r.s.w.NewUpdate().Model((*jobModel)(nil)).
		Set("execution_id = CASE id"+when.String()+" ELSE execution_id END", args...).
		Where("id IN (?)", bun.List(ids)).Exec(ctx)
	return mapError(err)
}

// prepare validates a new execution, fills what Create defaults and
// returns its row.
func (r ExecutionRepo) prepare(e *core.Execution) (*executionModel, error) {
	if e.TaskID <= 0 {
		return nil, core.Errorf(core.KindInvalidArgument, "execution needs a task_id").WithDetail("field", "task_id")
	}
	if e.Status == "" {
		e.Status = core.ExecutionPending
	}
	if !e.Status.Valid() {
		return nil, core.Errorf(core.KindInvalidArgument, "invalid execution status %q", e.Status).WithDetail("field", "status")
	}
	if err := checkText("execution fields", e.UUID, e.TaskName, e.TaskVersion); err != nil {
		return nil, err
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
	m, err := executionToModel(*e)
	if err != nil {
		return nil, err
	}
	m.ID = 0
	return m, nil
}

// executionChunk bounds the rows of one CreateMany or FinishMany
// statement.
const executionChunk = 500

// CreateMany stores many new executions, each as Create would, with one
// multi-row INSERT per 500: what a dispatcher that claims jobs in batches
// uses. The stored executions are returned in the order given, and each
// becomes its job's latest (execution_id) in the same transaction. An
// invalid execution fails the whole call before anything is stored.
func (r ExecutionRepo) CreateMany(ctx context.Context, es []core.Execution) ([]core.Execution, error) {
	if len(es) == 0 {
		return nil, nil
	}
	out := slices.Clone(es)
	ms := make([]*executionModel, len(out))
	for i := range out {
		m, err := r.prepare(&out[i])
		if err != nil {
			return nil, fmt.Errorf("execution %d of the batch: %w", i, err)
		}
		ms[i] = m
	}
	insert := func(ctx context.Context, s *Store) error {
		for start := 0; start < len(ms); start += executionChunk {
			if err := (ExecutionRepo{s}).insertChunk(ctx, ms[start:min(start+executionChunk, len(ms))]); err != nil {
				return err
			}
		}
		return nil
	}
	// The executions and their jobs' execution_id are written together.
	if err := r.s.RunInTx(ctx, insert); err != nil {
		return nil, err
	}
	var err error
	for i, m := range ms {
		if out[i], err = executionFromModel(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// insertChunk inserts ms and sets their ids. The rows come back matched by
// uuid, since neither database promises RETURNING's order.
func (r ExecutionRepo) insertChunk(ctx context.Context, ms []*executionModel) error {
	var rows []struct {
		ID   int64  `bun:"id"`
		UUID string `bun:"uuid"`
	}
	if _, err := r.s.w.NewInsert().Model(&ms).Returning("id, uuid").Exec(ctx, &rows); err != nil {
		return mapError(err)
	}
	if len(rows) != len(ms) {
		return fmt.Errorf("inserting executions: %d rows came back for %d", len(rows), len(ms))
	}
	ids := make(map[string]int64, len(rows))
	for _, row := range rows {
		ids[row.UUID] = row.ID
	}
	for _, m := range ms {
		id, ok := ids[m.UUID]
		if !ok {
			return fmt.Errorf("inserting executions: no id came back for uuid %s", m.UUID)
		}
		m.ID = id
	}
	return r.markLatest(ctx, ms)
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
	m, err := r.finishRow(e)
	if err != nil {
		return core.Execution{}, err
	}
	return r.transition(ctx, e.ID, e.Status, func(q *bun.UpdateQuery) {
		q.Set("output = ?", m.Output).
			Set("error_type = ?", m.ErrorType).Set("error_message = ?", m.ErrorMessage).
			Set("error_details = ?", m.ErrorDetails).Set("logs = ?", m.Logs).
			Set("http_requests = ?", m.HTTPRequests).Set("completed_at = ?", *m.CompletedAt)
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

// finishRow checks the end of an execution and returns what Finish
// stores: CompletedAt and DurationMS are filled with their defaults.
func (r ExecutionRepo) finishRow(e core.Execution) (*executionModel, error) {
	if !e.Status.Terminal() {
		return nil, core.Errorf(core.KindInvalidArgument, "finishing execution %d needs a final status, not %q", e.ID, e.Status)
	}
	e.ErrorType, e.ErrorMessage, e.WorkerID = clean(e.ErrorType), clean(e.ErrorMessage), clean(e.WorkerID)
	m, err := executionToModel(e)
	if err != nil {
		return nil, err
	}
	if m.CompletedAt == nil {
		done := truncTime(r.s.now())
		m.CompletedAt = &done
	}
	if m.DurationMS == nil && m.StartedAt != nil {
		d := m.CompletedAt.Sub(*m.StartedAt).Milliseconds()
		m.DurationMS = &d
	}
	return m, nil
}

// FinishMany records the ends of many executions, each as Finish would,
// with one UPDATE per 500: what a completer that batches finished
// attempts uses. out and errs are aligned with es: out[i] is the stored
// execution when errs[i] is nil; errs[i] is an InvalidArgumentError (not
// a final status, invalid JSON), a NotFoundError or a ConflictError (the
// execution had finished already) for one refused. err is set only when
// the database failed, and then nothing is known about the batch.
func (r ExecutionRepo) FinishMany(ctx context.Context, es []core.Execution) (out []core.Execution, errs []error, err error) {
	out = make([]core.Execution, len(es))
	errs = make([]error, len(es))
	rows := make([]*executionModel, len(es))
	var todo []int
	for i, e := range es {
		if rows[i], errs[i] = r.finishRow(e); errs[i] == nil {
			todo = append(todo, i)
		}
	}
	// One statement must not name an execution twice (which of two
	// updates wins would be the database's choice): a repeat waits for
	// the next round, and finds the execution finished, as Finish would.
	for len(todo) > 0 {
		var (
			part, later []int
			seen        = make(map[int64]bool, min(len(todo), executionChunk))
		)
		for _, i := range todo {
			if len(part) == executionChunk || seen[es[i].ID] {
				later = append(later, i)
				continue
			}
			seen[es[i].ID] = true
			part = append(part, i)
		}
		if err := r.finishChunk(ctx, es, rows, part, out, errs); err != nil {
			return nil, nil, err
		}
		todo = later
	}
	return out, errs, nil
}

// finishSources is, for each final status, the SQL condition on the
// current status that allows an execution to end there.
var finishSources = func() string {
	var b strings.Builder
	b.WriteString("CASE v.column2")
	for _, to := range core.ExecutionStatuses {
		if !to.Terminal() {
			continue
		}
		var from []string
		for _, st := range core.ExecutionStatuses {
			if st.CanTransitionTo(to) {
				from = append(from, "'"+string(st)+"'")
			}
		}
		cond := "1 = 0"
		if len(from) > 0 {
			cond = "executions.status IN (" + strings.Join(from, ", ") + ")"
		}
		b.WriteString(" WHEN '" + string(to) + "' THEN " + cond)
	}
	b.WriteString(" ELSE 1 = 0 END")
	return b.String()
}()

// finishChunk finishes the executions es[idx] (distinct ids) in one
// UPDATE ... FROM (VALUES ...), a row of new values per execution.
func (r ExecutionRepo) finishChunk(ctx context.Context, es []core.Execution, rows []*executionModel, idx []int, out []core.Execution, errs []error) error {
	pg := r.s.db.dialect == DialectPostgres
	cast := func(col, typ string) string {
		if pg {
			return "CAST(v." + col + " AS " + typ + ")"
		}
		return "v." + col
	}
	var b strings.Builder
	b.WriteString("UPDATE executions SET status = v.column2, output = " + cast("column3", "JSON") +
		", error_type = v.column4, error_message = v.column5, error_details = " + cast("column6", "JSON") +
		", logs = " + cast("column7", "JSON") + ", http_requests = " + cast("column8", "JSON") +
		", completed_at = " + cast("column9", "TIMESTAMPTZ") +
		", worker_id = COALESCE(v.column10, worker_id)" +
		", started_at = COALESCE(" + cast("column11", "TIMESTAMPTZ") + ", started_at)" +
		", duration_ms = COALESCE(" + cast("column12", "BIGINT") + ", duration_ms)" +
		" FROM (VALUES ")
	args := make([]any, 0, 12*len(idx))
	for k, i := range idx {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		m := rows[i]
		var worker *string
		if m.WorkerID != "" {
			worker = &m.WorkerID
		}
		args = append(args, es[i].ID, m.Status, m.Output, m.ErrorType, m.ErrorMessage, m.ErrorDetails,
			m.Logs, m.HTTPRequests, *m.CompletedAt, worker, m.StartedAt, m.DurationMS)
	}
	b.WriteString(") AS v WHERE executions.id = v.column1 AND " + finishSources +
		" RETURNING " + executionColumns)
	var ms []executionModel
	if err := r.s.w.NewRaw(b.String(), args...).Scan(ctx, &ms); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return mapError(err)
	}
	byID := make(map[int64]*executionModel, len(ms))
	for k := range ms {
		byID[ms[k].ID] = &ms[k]
	}
	for _, i := range idx {
		m, ok := byID[es[i].ID]
		if !ok {
			errs[i] = r.refusal(ctx, es[i].ID, es[i].Status)
			continue
		}
		e, err := executionFromModel(m)
		if err != nil {
			return err
		}
		out[i] = e
	}
	return nil
}

// executionColumns lists the executions table's columns, for RETURNING
// where "*" would also return joined tables' (PostgreSQL's UPDATE ...
// FROM).
var executionColumns = func() string {
	t := reflect.TypeFor[executionModel]()
	var cols []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("bun"), ",")
		if name != "" && !strings.HasPrefix(name, "table:") {
			cols = append(cols, name)
		}
	}
	return strings.Join(cols, ", ")
}()

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
	return core.Execution{}, r.refusal(ctx, id, to)
}

// refusal explains why execution id could not go to status to: it is
// missing (NotFoundError), or core forbids the transition or it changed
// concurrently (ConflictError).
func (r ExecutionRepo) refusal(ctx context.Context, id int64, to core.ExecutionStatus) error {
	cur, err := r.getWhere(ctx, r.s.w, id, "id = ?", id)
	if err != nil {
		return err
	}
	if terr := cur.Status.CheckTransition(to); terr != nil {
		return core.Errorf(core.KindConflict, "execution %d: %w", id, terr).
			WithDetail("execution_id", id).WithDetail("status", string(cur.Status))
	}
	return core.Errorf(core.KindConflict, "execution %d changed concurrently (now %s)", id, cur.Status)
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
