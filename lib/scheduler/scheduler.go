package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/cronspec"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Defaults of Config.
const (
	DefaultPollMax    = time.Minute
	DefaultBatch      = 100
	DefaultMaxRetries = 3
	DefaultRetryDelay = 60 * time.Second
	// DefaultErrorBackoff is how long the loop first waits after a
	// database error before trying again.
	DefaultErrorBackoff = time.Second
)

// Config configures a Scheduler. Zero fields take the defaults named below.
type Config struct {
	// PollMax bounds one sleep of the loop, so that schedules created on
	// another node are seen within it. Default DefaultPollMax.
	PollMax time.Duration
	// Batch is how many due schedules are read at a time. Default
	// DefaultBatch.
	Batch int
	// Node names this node in events and logs.
	Node string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives the scheduler's logs. Default: discard.
	Logger *slog.Logger
	// MaxRetries is max_retries of the jobs a schedule enqueues. Zero means
	// DefaultMaxRetries; a negative value means no retries.
	MaxRetries int
	// RetryDelay is retry_delay_seconds of those jobs (whole seconds).
	// Zero means DefaultRetryDelay.
	RetryDelay time.Duration
	// ErrorBackoff is the pause after a failed round (a database error);
	// it doubles while rounds keep failing, up to PollMax. Default
	// DefaultErrorBackoff.
	ErrorBackoff time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.PollMax < 0 || c.Batch < 0 || c.RetryDelay < 0 || c.ErrorBackoff < 0 {
		return c, core.Errorf(core.KindConfiguration, "scheduler: PollMax, Batch, RetryDelay and ErrorBackoff must not be negative")
	}
	if c.PollMax == 0 {
		c.PollMax = DefaultPollMax
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.ErrorBackoff == 0 {
		c.ErrorBackoff = DefaultErrorBackoff
	}
	c.ErrorBackoff = min(c.ErrorBackoff, c.PollMax)
	return c, nil
}

// Scheduler fires the schedules stored in a database. Its methods are safe
// for concurrent use.
type Scheduler struct {
	store  *sqlstore.Store
	pub    core.Publisher
	cfg    Config
	log    *slog.Logger
	runner *lifecycle.Runner
	wake   chan struct{}

	// fireMu serialises FireDue calls of this scheduler (the loop and
	// tests); other schedulers are kept apart by the database.
	fireMu sync.Mutex
}

// New returns a scheduler over store that publishes a core.EventJobQueued
// for every job it enqueues. Call Start to run its loop; the API-facing
// methods (Create, Update, ...) work without it.
func New(store *sqlstore.Store, publisher core.Publisher, cfg Config) (*Scheduler, error) {
	if store == nil {
		return nil, errors.New("scheduler.New: store is nil: pass the *sqlstore.Store opened by the composition root")
	}
	if publisher == nil {
		return nil, errors.New("scheduler.New: publisher is nil: pass the event bus (lib/events.Bus) the dispatcher subscribes to")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		store: store,
		pub:   publisher,
		cfg:   cfg,
		log:   cfg.Logger.With(slog.String("component", "scheduler")),
		wake:  make(chan struct{}, 1),
	}
	s.runner = lifecycle.NewRunner(s.loop)
	return s, nil
}

// Start runs the loop in the background until Stop, or until ctx ends: pass
// a context that lives as long as the scheduler.
func (s *Scheduler) Start(ctx context.Context) error {
	if err := s.runner.Start(ctx); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "scheduler started", slog.String("node", s.cfg.Node))
	return nil
}

// Stop ends the loop after the schedule being fired, if any; when ctx ends
// first, the loop is cancelled (a cancelled fire leaves no trace: it is one
// transaction). It is idempotent and safe before Start.
func (s *Scheduler) Stop(ctx context.Context) error {
	return s.runner.Drain(ctx)
}

// Wake makes the loop re-read the schedules now instead of at the end of
// its sleep. It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) loop(ctx context.Context, stopping <-chan struct{}) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	failures := 0
	for {
		wait, ok := s.round(ctx, stopping)
		if ok {
			failures = 0
		} else {
			// Back off exponentially while the database keeps failing.
			wait = s.cfg.ErrorBackoff << min(failures, 16)
			wait = min(wait, s.cfg.PollMax)
			failures++
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-stopping:
			return nil
		case <-s.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
	}
}

// round fires what is due and returns how long to sleep, and false when
// something failed.
func (s *Scheduler) round(ctx context.Context, stopping <-chan struct{}) (time.Duration, bool) {
	if _, err := s.fireDue(ctx, stopping); err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "firing due schedules", slog.String("error", err.Error()))
		}
		return 0, false
	}
	next, err := s.store.Schedules().NextRun(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.ErrorContext(ctx, "reading the next schedule run", slog.String("error", err.Error()))
		}
		return 0, false
	}
	if next == nil {
		return s.cfg.PollMax, true
	}
	return min(max(next.Sub(s.cfg.Now()), 0), s.cfg.PollMax), true
}

// FireDue fires every schedule due at Config.Now, as one wake-up of the
// loop does, and returns the jobs this scheduler enqueued. A schedule that
// another scheduler fired first is skipped. The loop calls it; tests and
// tools may call it directly.
func (s *Scheduler) FireDue(ctx context.Context) ([]core.Job, error) {
	return s.fireDue(ctx, nil)
}

func (s *Scheduler) fireDue(ctx context.Context, stopping <-chan struct{}) ([]core.Job, error) {
	s.fireMu.Lock()
	defer s.fireMu.Unlock()
	now := s.cfg.Now()
	var (
		jobs []core.Job
		errs []error
	)
	// seen holds the schedules handled in this round and stuck those still
	// due after it (they failed): the next batch is read past them, and a
	// batch of failing schedules cannot make the round loop forever.
	seen, stuck := map[int64]bool{}, 0
	for {
		limit := s.cfg.Batch + stuck
		due, err := s.store.Schedules().Due(ctx, now, limit)
		if err != nil {
			return jobs, err
		}
		fresh := 0
		for _, sc := range due {
			if seen[sc.ID] {
				continue
			}
			seen[sc.ID] = true
			fresh++
			select {
			case <-stopping:
				return jobs, errors.Join(errs...)
			default:
			}
			job, fired, err := s.fire(ctx, sc, now)
			if err != nil {
				if ctx.Err() != nil {
					return jobs, ctx.Err()
				}
				stuck++
				errs = append(errs, fmt.Errorf("schedule %d: %w", sc.ID, err))
				continue
			}
			if fired {
				jobs = append(jobs, job)
			}
		}
		if fresh == 0 || len(due) < limit {
			return jobs, errors.Join(errs...)
		}
	}
}

// fire fires one due schedule. It returns the job when one was enqueued.
// A schedule that changed or was fired elsewhere meanwhile is no error.
func (s *Scheduler) fire(ctx context.Context, sc core.Schedule, now time.Time) (core.Job, bool, error) {
	log := s.log.With(slog.Int64("schedule_id", sc.ID), slog.Int64("task_id", sc.TaskID))
	if sc.NextRunAt == nil {
		return core.Job{}, false, nil
	}
	spec, err := cronspec.Parse(sc.CronExpression, sc.Timezone)
	if err != nil {
		log.ErrorContext(ctx, "schedule has an invalid expression or time zone: disabling it",
			slog.String("cron_expression", sc.CronExpression), slog.String("timezone", sc.Timezone),
			slog.String("error", err.Error()))
		if _, err := s.store.Schedules().SetEnabled(ctx, sc.ID, false, nil); err != nil && !errors.Is(err, core.ErrNotFound) {
			return core.Job{}, false, err
		}
		return core.Job{}, false, nil
	}
	tick := spec.Advance(*sc.NextRunAt, now)
	if !tick.Due {
		return core.Job{}, false, nil
	}
	var next *time.Time
	if !tick.Next.IsZero() {
		next = &tick.Next
	}

	task, err := s.store.Tasks().Get(ctx, sc.TaskID)
	if err != nil {
		return core.Job{}, false, fmt.Errorf("reading its task: %w", err)
	}
	if !task.Enabled {
		ok, err := s.store.Schedules().Advance(ctx, sc.ID, tick.ScheduledAt, next)
		if err == nil && ok {
			log.WarnContext(ctx, "schedule tick skipped: its task is disabled",
				slog.String("task", task.Name), slog.Time("scheduled_at", tick.ScheduledAt))
		}
		return core.Job{}, false, err
	}

	job := s.newJob(sc, "schedule")
	job.TaskName = task.Name
	job.Metadata["scheduled_at"] = tick.ScheduledAt.Format(time.RFC3339)
	if tick.Missed > 0 {
		job.Metadata["missed_runs"] = tick.Missed
	}
	created, fired, err := s.store.Schedules().Fire(ctx, sc, tick.ScheduledAt, next, job)
	if err != nil {
		return core.Job{}, false, err
	}
	if !fired {
		log.DebugContext(ctx, "schedule tick already fired elsewhere", slog.Time("scheduled_at", tick.ScheduledAt))
		return core.Job{}, false, nil
	}
	if tick.Missed > 0 {
		log.InfoContext(ctx, "schedule fired once for runs missed while down",
			slog.Int("missed_runs", tick.Missed), slog.Time("scheduled_at", tick.ScheduledAt))
	}
	log.DebugContext(ctx, "schedule fired", slog.Int64("job_id", created.ID), slog.Time("scheduled_at", tick.ScheduledAt))
	s.publish(ctx, created)
	return created, true, nil
}

func (s *Scheduler) newJob(sc core.Schedule, trigger string) core.Job {
	meta := map[string]any{"trigger": trigger, "schedule_uuid": sc.UUID}
	if sc.Name != "" {
		meta["schedule_name"] = sc.Name
	}
	if s.cfg.Node != "" {
		meta["node"] = s.cfg.Node
	}
	id := sc.ID
	return core.Job{
		TaskID:             sc.TaskID,
		Priority:           core.PriorityNormal,
		Input:              sc.Input,
		OutputDestinations: sc.OutputDestinations,
		ScheduleID:         &id,
		MaxRetries:         s.cfg.MaxRetries,
		RetryDelaySeconds:  int(s.cfg.RetryDelay / time.Second),
		Metadata:           meta,
	}
}

func (s *Scheduler) publish(ctx context.Context, job core.Job) {
	j := job
	s.pub.Publish(ctx, core.Event{Type: core.EventJobQueued, Time: s.cfg.Now().UTC(), Node: s.cfg.Node, Job: &j})
}

// normalize validates sc's expression and zone and stores them as parsed
// (a CRON_TZ= prefix becomes the timezone).
func normalize(sc *core.Schedule) (cronspec.Spec, error) {
	spec, err := cronspec.Parse(sc.CronExpression, sc.Timezone)
	if err != nil {
		return cronspec.Spec{}, err
	}
	sc.CronExpression = spec.Expression()
	sc.Timezone = spec.Location().String()
	if sc.MaxExecutions != nil && *sc.MaxExecutions < 1 {
		return cronspec.Spec{}, core.Errorf(core.KindInvalidArgument,
			"invalid max_executions %d: must be at least 1 (omit it for no limit)", *sc.MaxExecutions).
			WithDetail("field", "max_executions")
	}
	if sc.TaskID <= 0 {
		return cronspec.Spec{}, core.Errorf(core.KindInvalidArgument, "schedule needs a task_id").WithDetail("field", "task_id")
	}
	sc.Name = strings.TrimSpace(sc.Name)
	return spec, nil
}

// Create validates and stores a new schedule: the cron expression and time
// zone must parse (an InvalidArgument error names cron_expression or
// timezone), the task must exist (NotFound), and next_run_at is computed
// when the schedule is enabled. ID, UUID (when empty), execution_count,
// next_run_at and last_run_at are set here, whatever sc holds.
func (s *Scheduler) Create(ctx context.Context, sc core.Schedule) (core.Schedule, error) {
	spec, err := normalize(&sc)
	if err != nil {
		return core.Schedule{}, err
	}
	sc.ID, sc.ExecutionCount, sc.LastRunAt, sc.NextRunAt = 0, 0, nil, nil
	if sc.Enabled {
		sc.NextRunAt = nextPtr(spec, s.cfg.Now())
	}
	out, err := s.store.Schedules().Create(ctx, sc)
	if err != nil {
		return core.Schedule{}, err
	}
	s.Wake()
	return out, nil
}

// Update replaces the schedule's settings with sc's (task_id, name,
// cron_expression, timezone, input, enabled, max_executions,
// output_destinations); PATCH is read, change, Update. The cron position is
// kept unless the expression or zone changed or the schedule is being
// enabled, in which case next_run_at is recomputed from now. Enabling a
// schedule that reached its max_executions is a conflict.
func (s *Scheduler) Update(ctx context.Context, sc core.Schedule) (core.Schedule, error) {
	spec, err := normalize(&sc)
	if err != nil {
		return core.Schedule{}, err
	}
	cur, err := s.store.Schedules().Get(ctx, sc.ID)
	if err != nil {
		return core.Schedule{}, err
	}
	switch {
	case !sc.Enabled:
		sc.NextRunAt = nil
	case exhausted(cur.ExecutionCount, sc.MaxExecutions):
		return core.Schedule{}, exhaustedError(cur.ExecutionCount, sc.MaxExecutions)
	case !cur.Enabled || cur.NextRunAt == nil || cur.CronExpression != sc.CronExpression || cur.Timezone != sc.Timezone:
		sc.NextRunAt = nextPtr(spec, s.cfg.Now())
	default:
		sc.NextRunAt = cur.NextRunAt
	}
	out, err := s.store.Schedules().Update(ctx, sc)
	if err != nil {
		return core.Schedule{}, err
	}
	s.Wake()
	return out, nil
}

// Enable enables a schedule and computes its next run from now. Enabling an
// enabled schedule changes nothing. A schedule that reached its
// max_executions cannot be enabled (Conflict): raise or clear the limit
// with Update.
func (s *Scheduler) Enable(ctx context.Context, id int64) (core.Schedule, error) {
	cur, err := s.store.Schedules().Get(ctx, id)
	if err != nil {
		return core.Schedule{}, err
	}
	if cur.Enabled && cur.NextRunAt != nil {
		return cur, nil
	}
	if exhausted(cur.ExecutionCount, cur.MaxExecutions) {
		return core.Schedule{}, exhaustedError(cur.ExecutionCount, cur.MaxExecutions)
	}
	spec, err := cronspec.Parse(cur.CronExpression, cur.Timezone)
	if err != nil {
		return core.Schedule{}, err
	}
	out, err := s.store.Schedules().SetEnabled(ctx, id, true, nextPtr(spec, s.cfg.Now()))
	if err != nil {
		return core.Schedule{}, err
	}
	s.Wake()
	return out, nil
}

// Disable disables a schedule: it stops firing and its next_run_at is
// cleared. Disabling a disabled schedule changes nothing.
func (s *Scheduler) Disable(ctx context.Context, id int64) (core.Schedule, error) {
	cur, err := s.store.Schedules().Get(ctx, id)
	if err != nil {
		return core.Schedule{}, err
	}
	if !cur.Enabled && cur.NextRunAt == nil {
		return cur, nil
	}
	return s.store.Schedules().SetEnabled(ctx, id, false, nil)
}

// Trigger enqueues one job for the schedule now, with the schedule's input
// and output destinations, whether it is enabled or not. The cron position,
// last_run_at and execution_count are left alone.
func (s *Scheduler) Trigger(ctx context.Context, id int64) (core.Job, error) {
	sc, err := s.store.Schedules().Get(ctx, id)
	if err != nil {
		return core.Job{}, err
	}
	job := s.newJob(sc, "manual")
	job.Metadata["triggered_at"] = s.cfg.Now().UTC().Format(time.RFC3339Nano)
	created, _, err := s.store.Jobs().Enqueue(ctx, job)
	if err != nil {
		return core.Job{}, err
	}
	s.log.InfoContext(ctx, "schedule triggered", slog.Int64("schedule_id", id), slog.Int64("job_id", created.ID))
	s.publish(ctx, created)
	return created, nil
}

// Delete removes a schedule. Jobs it enqueued stay.
func (s *Scheduler) Delete(ctx context.Context, id int64) error {
	if err := s.store.Schedules().Delete(ctx, id); err != nil {
		return err
	}
	s.Wake()
	return nil
}

func nextPtr(spec cronspec.Spec, now time.Time) *time.Time {
	t := spec.Next(now)
	if t.IsZero() {
		return nil
	}
	return &t
}

func exhausted(count int, maxExec *int) bool { return maxExec != nil && count >= *maxExec }

func exhaustedError(count int, maxExec *int) error {
	return core.Errorf(core.KindConflict,
		"the schedule reached its max_executions (%d of %d): raise or clear max_executions to enable it", count, *maxExec).
		WithDetail("field", "max_executions")
}
