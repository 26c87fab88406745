package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/events"
	"github.com/ratchet-go/ratchet/lib/graphql"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/health"
	"github.com/ratchet-go/ratchet/lib/server/metrics"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
	"github.com/ratchet-go/ratchet/lib/server/rest"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// BuildInfo is what /version and the build-info metric report.
type BuildInfo struct {
	Version, Commit, BuildDate string
}

// HTTPServer is the HTTP interface over an App: the REST API, health
// checks over the app's components, Prometheus metrics fed by the app's
// events, and API keys from the database.
type HTTPServer struct {
	*server.Server
	app     *App
	metrics *metrics.Metrics

	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

// NewHTTPServer builds the HTTP server for a; cfg.Server.bind_address and
// port say where it listens. It does not start it.
func (a *App) NewHTTPServer() (*HTTPServer, error) {
	scfg := server.ConfigFrom(a.cfg)
	scfg.Version, scfg.Commit, scfg.BuildDate, scfg.Node = a.build.Version, a.build.Commit, a.build.BuildDate, a.node
	m := a.metrics
	store := a.store
	queueDepth := func(ctx context.Context) (int64, error) {
		n, err := store.Jobs().CountActive(ctx)
		return int64(n), err
	}
	workers := func(context.Context) ([]core.Worker, error) { return a.pool.Workers(), nil }
	srv, err := server.New(scfg, server.Deps{
		Logger:     a.log,
		Metrics:    m,
		KeyStore:   keyStore{store},
		Checkers:   a.healthCheckers(),
		QueueDepth: queueDepth,
		Workers:    workers,
		Queue: func(ctx context.Context) (any, error) {
			return store.Jobs().QueueDepth(ctx)
		},
		AppConfig: a.cfg,
	})
	if err != nil {
		return nil, err
	}
	if err := rest.Register(srv.API(), a.service, rest.Options{}); err != nil {
		return nil, fmt.Errorf("mounting the REST API: %w", err)
	}
	if err := graphql.Register(srv.Echo(), a.service, a.bus, graphql.Options{
		Logger:               a.log,
		DisableIntrospection: !a.cfg.Server.GraphQL.Introspection,
	}); err != nil {
		return nil, fmt.Errorf("mounting the GraphQL API: %w", err)
	}
	if undocumented, missing := srv.CheckRoutes(); len(undocumented)+len(missing) > 0 {
		return nil, fmt.Errorf("the served routes and the OpenAPI document disagree: undocumented %v, missing %v", undocumented, missing)
	}
	m.SetQueueDepthFunc(queueDepth)
	m.SetWorkersFunc(workers)
	return &HTTPServer{Server: srv, app: a, metrics: m}, nil
}

// Start listens, starts feeding metrics from the app's events, and marks
// the server ready.
func (h *HTTPServer) Start(ctx context.Context) error {
	if err := h.Server.Start(ctx); err != nil {
		return err
	}
	feedCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// Only this node's events: with PostgreSQL the bus also carries other
	// nodes' events, which their own /metrics count.
	node := h.app.node
	ch, unsubscribe := h.app.bus.Subscribe(feedCtx, events.All(
		events.OfType(core.EventJobCompleted, core.EventJobFailed, core.EventJobCancelled, core.EventExecutionFinished),
		func(ev core.Event) bool { return ev.Node == "" || ev.Node == node }))
	h.mu.Lock()
	h.stop, h.done = cancel, make(chan struct{})
	done := h.done
	h.mu.Unlock()
	go func() {
		defer close(done)
		defer unsubscribe()
		for ev := range ch {
			h.observe(ev)
		}
	}()
	h.SetReady(true, "")
	return nil
}

// observe turns one event into metrics.
func (h *HTTPServer) observe(ev core.Event) {
	switch {
	case ev.Job != nil:
		h.metrics.JobFinished(ev.Job.TaskName, ev.Job.Status)
	case ev.Execution != nil:
		var d time.Duration
		if ev.Execution.DurationMS != nil {
			d = time.Duration(*ev.Execution.DurationMS) * time.Millisecond
		}
		h.metrics.ObserveExecution(ev.Execution.TaskName, ev.Execution.Status, d)
	}
}

// Stop marks the server not ready, drains it, and stops the metrics feed.
func (h *HTTPServer) Stop(ctx context.Context) error {
	err := h.Server.Stop(ctx)
	h.mu.Lock()
	stop, done := h.stop, h.done
	h.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return err
}

// healthCheckers report the database, the worker pool and the queue for
// /health/detailed.
func (a *App) healthCheckers() []health.Checker {
	return []health.Checker{
		health.CheckerFunc("database", func(ctx context.Context) apitypes.HealthCheck {
			if err := a.store.Ping(ctx); err != nil {
				return apitypes.HealthCheck{Status: apitypes.HealthUnhealthy, Message: err.Error()}
			}
			return apitypes.HealthCheck{Status: apitypes.HealthOK, Message: string(a.store.Dialect()),
				Details: map[string]any{"dialect": string(a.store.Dialect())}}
		}),
		health.CheckerFunc("workers", func(context.Context) apitypes.HealthCheck {
			return workersHealth(a.pool.Workers())
		}),
		health.CheckerFunc("queue", func(ctx context.Context) apitypes.HealthCheck {
			depth, err := a.store.Jobs().QueueDepth(ctx)
			if err != nil {
				return apitypes.HealthCheck{Status: apitypes.HealthUnhealthy, Message: err.Error()}
			}
			byStatus := map[string]int{}
			for _, d := range depth {
				byStatus[string(d.Status)] += d.Count
			}
			return apitypes.HealthCheck{Status: apitypes.HealthOK,
				Message: fmt.Sprintf("%d queued, %d processing", byStatus[string(core.JobQueued)], byStatus[string(core.JobProcessing)]),
				Details: map[string]any{"by_status": byStatus}}
		}),
		health.CheckerFunc("scheduler", func(context.Context) apitypes.HealthCheck {
			if a.scheduler == nil {
				return apitypes.HealthCheck{Status: apitypes.HealthDegraded, Message: "no scheduler"}
			}
			return apitypes.HealthCheck{Status: apitypes.HealthOK, Message: "running"}
		}),
	}
}

// workersHealth is ok when every worker can serve, degraded when some
// cannot, and unhealthy when none can.
func workersHealth(ws []core.Worker) apitypes.HealthCheck {
	serving := 0
	byStatus := map[string]int{}
	for _, w := range ws {
		byStatus[string(w.Status)]++
		if w.Status == core.WorkerIdle || w.Status == core.WorkerBusy {
			serving++
		}
	}
	hc := apitypes.HealthCheck{Message: fmt.Sprintf("%d of %d workers serving", serving, len(ws)),
		Details: map[string]any{"by_status": byStatus}}
	switch {
	case len(ws) > 0 && serving == len(ws):
		hc.Status = apitypes.HealthOK
	case serving > 0:
		hc.Status = apitypes.HealthDegraded
	default:
		hc.Status = apitypes.HealthUnhealthy
	}
	return hc
}

// keyStore looks API keys up in the database for the auth middleware,
// and records their last use.
type keyStore struct{ store *sqlstore.Store }

var (
	_ middleware.KeyStore   = keyStore{}
	_ middleware.KeyToucher = keyStore{}
)

// TouchKey records that the stored key id was used at at.
func (k keyStore) TouchKey(ctx context.Context, id int64, at time.Time) error {
	if err := k.store.APIKeys().Touch(ctx, id, at); err != nil {
		return fmt.Errorf("recording the last use of API key %d: %w", id, err)
	}
	return nil
}

func (k keyStore) LookupKey(ctx context.Context, hash string) (middleware.Key, error) {
	key, err := k.store.APIKeys().GetByHash(ctx, hash)
	if err != nil {
		if errors.Is(err, core.ErrNotFound) {
			return middleware.Key{}, err
		}
		return middleware.Key{}, fmt.Errorf("looking up an API key: %w", err)
	}
	return middleware.Key{ID: key.ID, Name: key.Name, Role: key.Role, Revoked: !key.Active()}, nil
}
