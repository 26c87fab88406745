package pool

import (
	"context"
	"errors"
	"time"

	"github.com/ratchet-go/ratchet/runtime/worker"
)

// RunIsolated runs one execution in a fresh worker process, then stops it:
// what `ratchet run-once --isolated` needs. cfg is used as for New, with one
// worker and no health checks; its Command defaults to this executable's
// `worker` command.
func RunIsolated(ctx context.Context, cfg Config, req worker.Request) (worker.Result, error) {
	cfg.WorkerCount = 1
	cfg.HealthCheckInterval = -1
	p, err := New(cfg)
	if err != nil {
		return worker.Result{}, err
	}
	if err := p.Start(ctx); err != nil {
		return worker.Result{}, err
	}
	res, execErr := p.Execute(ctx, req)
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return res, errors.Join(execErr, p.Stop(stopCtx))
}
