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
	"github.com/ratchet-go/ratchet/lib/clusterbus"
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
	// HeartbeatInterval is how often this node writes its workers to the
	// database for GET /workers on every node; nodes silent for
	// HeartbeatMisses intervals are removed. 0 means
	// DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
}

// Heartbeat defaults.
const (
	// DefaultHeartbeatInterval is how often a node writes its workers.
	DefaultHeartbeatInterval = 5 * time.Second
	// HeartbeatMisses is how many intervals a node may miss before any
	// node prunes it (with its workers) as dead.
	HeartbeatMisses = 3
	// heartbeatThrottle bounds the writes that worker status changes
	// cause between two periodic heartbeats.
	heartbeatThrottle = 500 * time.Millisecond
)

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
	relay      *clusterbus.Relay // nil on SQLite (a single node)
	pool       *pool.Pool
	contents   *dispatcher.Contents
	dispatcher *dispatcher.Dispatcher
	scheduler  *scheduler.Scheduler
	registry   *registry.Registry
	plugins    *plugins // nil unless plugins.enabled
	deliverer  *delivery.Deliverer
	service    *service.Service
	// metrics are fed by the components here and served by NewHTTPServer.
	metrics   *metrics.Metrics
	build     BuildInfo
	heartbeat *heartbeat
	group     *lifecycle.Group
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
	// On PostgreSQL the relay carries events between nodes: it forwards
	// the bus's events and delivers the other nodes' to it.
	postgres := a.store.Dialect() == sqlstore.DialectPostgres
	bc := events.Config{Node: node, Logger: log}
	if postgres {
		bc.Forwarder = events.ForwarderFunc(func(ctx context.Context, ev core.Event) { a.relay.Forward(ctx, ev) })
	}
	if a.bus, err = events.New(bc); err != nil {
		return nil, err
	}
	if postgres {
		a.relay, err = clusterbus.New(db.URL, a.bus, clusterbus.Config{Node: node, Logger: log,
			LoadJob: a.store.Jobs().Get, LoadExecution: a.store.Executions().Get,
			OnReconnect: func() { a.dispatcher.Wake() }})
		if err != nil {
			return nil, fmt.Errorf("cluster events: %w", err)
		}
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
	if a.plugins, err = newPlugins(cfg.Plugins, a.node, a.store, a.bus, log); err != nil {
		return nil, err
	}
	var pluginRunner dispatcher.Plugins // nil interface when plugins are off
	if a.plugins != nil {
		pluginRunner = a.plugins.m
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
		Plugins:       pluginRunner,
		Logger:        log,
	})
	if err != nil {
		return nil, err
	}

	// The scheduler's jobs count toward max_queue_size as soon as they are
	// queued (see lib/service's doc); the service is built below.
	a.scheduler, err = scheduler.New(a.store, schedulerEvents{a}, scheduler.Config{
		Node:       node,
		Logger:     log,
		MaxRetries: schedulerRetries(cfg.Server.JobQueue.DefaultMaxRetries),
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
	if a.relay != nil {
		a.group.Add("cluster events", a.relay)
	}
	a.group.Add("worker pool", a.pool)
	a.heartbeat = newHeartbeat(a.store, a.bus, a.pool.Workers, sqlstore.Node{
		Name: node, Hostname: hostname(), Version: opts.Build.Version,
	}, opts.HeartbeatInterval, log)
	a.group.Add("heartbeat", a.heartbeat)
	a.group.Add("registry", detached(reg))
	if a.plugins != nil {
		a.group.Add("plugins", a.plugins)
	}
	a.group.Add("dispatcher", a.dispatcher)
	a.group.Add("scheduler", detached(a.scheduler))
	return a, nil
}

// schedulerEvents publishes the scheduler's events on the bus, and counts
// the jobs it queues toward max_queue_size at once (see lib/service's doc).
type schedulerEvents struct{ a *App }

func (p schedulerEvents) Publish(ctx context.Context, ev core.Event) {
	if ev.Type == core.EventJobQueued && p.a.service != nil {
		p.a.service.JobsEnqueued(1)
	}
	p.a.bus.Publish(ctx, ev)
}

// schedulerRetries maps server.job_queue.default_max_retries onto
// scheduler.Config.MaxRetries, where 0 means the scheduler's default (3)
// and a negative value means none.
func schedulerRetries(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// heartbeat writes this node's workers to the database every interval,
// and soon after a worker changes status (at most every
// heartbeatThrottle), so that every node can list every node's workers.
// Each beat also prunes the nodes silent for HeartbeatMisses intervals;
// a clean stop removes this node.
type heartbeat struct {
	store    *sqlstore.Store
	sub      core.Subscriber
	workers  func() []core.Worker
	node     sqlstore.Node
	interval time.Duration
	throttle time.Duration
	log      *slog.Logger
	runner   *lifecycle.Runner
	now      func() time.Time
	// changes are this node's worker status changes, subscribed to
	// before the loop starts so that none is missed.
	changes     <-chan core.Event
	unsubscribe func()
}

func newHeartbeat(store *sqlstore.Store, sub core.Subscriber, workers func() []core.Worker, node sqlstore.Node, interval time.Duration, log *slog.Logger) *heartbeat {
	if interval <= 0 {
		interval = DefaultHeartbeatInterval
	}
	h := &heartbeat{store: store, sub: sub, workers: workers, node: node, interval: interval,
		throttle: min(heartbeatThrottle, interval), now: time.Now,
		log: log.With(slog.String("component", "heartbeat"), slog.String("node", node.Name))}
	h.runner = lifecycle.NewRunner(h.loop)
	return h
}

// Start writes the first heartbeat (so the node's workers are listed once
// the app has started) and starts the loop.
func (h *heartbeat) Start(ctx context.Context) error {
	h.node.StartedAt = h.now().UTC()
	if err := h.beat(ctx); err != nil {
		// The loop tries again; the node works without its row.
		h.log.WarnContext(ctx, "writing the first heartbeat failed", slog.String("error", err.Error()))
	}
	h.changes, h.unsubscribe = h.sub.Subscribe(context.WithoutCancel(ctx), func(ev core.Event) bool {
		return ev.Type == core.EventWorkerStatusChanged && ev.Worker != nil && ev.Worker.Node == h.node.Name
	})
	if err := h.runner.Start(context.WithoutCancel(ctx)); err != nil {
		h.unsubscribe()
		return err
	}
	return nil
}

// Stop ends the loop and removes this node and its workers.
func (h *heartbeat) Stop(ctx context.Context) error {
	h.runner.Stop()
	if err := h.store.Workers().RemoveNode(ctx, h.node.Name); err != nil && !errors.Is(err, core.ErrNotFound) {
		return fmt.Errorf("removing node %s: %w", h.node.Name, err)
	}
	return nil
}

// abandon ends the loop and leaves the node's rows, as a crash would.
func (h *heartbeat) abandon() { h.runner.Stop() }

func (h *heartbeat) beat(ctx context.Context) error {
	now := h.now().UTC()
	if err := h.store.Workers().Heartbeat(ctx, h.node, h.workers(), now); err != nil {
		return err
	}
	pruned, err := h.store.Workers().PruneNodes(ctx, now.Add(-HeartbeatMisses*h.interval))
	if err != nil {
		return err
	}
	if len(pruned) > 0 {
		h.log.InfoContext(ctx, "removed nodes that stopped sending heartbeats", slog.Any("nodes", pruned))
	}
	return nil
}

func (h *heartbeat) loop(ctx context.Context, _ <-chan struct{}) error {
	changes := h.changes
	defer h.unsubscribe()
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	// soon fires a beat for status changes, throttled; nil when none is
	// pending.
	var soon <-chan time.Time
	last := h.now()
	write := func() {
		if err := h.beat(ctx); err != nil && ctx.Err() == nil {
			h.log.WarnContext(ctx, "writing the heartbeat failed", slog.String("error", err.Error()))
		}
		last, soon = h.now(), nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			write()
		case <-soon:
			write()
		case _, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			if soon == nil {
				soon = time.After(max(h.throttle-h.now().Sub(last), 0))
			}
		}
	}
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
	a.heartbeat.abandon()
	a.pool.Kill()
	if a.plugins != nil {
		a.plugins.kill()
	}
	_ = a.scheduler.Stop(context.Background())
	if a.relay != nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // no flush
		_ = a.relay.Stop(ctx)
	}
	a.bus.Close()
	_ = a.store.Close()
}

// Service is the typed service API.
func (a *App) Service() *service.Service { return a.service }

// Store is the database.
func (a *App) Store() *sqlstore.Store { return a.store }

// Bus is the event bus.
func (a *App) Bus() *events.Bus { return a.bus }

// Relay carries events between nodes; nil on SQLite.
func (a *App) Relay() *clusterbus.Relay { return a.relay }

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
