package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
	"github.com/ratchet-go/ratchet/lib/dispatcher"
	"github.com/ratchet-go/ratchet/lib/events"
	"github.com/ratchet-go/ratchet/lib/registry"
	"github.com/ratchet-go/ratchet/lib/runtimecfg"
	"github.com/ratchet-go/ratchet/lib/scheduler"
	"github.com/ratchet-go/ratchet/lib/server/metrics"
	"github.com/ratchet-go/ratchet/lib/service"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/resilience/retry"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/worker"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Options are what the configuration does not hold.
type Options struct {
	// Logger receives every component's logs; nil discards.
	Logger *slog.Logger
	// WorkerCommand starts one worker process, which must call
	// worker.Serve; nil means this executable with the argument "worker"
	// (the hidden `ratchet worker` command).
	WorkerCommand func(ctx context.Context) *exec.Cmd
	// Node names this process in leases, events and worker ids; it must be
	// stable across restarts. "" means the host name.
	Node string
	// Dispatcher tunes the dispatcher beyond what the configuration says
	// (tests: short leases and polls). Zero fields keep their values.
	Dispatcher DispatcherOptions
	// Build is what /version and the build-info metric report.
	Build BuildInfo
}

// DispatcherOptions override dispatcher settings.
type DispatcherOptions struct {
	// Prefetch: negative claims only for free workers (strict priority
	// order); see dispatcher.Config.Prefetch.
	Prefetch      int
	LeaseDuration time.Duration
	PollInterval  time.Duration
	ReclaimEvery  time.Duration
	MaxRetryDelay time.Duration
	RetryJitter   float64
}

// App is a built Ratchet server core.
type App struct {
	cfg  *config.Config
	log  *slog.Logger
	node string

	store      *sqlstore.Store
	bus        *events.Bus
	pool       *pool.Pool
	contents   *dispatcher.Contents
	dispatcher *dispatcher.Dispatcher
	scheduler  *scheduler.Scheduler
	registry   *registry.Registry
	deliverer  *delivery.Deliverer
	service    *service.Service
	// metrics are fed by the components here and served by NewHTTPServer.
	metrics *metrics.Metrics
	build   BuildInfo
	group   *lifecycle.Group
}

// New builds every component from cfg; nothing runs until Start. On error,
// what was opened is closed again.
func New(cfg *config.Config, opts Options) (a *App, err error) {
	if cfg == nil {
		return nil, errors.New("app.New: nil config: load one with config.Load or use config.Default()")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	node := opts.Node
	if node == "" {
		if node, err = os.Hostname(); err != nil || node == "" {
			node = "ratchet"
		}
	}
	a = &App{cfg: cfg, log: log, node: node, group: lifecycle.NewGroup()}
	defer func() {
		if err != nil && a.store != nil {
			_ = a.store.Close()
		}
	}()

	db := cfg.Server.Database
	a.store, err = sqlstore.Open(context.Background(), db.URL, sqlstore.Options{
		MaxConnections: db.MaxConnections, ConnectionTimeout: db.ConnectionTimeout, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	if a.bus, err = events.New(events.Config{Node: node, Logger: log}); err != nil {
		return nil, err
	}

	pc := runtimecfg.Pool(cfg, log)
	pc.Node = node
	pc.Command = opts.WorkerCommand
	// Jobs wait for a worker as long as they need (the dispatcher only
	// claims for free workers); synchronous executes are bounded by their
	// own timeout.
	pc.AcquireTimeout = -1
	pc.OnStatusChange = func(w core.Worker) {
		a.bus.Publish(context.Background(), core.Event{Type: core.EventWorkerStatusChanged, Worker: &w})
	}
	if a.pool, err = pool.New(pc); err != nil {
		return nil, fmt.Errorf("worker pool: %w", err)
	}

	size := 0
	if cfg.Cache.Enabled {
		size = cfg.Cache.TaskContentCacheSize
	}
	if a.contents, err = dispatcher.NewContents(a.store, size); err != nil {
		return nil, err
	}

	a.build = opts.Build
	a.metrics = metrics.New(metrics.Options{Version: opts.Build.Version, Commit: opts.Build.Commit})
	if a.deliverer, err = newDeliverer(cfg, a.store, log, a.metrics); err != nil {
		return nil, err
	}
	globals := len(cfg.Output.GlobalDestinations) > 0

	ec := runtimecfg.Engine(cfg)
	limits := worker.Limits{
		MaxDuration:          ec.MaxExecutionDuration,
		MaxInputBytes:        int64(cfg.Execution.MaxInputBytes),
		MaxOutputBytes:       int64(cfg.Execution.MaxOutputBytes),
		SkipSchemaValidation: !cfg.Execution.ValidateSchemas,
		HTTP: worker.HTTPSettings{
			Timeout: cfg.HTTP.Timeout, UserAgent: cfg.HTTP.UserAgent,
			AllowedHosts: cfg.HTTP.AllowedHosts, DeniedHosts: cfg.HTTP.DeniedHosts,
			InsecureSkipVerify: !cfg.HTTP.VerifySSL, MaxRedirects: cfg.HTTP.MaxRedirects,
		},
	}
	do := opts.Dispatcher
	a.dispatcher, err = dispatcher.New(a.store, a.pool, dispatcher.Config{
		Node:          node,
		BatchSize:     cfg.Server.JobQueue.MaxDequeueBatchSize,
		Prefetch:      do.Prefetch,
		LeaseDuration: do.LeaseDuration,
		PollInterval:  do.PollInterval,
		ReclaimEvery:  do.ReclaimEvery,
		MaxRetryDelay: do.MaxRetryDelay,
		RetryJitter:   do.RetryJitter,
		Limits:        limits,
		Publisher:     a.bus,
		Subscriber:    a.bus,
		Deliverer:     a.deliverer,
		ShouldDeliver: func(j *core.Job) bool { return globals || len(j.OutputDestinations) > 0 },
		Contents:      a.contents,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}

	a.scheduler, err = scheduler.New(a.store, a.bus, scheduler.Config{
		Node:       node,
		Logger:     log,
		MaxRetries: cfg.Server.JobQueue.DefaultMaxRetries,
		RetryDelay: cfg.Server.JobQueue.DefaultRetryDelay,
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}

	reg, uploads, err := newRegistry(cfg, a.store, log)
	if err != nil {
		return nil, err
	}
	a.registry = reg

	a.service, err = service.New(service.Deps{
		Store:      a.store,
		Dispatcher: a.dispatcher,
		Pool:       a.pool,
		Registry:   uploads,
		Scheduler:  a.scheduler,
		Publisher:  a.bus,
		Subscriber: a.bus,
		Logger:     log,
	}, service.Config{
		MaxQueueSize:         cfg.Server.JobQueue.MaxQueueSize,
		DefaultMaxRetries:    cfg.Server.JobQueue.DefaultMaxRetries,
		DefaultRetryDelay:    cfg.Server.JobQueue.DefaultRetryDelay,
		MaxInputBytes:        cfg.Execution.MaxInputBytes,
		SyncTimeout:          cfg.Execution.MaxExecutionDuration,
		ValidateDestinations: delivery.ValidateDestinations,
	})
	if err != nil {
		return nil, err
	}

	a.group.Add("database", lifecycle.Hook{
		OnStart: func(ctx context.Context) error {
			applied, err := a.store.Migrate(ctx)
			if err != nil {
				return fmt.Errorf("migrating the database: %w", err)
			}
			if len(applied) > 0 {
				log.InfoContext(ctx, "database migrated", slog.Any("migrations", applied))
			}
			return nil
		},
		OnStop: func(context.Context) error {
			a.bus.Close()
			a.deliverer.Close()
			return a.store.Close()
		},
	})
	a.group.Add("worker pool", a.pool)
	a.group.Add("registry", detached(reg))
	a.group.Add("dispatcher", a.dispatcher)
	a.group.Add("scheduler", detached(a.scheduler))
	return a, nil
}

// detached starts c with a context that outlives Start's: loops built on
// lifecycle.Runner stop when their start context ends, and Start's context
// only bounds the start.
func detached(c lifecycle.Component) lifecycle.Component {
	return lifecycle.Hook{
		OnStart: func(ctx context.Context) error { return c.Start(context.WithoutCancel(ctx)) },
		OnStop:  c.Stop,
	}
}

// Start migrates the database and starts every component in order.
func (a *App) Start(ctx context.Context) error {
	if err := a.group.Start(ctx); err != nil {
		return err
	}
	a.log.InfoContext(ctx, "ratchet core started", slog.String("node", a.node))
	return nil
}

// Stop stops every component in reverse order: the dispatcher drains until
// ctx ends, then requeues what still runs. It is idempotent.
func (a *App) Stop(ctx context.Context) error {
	return a.group.Stop(ctx)
}

// Kill stops the app as abruptly as a crash would, for tests of recovery:
// jobs stay processing under this node's lease, worker processes are
// killed, nothing is recorded.
func (a *App) Kill() {
	a.dispatcher.Abandon()
	a.pool.Kill()
	_ = a.scheduler.Stop(context.Background())
	a.bus.Close()
	_ = a.store.Close()
}

// Service is the typed service API.
func (a *App) Service() *service.Service { return a.service }

// Store is the database.
func (a *App) Store() *sqlstore.Store { return a.store }

// Bus is the event bus.
func (a *App) Bus() *events.Bus { return a.bus }

// Pool is the worker pool.
func (a *App) Pool() *pool.Pool { return a.pool }

// Dispatcher is the job dispatcher.
func (a *App) Dispatcher() *dispatcher.Dispatcher { return a.dispatcher }

// Scheduler is the cron scheduler.
func (a *App) Scheduler() *scheduler.Scheduler { return a.scheduler }

// Registry is the task registry.
func (a *App) Registry() *registry.Registry { return a.registry }

// Deliverer is the output deliverer.
func (a *App) Deliverer() *delivery.Deliverer { return a.deliverer }

// Node is this process's node name.
func (a *App) Node() string { return a.node }

// Config is the configuration the app was built from.
func (a *App) Config() *config.Config { return a.cfg }

// newDeliverer maps output.* onto the deliverer.
func newDeliverer(cfg *config.Config, store *sqlstore.Store, log *slog.Logger, m *metrics.Metrics) (*delivery.Deliverer, error) {
	o := cfg.Output
	globals := make([]core.OutputDestination, 0, len(o.GlobalDestinations))
	for _, d := range o.GlobalDestinations {
		globals = append(globals, DestinationOf(d, &o).OutputDestination())
	}
	rp := o.DefaultRetryPolicy
	results := delivery.ResultStoreFunc(func(ctx context.Context, r *core.DeliveryResult) error {
		m.DeliveryAttempted(r.DestinationType, r.Success)
		saved, err := store.Deliveries().Create(ctx, *r)
		if err != nil {
			return err
		}
		r.ID = saved.ID
		return nil
	})
	d, err := delivery.New(results, delivery.Config{
		MaxConcurrent:  o.MaxConcurrentDeliveries,
		DefaultTimeout: o.DefaultTimeout,
		DefaultRetry: retry.Policy{
			MaxAttempts:  max(rp.MaxAttempts, 1),
			InitialDelay: time.Duration(rp.InitialDelayMS) * time.Millisecond,
			MaxDelay:     time.Duration(rp.MaxDelayMS) * time.Millisecond,
			Multiplier:   rp.BackoffMultiplier,
			Jitter:       0.1,
		},
		GlobalDestinations: globals,
		Logger:             log,
	})
	if err != nil {
		return nil, fmt.Errorf("output delivery: %w", err)
	}
	return d, nil
}

// DestinationOf maps a configured destination (output.global_destinations)
// onto the deliverer's typed destination, defaults filled from o.
func DestinationOf(d config.Destination, o *config.OutputConfig) delivery.Destination {
	d.SetDefaults(o)
	out := delivery.Destination{Type: d.Type}
	switch d.Type {
	case config.DestinationFilesystem:
		out.Filesystem = &delivery.Filesystem{
			Path: d.Path, Format: delivery.Format(d.Format), Permissions: d.Permissions,
			CreateDirs: d.CreateDirs, Overwrite: d.Overwrite,
		}
	case config.DestinationWebhook:
		w := &delivery.Webhook{URL: d.URL, Method: d.Method, Headers: d.Headers, Timeout: d.Timeout}
		if a := d.Auth; a != nil {
			w.Auth = &delivery.Auth{Type: a.Type, Token: a.Token, Username: a.Username, Password: a.Password, Header: a.Header, Key: a.Key}
		}
		if s := d.Signature; s != nil {
			w.Signature = &delivery.Signature{Secret: s.Secret, Header: s.Header}
		}
		if rp := d.RetryPolicy; rp != nil {
			w.Retry = &delivery.RetryPolicy{
				MaxAttempts:       rp.MaxAttempts,
				InitialDelay:      time.Duration(rp.InitialDelayMS) * time.Millisecond,
				MaxDelay:          time.Duration(rp.MaxDelayMS) * time.Millisecond,
				BackoffMultiplier: rp.BackoffMultiplier,
			}
		}
		out.Webhook = w
	}
	return out
}
