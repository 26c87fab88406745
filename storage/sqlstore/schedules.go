package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// ScheduleRepo stores cron schedules and fires their ticks exactly once.
type ScheduleRepo struct{ s *Store }

// Schedules returns the schedule repository.
func (s *Store) Schedules() ScheduleRepo { return ScheduleRepo{s} }

var scheduleResource = &resource{
	name: "schedules",
	fields: map[string]field{
		"id": idField("id"), "uuid": textField("uuid"), "task_id": idField("task_id"),
		"name": textField("name"), "cron_expression": textField("cron_expression"),
		"timezone": textField("timezone"), "enabled": boolField("enabled"),
		"max_executions":  {column: "max_executions", kind: kindInt, nullable: true},
		"execution_count": idField("execution_count"),
		"next_run_at":     optTimeField("next_run_at"), "last_run_at": optTimeField("last_run_at"),
		"created_at": timeField("created_at"), "updated_at": timeField("updated_at"),
	},
	search:      []string{"name", "cron_expression"},
	defaultSort: []core.SortField{{Field: "id"}},
}

func prepareSchedule(sc *core.Schedule) error {
	if sc.TaskID <= 0 {
		return core.Errorf(core.KindInvalidArgument, "schedule needs a task_id").WithDetail("field", "task_id")
	}
	if strings.TrimSpace(sc.CronExpression) == "" {
		return core.Errorf(core.KindInvalidArgument, "schedule needs a cron_expression").WithDetail("field", "cron_expression")
	}
	if err := checkText("schedule fields", sc.UUID, sc.Name, sc.CronExpression, sc.Timezone); err != nil {
		return err
	}
	if sc.Timezone == "" {
		sc.Timezone = "UTC"
	}
	if sc.MaxExecutions != nil && *sc.MaxExecutions < 0 {
		return core.Errorf(core.KindInvalidArgument, "max_executions must not be negative").WithDetail("field", "max_executions")
	}
	return nil
}

// Create stores a new schedule. Parsing the cron expression and computing
// NextRunAt are the scheduler's job; a disabled schedule or one without
// NextRunAt never fires.
func (r ScheduleRepo) Create(ctx context.Context, sc core.Schedule) (core.Schedule, error) {
	if err := prepareSchedule(&sc); err != nil {
		return core.Schedule{}, err
	}
	if sc.UUID == "" {
		sc.UUID = newUUID()
	}
	now := r.s.now()
	sc.CreatedAt, sc.UpdatedAt = now, now
	m, err := scheduleToModel(sc)
	if err != nil {
		return core.Schedule{}, err
	}
	m.ID = 0
	if _, err := r.s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
		err = mapError(err)
		if errors.Is(err, core.ErrInvalidArgument) {
			return core.Schedule{}, core.Errorf(core.KindNotFound, "task %d not found", sc.TaskID).WithDetail("task_id", sc.TaskID)
		}
		return core.Schedule{}, err
	}
	return scheduleFromModel(m)
}

// Update replaces the schedule's mutable fields: task_id, name,
// cron_expression, timezone, input, enabled, max_executions, next_run_at,
// output_destinations (execution_count and last_run_at are the
// scheduler's).
func (r ScheduleRepo) Update(ctx context.Context, sc core.Schedule) (core.Schedule, error) {
	if err := prepareSchedule(&sc); err != nil {
		return core.Schedule{}, err
	}
	sc.UpdatedAt = r.s.now()
	m, err := scheduleToModel(sc)
	if err != nil {
		return core.Schedule{}, err
	}
	err = r.s.w.NewUpdate().Model(m).
		Column("task_id", "name", "cron_expression", "timezone", "input", "enabled",
			"max_executions", "next_run_at", "output_destinations", "updated_at").
		WherePK().Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return core.Schedule{}, core.Errorf(core.KindNotFound, "schedule %d not found", sc.ID)
	}
	if err != nil {
		return core.Schedule{}, mapError(err)
	}
	return scheduleFromModel(m)
}

// SetEnabled enables or disables a schedule and sets its next run (nil
// when disabled, typically).
func (r ScheduleRepo) SetEnabled(ctx context.Context, id int64, enabled bool, nextRunAt *time.Time) (core.Schedule, error) {
	var m scheduleModel
	err := r.s.w.NewUpdate().Model(&m).
		Set("enabled = ?", enabled).Set("next_run_at = ?", truncTimePtr(nextRunAt)).Set("updated_at = ?", r.s.now()).
		Where("id = ?", id).Returning("*").Scan(ctx)
	if err != nil {
		return core.Schedule{}, notFound(err, "schedule", id)
	}
	return scheduleFromModel(&m)
}

// Delete removes a schedule; its past jobs keep no schedule_id.
func (r ScheduleRepo) Delete(ctx context.Context, id int64) error {
	res, err := r.s.w.NewDelete().Model((*scheduleModel)(nil)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, "schedule", id)
}

// Get returns the schedule with the given id.
func (r ScheduleRepo) Get(ctx context.Context, id int64) (core.Schedule, error) {
	var m scheduleModel
	if err := r.s.r.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return core.Schedule{}, notFound(err, "schedule", id)
	}
	return scheduleFromModel(&m)
}

// GetByUUID returns the schedule with the given uuid.
func (r ScheduleRepo) GetByUUID(ctx context.Context, uuid string) (core.Schedule, error) {
	var m scheduleModel
	if err := r.s.r.NewSelect().Model(&m).Where("uuid = ?", uuid).Scan(ctx); err != nil {
		return core.Schedule{}, notFound(err, "schedule", uuid)
	}
	return scheduleFromModel(&m)
}

// List returns one page of schedules. Filter and sort fields: id, uuid,
// task_id, name, cron_expression, timezone, enabled, max_executions,
// execution_count, next_run_at, last_run_at, created_at, updated_at; q
// searches name and cron_expression.
func (r ScheduleRepo) List(ctx context.Context, q core.ListQuery) (core.Page[core.Schedule], error) {
	rows, total, err := list[scheduleModel](ctx, r.s, scheduleResource, q, "id")
	if err != nil {
		return core.Page[core.Schedule]{}, err
	}
	items := make([]core.Schedule, len(rows))
	for i := range rows {
		if items[i], err = scheduleFromModel(&rows[i]); err != nil {
			return core.Page[core.Schedule]{}, err
		}
	}
	return core.Page[core.Schedule]{Items: items, Total: total}, nil
}

// Due returns up to limit enabled schedules whose next run is at or before
// now, earliest first. Fire (or Advance) then claims each tick.
func (r ScheduleRepo) Due(ctx context.Context, now time.Time, limit int) ([]core.Schedule, error) {
	if limit <= 0 {
		limit = 100
	}
	var ms []scheduleModel
	err := r.s.r.NewSelect().Model(&ms).
		Where("enabled").Where("next_run_at IS NOT NULL").Where("next_run_at <= ?", truncTime(now)).
		Order("next_run_at ASC", "id ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	out := make([]core.Schedule, len(ms))
	for i := range ms {
		if out[i], err = scheduleFromModel(&ms[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// NextRun returns the earliest next_run_at of the enabled schedules, or nil
// when none is due ever (the scheduler sleeps until then).
func (r ScheduleRepo) NextRun(ctx context.Context) (*time.Time, error) {
	var ms []scheduleModel
	err := r.s.r.NewSelect().Model(&ms).Column("next_run_at").
		Where("enabled").Where("next_run_at IS NOT NULL").Order("next_run_at ASC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return utcPtr(ms[0].NextRunAt), nil
}

// Advance moves a schedule's next run from expected (the tick being fired)
// to next with a compare-and-set, counting one execution and setting
// last_run_at to expected. Only one caller per tick gets true, however
// many nodes try. Reaching max_executions disables the schedule.
func (r ScheduleRepo) Advance(ctx context.Context, id int64, expected time.Time, next *time.Time) (bool, error) {
	expected = truncTime(expected)
	res, err := r.s.w.NewUpdate().Model((*scheduleModel)(nil)).
		Set("next_run_at = CASE WHEN max_executions IS NOT NULL AND execution_count + 1 >= max_executions THEN NULL ELSE "+r.s.timeParam()+" END", truncTimePtr(next)).
		Set("enabled = CASE WHEN max_executions IS NOT NULL AND execution_count + 1 >= max_executions THEN FALSE ELSE enabled END").
		Set("last_run_at = ?", expected).
		Set("execution_count = execution_count + 1").
		Set("updated_at = ?", r.s.now()).
		Where("id = ?", id).Where("enabled").Where("next_run_at = ?", expected).
		Exec(ctx)
	if err != nil {
		return false, mapError(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// Fire atomically advances schedule sc from tick (its current next_run_at)
// to next and enqueues job for that tick, in one transaction. fired is
// false, and no job is created, when another caller (another node) fired
// this tick already or the schedule changed. job gets ScheduleID, TaskID,
// and the schedule's input and output destinations when it has none.
func (r ScheduleRepo) Fire(ctx context.Context, sc core.Schedule, tick time.Time, next *time.Time, job core.Job) (created core.Job, fired bool, err error) {
	job.ScheduleID = &sc.ID
	if job.TaskID == 0 {
		job.TaskID = sc.TaskID
	}
	if job.Input == nil {
		job.Input = sc.Input
	}
	if job.OutputDestinations == nil {
		job.OutputDestinations = sc.OutputDestinations
	}
	err = r.s.RunInTx(ctx, func(ctx context.Context, tx *Store) error {
		ok, err := ScheduleRepo{tx}.Advance(ctx, sc.ID, tick, next)
		if err != nil || !ok {
			return err
		}
		created, _, err = JobRepo{tx}.Enqueue(ctx, job)
		if err != nil {
			return err
		}
		fired = true
		return nil
	})
	if err != nil {
		return core.Job{}, false, err
	}
	return created, fired, nil
}

// FireSchedule is ScheduleRepo.Fire.
func (s *Store) FireSchedule(ctx context.Context, sc core.Schedule, tick time.Time, next *time.Time, job core.Job) (core.Job, bool, error) {
	return s.Schedules().Fire(ctx, sc, tick, next, job)
}
