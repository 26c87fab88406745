package engine

import (
	"container/list"
	"sync"
)

// programCache keeps the most recently used compiled tasks, keyed by their
// content checksum. A task version never changes, so entries never go stale.
type programCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key  string
	task *compiled
}

func newProgramCache(max int) *programCache {
	return &programCache{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *programCache) get(key string) (*compiled, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*cacheEntry).task, true
	}
	return nil, false
}

func (c *programCache) add(key string, t *compiled) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		el.Value.(*cacheEntry).task = t
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, task: t})
	for c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

func (c *programCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
