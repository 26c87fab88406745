package dispatcher

import (
	"context"
	"fmt"

	"github.com/ratchet-go/ratchet/caching/cache"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Contents loads the code and schemas of a task's current version, cached
// by content checksum (cache.task_content_cache_size): a version never
// changes, so a cached entry never goes stale.
type Contents struct {
	store *sqlstore.Store
	cache *cache.Cache[string, worker.Task]
}

// NewContents returns a loader over store keeping up to size versions;
// size 0 or less disables the cache.
func NewContents(store *sqlstore.Store, size int) (*Contents, error) {
	if store == nil {
		return nil, fmt.Errorf("dispatcher.NewContents: nil store")
	}
	c := &Contents{store: store}
	if size > 0 {
		lru, err := cache.New(cache.Options[string, worker.Task]{MaxEntries: size})
		if err != nil {
			return nil, fmt.Errorf("task content cache: %w", err)
		}
		c.cache = lru
	}
	return c, nil
}

// Load returns what a worker needs to run t's current version.
func (c *Contents) Load(ctx context.Context, t core.Task) (worker.Task, error) {
	if c.cache != nil && t.Checksum != "" {
		if wt, ok := c.cache.Get(t.Checksum); ok {
			return withTask(wt, t), nil
		}
	}
	v, err := c.store.Tasks().CurrentVersion(ctx, t.ID)
	if err != nil {
		if core.KindOf(err) == core.KindNotFound {
			return worker.Task{}, core.Errorf(core.KindConfiguration, "task %q has no code: it never loaded successfully", t.Name).
				WithDetail("task_id", t.ID)
		}
		return worker.Task{}, err
	}
	wt := worker.Task{
		Hash:         v.Checksum,
		Code:         v.Code,
		InputSchema:  v.InputSchema,
		OutputSchema: v.OutputSchema,
	}
	if wt.Hash == "" {
		wt.Hash = sqlstore.Checksum(v)
	}
	// The hash must identify everything the worker caches, the timeout
	// included.
	wt.Hash = fmt.Sprintf("%s:%d", wt.Hash, t.Timeout)
	if c.cache != nil && v.Checksum != "" {
		c.cache.Set(v.Checksum, wt)
	}
	return withTask(wt, t), nil
}

func withTask(wt worker.Task, t core.Task) worker.Task {
	wt.ID, wt.Name, wt.Version, wt.Timeout = t.ID, t.Name, t.Version, t.Timeout
	return wt
}
