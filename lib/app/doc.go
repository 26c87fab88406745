// Package app is Ratchet's composition root: New reads the configuration
// once and builds every service from it — the store (migrated on start),
// the event bus, the worker pool, the task content cache, the registry, the
// dispatcher, the scheduler and the output deliverer — and the typed
// service API over them (Service). Start starts them in that order; Stop
// stops them in reverse (a resilience/lifecycle Group): the scheduler stops
// queueing, the dispatcher drains, the pool shuts its workers down, and the
// store closes last.
//
// The cli's serve command is its main user:
//
//	a, err := app.New(cfg, app.Options{Logger: logger})
//	if err != nil { ... }
//	if err := a.Start(ctx); err != nil { ... }
//	defer a.Stop(shutdownCtx)
//	svc := a.Service()
package app
