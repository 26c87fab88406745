package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/dispatcher"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/worker"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Dispatcher is what the service needs of the job dispatcher;
// *dispatcher.Dispatcher implements it.
type Dispatcher interface {
	WakeAt(t time.Time)
	CancelJob(id int64) bool
	Execute(ctx context.Context, req dispatcher.ExecuteRequest) (dispatcher.ExecuteResult, error)
	Contents() *dispatcher.Contents
	Stats() dispatcher.Stats
}

// Pool is what the service needs of the worker pool (task tests, worker
// listings); *pool.Pool implements it.
type Pool interface {
	Execute(ctx context.Context, req worker.Request) (worker.Result, error)
	Workers() []core.Worker
}

// Scheduler manages schedules; *scheduler.Scheduler implements it.
type Scheduler interface {
	Create(ctx context.Context, sc core.Schedule) (core.Schedule, error)
	Update(ctx context.Context, sc core.Schedule) (core.Schedule, error)
	Enable(ctx context.Context, id int64) (core.Schedule, error)
	Disable(ctx context.Context, id int64) (core.Schedule, error)
	Trigger(ctx context.Context, id int64) (core.Job, error)
	Delete(ctx context.Context, id int64) error
}

// TaskUpload is a task given as its files: paths inside the task folder
// with forward slashes ("metadata.json", "main.js", "tests/basic.json"),
// or a .zip of the folder in Zip.
type TaskUpload struct {
	// Name is the task's default name; metadata.json may set it.
	Name  string
	Files map[string][]byte
	Zip   []byte
}

// Registry stores uploaded tasks (lib/registry, adapted by the
// composition root): it parses and checks the files, and creates a task or
// a new version of one.
type Registry interface {
	CreateTask(ctx context.Context, up TaskUpload) (core.Task, error)
	UpdateTask(ctx context.Context, id int64, up TaskUpload) (core.Task, error)
	DeleteTask(ctx context.Context, id int64) error
}

// Config holds the settings the rules depend on (from config.Config).
type Config struct {
	// MaxQueueSize bounds the active jobs (queued, retrying, processing);
	// 0 means no bound.
	MaxQueueSize int
	// DefaultMaxRetries and DefaultRetryDelay fill new jobs.
	DefaultMaxRetries int
	DefaultRetryDelay time.Duration
	// MaxInputBytes bounds a job's or an execution's input; 0 means none.
	MaxInputBytes int
	// SyncTimeout bounds a synchronous execute that gives no timeout;
	// 0 means execution.max_execution_duration's default (300 s).
	SyncTimeout time.Duration
	// ValidateDestinations checks output destinations given by clients;
	// nil accepts any.
	ValidateDestinations func([]core.OutputDestination) error
	// QueueRecount is how stale the cached active-job count may be
	// before it is counted again. 0 means 250 ms.
	QueueRecount time.Duration
}

// Deps are the components the service delegates to. Store and Dispatcher
// are required; the others may be nil (the operations needing them answer
// ServiceUnavailableError).
type Deps struct {
	Store      *sqlstore.Store
	Dispatcher Dispatcher
	Pool       Pool
	Registry   Registry
	Scheduler  Scheduler
	Publisher  core.Publisher
	Subscriber core.Subscriber
	// Engine validates tasks in process (compiling only; tasks run in
	// workers). nil: one is made on first use.
	Engine *engine.Engine
	Logger *slog.Logger
}

// Service is the typed service API.
type Service struct {
	d     Deps
	cfg   Config
	log   *slog.Logger
	queue *queueGuard

	tasks      *Tasks
	jobs       *Jobs
	executions *Executions
	schedules  *Schedules
	workers    *Workers
	deliveries *Deliveries
}

// New returns the service over deps.
func New(deps Deps, cfg Config) (*Service, error) {
	if deps.Store == nil {
		return nil, errors.New("service.New: nil Store: pass the opened *sqlstore.Store")
	}
	if deps.Dispatcher == nil {
		return nil, errors.New("service.New: nil Dispatcher: pass the *dispatcher.Dispatcher")
	}
	if cfg.MaxQueueSize < 0 || cfg.DefaultMaxRetries < 0 || cfg.DefaultRetryDelay < 0 || cfg.MaxInputBytes < 0 {
		return nil, errors.New("service.New: MaxQueueSize, DefaultMaxRetries, DefaultRetryDelay and MaxInputBytes must not be negative")
	}
	if cfg.QueueRecount == 0 {
		cfg.QueueRecount = 250 * time.Millisecond
	}
	if cfg.SyncTimeout == 0 {
		cfg.SyncTimeout = worker.DefaultMaxDuration
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: deps, cfg: cfg, log: log.With(slog.String("component", "service"))}
	s.queue = &queueGuard{store: deps.Store, max: cfg.MaxQueueSize, every: cfg.QueueRecount}
	s.tasks = &Tasks{s}
	s.jobs = &Jobs{s}
	s.executions = &Executions{s}
	s.schedules = &Schedules{s}
	s.workers = &Workers{s}
	s.deliveries = &Deliveries{s}
	return s, nil
}

// Tasks are the task operations.
func (s *Service) Tasks() *Tasks { return s.tasks }

// Jobs are the job operations.
func (s *Service) Jobs() *Jobs { return s.jobs }

// Executions are the execution operations.
func (s *Service) Executions() *Executions { return s.executions }

// Schedules are the schedule operations.
func (s *Service) Schedules() *Schedules { return s.schedules }

// Workers are the worker operations.
func (s *Service) Workers() *Workers { return s.workers }

// Deliveries are the delivery-result operations.
func (s *Service) Deliveries() *Deliveries { return s.deliveries }

// JobsEnqueued counts n jobs that were enqueued without the service (the
// scheduler's ticks) against server.job_queue.max_queue_size at once,
// rather than at the next recount of the active jobs. The composition root
// calls it for every job the scheduler queues.
func (s *Service) JobsEnqueued(n int) { s.queue.add(n) }

// Ping checks the database (health checks).
func (s *Service) Ping(ctx context.Context) error { return s.d.Store.Ping(ctx) }

func (s *Service) publish(ctx context.Context, ev core.Event) {
	if s.d.Publisher != nil {
		s.d.Publisher.Publish(ctx, ev)
	}
}

func unavailable(what string) error {
	return core.Errorf(core.KindServiceUnavailable, "%s is not available on this server", what)
}

// checkInput validates a JSON input and its size; empty means {}.
func (s *Service) checkInput(input json.RawMessage) (json.RawMessage, error) {
	if len(input) == 0 {
		return json.RawMessage(`{}`), nil
	}
	if s.cfg.MaxInputBytes > 0 && len(input) > s.cfg.MaxInputBytes {
		return nil, core.Errorf(core.KindInvalidArgument, "input is %d bytes: the limit is %d (execution.max_input_bytes)", len(input), s.cfg.MaxInputBytes).
			WithDetail("field", "input")
	}
	if !json.Valid(input) {
		return nil, core.Errorf(core.KindInvalidArgument, "input is not valid JSON").WithDetail("field", "input")
	}
	return input, nil
}

func (s *Service) checkDestinations(ds []core.OutputDestination) error {
	if len(ds) == 0 || s.cfg.ValidateDestinations == nil {
		return nil
	}
	return s.cfg.ValidateDestinations(ds)
}
