// Package host is the server side of Ratchet plugins: it discovers the
// plugin executables in plugins.dir (Discover), starts each as a
// subprocess with hashicorp/go-plugin over gRPC, reads its Describe, and
// supervises it: a plugin that crashes, fails to start or stops answering
// health checks is restarted with backoff and reported (Status), and after
// too many failures in a row left failed. A plugin never takes the host
// down.
//
// The composition root uses one Manager:
//
//	m, err := host.New(host.Config{Dir: cfg.Plugins.Dir, Logger: log})
//	err = m.Start(ctx)               // after Start, m.Tasks() is populated
//	defer m.Stop(stopCtx)
//	for _, t := range m.Tasks() { registry.Upsert(t.CoreTask()) } // Source "plugin:<name>"
//	out, cerr := m.Execute(ctx, plugin, task, input, ec) // for tasks whose Source is a plugin's
//	m.Publish(ctx, ev)               // fan lifecycle events out, never blocks
//
// Execute's errors are *core.Error: the task's own kind, NotFoundError,
// ServiceUnavailableError (the plugin is restarting or failed),
// WorkerCrashError (the process died during the call; errors.Is(err,
// sdk.ErrGone)), TimeoutError or CancelledError (ctx).
package host
