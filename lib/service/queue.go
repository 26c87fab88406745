package service

import (
	"context"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// queueGuard enforces server.job_queue.max_queue_size without counting the
// active jobs on every enqueue: the count is refreshed when it is older than
// every, or when an enqueue would pass the bound by the cached count.
type queueGuard struct {
	store *sqlstore.Store
	max   int
	every time.Duration

	mu    sync.Mutex
	count int
	at    time.Time
}

// admit reserves room for n jobs or answers a RateLimitError.
func (g *queueGuard) admit(ctx context.Context, n int) error {
	if g.max <= 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.at) > g.every || g.count+n > g.max {
		c, err := g.store.Jobs().CountActive(ctx)
		if err != nil {
			return err
		}
		g.count, g.at = c, time.Now()
	}
	if g.count+n > g.max {
		return core.Errorf(core.KindRateLimit, "the job queue is full: %d active jobs, the limit is %d (server.job_queue.max_queue_size); try again later", g.count, g.max).
			WithDetail("active_jobs", g.count).WithDetail("max_queue_size", g.max)
	}
	g.count += n
	return nil
}

// add counts n jobs enqueued around the guard (the scheduler's ticks), so
// that the cached count does not lag behind them until the next recount.
// Counting too many is harmless: a count past the bound is recounted.
func (g *queueGuard) add(n int) {
	if g.max <= 0 || n <= 0 {
		return
	}
	g.mu.Lock()
	g.count += n
	g.mu.Unlock()
}

// release gives back room reserved for jobs that were not enqueued.
func (g *queueGuard) release(n int) {
	if g.max <= 0 || n <= 0 {
		return
	}
	g.mu.Lock()
	g.count = max(g.count-n, 0)
	g.mu.Unlock()
}
