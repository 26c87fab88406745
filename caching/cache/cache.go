package cache

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Options configures a Cache. At least one of MaxEntries and MaxBytes must be
// set.
type Options[K comparable, V any] struct {
	// MaxEntries bounds the number of entries; 0 means no bound.
	MaxEntries int
	// TTL is how long an entry set with Set lives; 0 means forever.
	TTL time.Duration
	// MaxBytes bounds the sum of SizeOf over the entries; 0 means no bound.
	MaxBytes int64
	// SizeOf returns the size of a value in bytes. Required when MaxBytes is
	// set; when set without MaxBytes it only feeds Bytes and Stats.
	// Negative sizes count as 0.
	SizeOf func(V) int64
	// OnEvict, when set, is called for each entry the cache drops on its
	// own: evicted by a bound, or expired. It is not called for Delete,
	// Purge or an overwriting Set. It runs outside the cache's lock, so it
	// may use the cache.
	OnEvict func(K, V)
	// Now returns the current time. Default time.Now; tests inject a clock.
	Now func() time.Time
}

func (o Options[K, V]) validate() error {
	var errs []error
	if o.MaxEntries < 0 {
		errs = append(errs, fmt.Errorf("MaxEntries must not be negative, got %d", o.MaxEntries))
	}
	if o.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxBytes must not be negative, got %d", o.MaxBytes))
	}
	if o.TTL < 0 {
		errs = append(errs, fmt.Errorf("TTL must not be negative, got %s", o.TTL))
	}
	if o.MaxBytes > 0 && o.SizeOf == nil {
		errs = append(errs, errors.New("MaxBytes needs SizeOf to measure values"))
	}
	if o.MaxEntries == 0 && o.MaxBytes == 0 {
		errs = append(errs, errors.New("set MaxEntries or MaxBytes: an unbounded cache is a leak"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid cache options: %w", err)
	}
	return nil
}

// Stats is a snapshot of a cache's counters.
type Stats struct {
	// Hits and Misses count Get and GetOrLoad lookups.
	Hits, Misses uint64
	// Evictions counts entries dropped to respect MaxEntries or MaxBytes.
	Evictions uint64
	// Expirations counts entries dropped because their TTL passed.
	Expirations uint64
	// Entries is the number of entries, expired ones not yet dropped included.
	Entries int
	// Bytes is the sum of SizeOf over the entries (0 without SizeOf).
	Bytes int64
}

// HitRatio returns Hits/(Hits+Misses), or 0 before any lookup.
func (s Stats) HitRatio() float64 {
	if total := s.Hits + s.Misses; total > 0 {
		return float64(s.Hits) / float64(total)
	}
	return 0
}

type entry[V any] struct {
	value   V
	size    int64
	expires time.Time // zero: never
}

func (e *entry[V]) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// dropped is an entry removed by the cache, for OnEvict.
type dropped[K comparable, V any] struct {
	key   K
	value V
}

// call is a load in flight.
type call[V any] struct {
	done      chan struct{}
	value     V
	err       error
	forgotten bool // the key was set, deleted or purged meanwhile: do not store
}

// Cache is a concurrency-safe LRU cache. Create it with New.
type Cache[K comparable, V any] struct {
	opts Options[K, V]

	mu    sync.Mutex
	lru   *simplelru.LRU[K, *entry[V]]
	bytes int64
	stats Stats
	calls map[K]*call[V]
}

// New returns an empty cache, or an error when opts are invalid.
func New[K comparable, V any](opts Options[K, V]) (*Cache[K, V], error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	size := opts.MaxEntries
	if size == 0 {
		size = math.MaxInt
	}
	// The cache evicts before simplelru would, so simplelru needs no
	// callback: every removal goes through this file.
	lru, err := simplelru.NewLRU[K, *entry[V]](size, nil)
	if err != nil {
		return nil, fmt.Errorf("creating LRU: %w", err)
	}
	return &Cache[K, V]{opts: opts, lru: lru, calls: map[K]*call[V]{}}, nil
}

// Get returns the value for key and marks it most recently used. An expired
// entry is dropped and reported missing.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	e, ok, gone := c.lookupLocked(key)
	c.mu.Unlock()
	c.notify(gone)
	if !ok {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Peek returns the value for key without marking it used, counting a hit or
// miss, or dropping it when expired (it reports an expired entry missing).
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Peek(key)
	if !ok || e.expired(c.opts.Now()) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Set stores value under key with the cache's TTL, marking it most
// recently used and evicting the least recently used entries as the bounds
// require. A value larger than MaxBytes is not stored (and an older value for
// key is removed).
func (c *Cache[K, V]) Set(key K, value V) {
	c.SetWithTTL(key, value, c.opts.TTL)
}

// SetWithTTL is Set with its own TTL for this entry; ttl <= 0 means forever.
func (c *Cache[K, V]) SetWithTTL(key K, value V, ttl time.Duration) {
	c.mu.Lock()
	c.forgetCallLocked(key)
	gone := c.setLocked(key, value, ttl)
	c.mu.Unlock()
	c.notify(gone)
}

// Delete removes key and reports whether it was present.
func (c *Cache[K, V]) Delete(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetCallLocked(key)
	return c.removeLocked(key)
}

// Purge removes every entry. Counters are kept.
func (c *Cache[K, V]) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.calls {
		c.forgetCallLocked(key)
	}
	c.lru.Purge()
	c.bytes = 0
}

// Len returns the number of entries, expired ones not yet dropped included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Bytes returns the sum of SizeOf over the entries (0 without SizeOf).
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Stats returns a snapshot of the counters.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Entries = c.lru.Len()
	s.Bytes = c.bytes
	return s
}

// PruneExpired drops every expired entry and returns how many it dropped.
func (c *Cache[K, V]) PruneExpired() int {
	c.mu.Lock()
	now := c.opts.Now()
	var gone []dropped[K, V]
	for _, key := range c.lru.Keys() {
		if e, ok := c.lru.Peek(key); ok && e.expired(now) {
			c.dropLocked(key, e)
			c.stats.Expirations++
			gone = append(gone, dropped[K, V]{key, e.value})
		}
	}
	c.mu.Unlock()
	c.notify(gone)
	return len(gone)
}

// GetOrLoad returns the value for key, calling load to produce and store it
// when it is missing. Concurrent calls for the same key share one load: the
// others wait for it and get its result. An error from load is returned and
// not cached. If load panics, the panic is re-raised in the goroutine that
// called it and the waiting callers get an error.
//
// If key is set, deleted or purged while its load runs, the loaded value is
// still returned to the callers waiting for it but not stored.
func (c *Cache[K, V]) GetOrLoad(key K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	e, ok, gone := c.lookupLocked(key)
	if ok {
		c.mu.Unlock()
		c.notify(gone)
		return e.value, nil
	}
	if cl, ok := c.calls[key]; ok {
		c.mu.Unlock()
		c.notify(gone)
		<-cl.done
		return cl.value, cl.err
	}
	cl := &call[V]{done: make(chan struct{})}
	c.calls[key] = cl
	c.mu.Unlock()
	c.notify(gone)

	finished := false
	defer func() {
		if !finished {
			// load panicked: release the waiters before the panic goes on.
			cl.err = fmt.Errorf("cache: loading %v panicked", key)
			c.finishLoad(key, cl)
		}
	}()
	cl.value, cl.err = load()
	finished = true
	c.finishLoad(key, cl)
	return cl.value, cl.err
}

// finishLoad stores a successful load, unless forgotten, and wakes waiters.
func (c *Cache[K, V]) finishLoad(key K, cl *call[V]) {
	c.mu.Lock()
	var gone []dropped[K, V]
	if c.calls[key] == cl {
		delete(c.calls, key)
	}
	if cl.err == nil && !cl.forgotten {
		gone = c.setLocked(key, cl.value, c.opts.TTL)
	}
	c.mu.Unlock()
	close(cl.done)
	c.notify(gone)
}

// forgetCallLocked detaches an in-flight load of key so that its result is
// not stored and later callers start a new one.
func (c *Cache[K, V]) forgetCallLocked(key K) {
	if cl, ok := c.calls[key]; ok {
		cl.forgotten = true
		delete(c.calls, key)
	}
}

// lookupLocked finds key, counting a hit or miss and dropping it if expired.
func (c *Cache[K, V]) lookupLocked(key K) (*entry[V], bool, []dropped[K, V]) {
	e, ok := c.lru.Get(key)
	if !ok {
		c.stats.Misses++
		return nil, false, nil
	}
	if e.expired(c.opts.Now()) {
		c.dropLocked(key, e)
		c.stats.Expirations++
		c.stats.Misses++
		return nil, false, []dropped[K, V]{{key, e.value}}
	}
	c.stats.Hits++
	return e, true, nil
}

func (c *Cache[K, V]) setLocked(key K, value V, ttl time.Duration) []dropped[K, V] {
	e := &entry[V]{value: value}
	if c.opts.SizeOf != nil {
		e.size = max(c.opts.SizeOf(value), 0)
	}
	if ttl > 0 {
		e.expires = c.opts.Now().Add(ttl)
	}
	if c.opts.MaxBytes > 0 && e.size > c.opts.MaxBytes {
		c.removeLocked(key)
		return nil
	}

	if old, ok := c.lru.Peek(key); ok {
		c.bytes -= old.size
	}
	var gone []dropped[K, V]
	if !c.lru.Contains(key) && c.opts.MaxEntries > 0 && c.lru.Len() >= c.opts.MaxEntries {
		gone = append(gone, c.evictOldestLocked())
	}
	c.lru.Add(key, e)
	c.bytes += e.size
	for c.opts.MaxBytes > 0 && c.bytes > c.opts.MaxBytes {
		// The new entry fits on its own and is the newest, so the loop
		// stops before reaching it.
		gone = append(gone, c.evictOldestLocked())
	}
	return gone
}

func (c *Cache[K, V]) evictOldestLocked() dropped[K, V] {
	key, e, _ := c.lru.GetOldest()
	c.dropLocked(key, e)
	c.stats.Evictions++
	return dropped[K, V]{key, e.value}
}

func (c *Cache[K, V]) removeLocked(key K) bool {
	e, ok := c.lru.Peek(key)
	if ok {
		c.dropLocked(key, e)
	}
	return ok
}

func (c *Cache[K, V]) dropLocked(key K, e *entry[V]) {
	c.lru.Remove(key)
	c.bytes -= e.size
}

func (c *Cache[K, V]) notify(gone []dropped[K, V]) {
	if c.opts.OnEvict == nil {
		return
	}
	for _, d := range gone {
		c.opts.OnEvict(d.key, d.value)
	}
}
