// Package cache provides Cache, a generic, concurrency-safe LRU cache with
// optional bounds on entry count and total size in bytes, optional TTL
// expiry, hit/miss/eviction statistics, and GetOrLoad, which loads a missing
// value once however many goroutines ask for it at the same time.
//
// It is built on github.com/hashicorp/golang-lru/v2's simplelru, guarded by
// one mutex. Expired entries are dropped lazily when read, or all at once by
// PruneExpired.
//
// Ratchet uses it for the task content cache (compiled programs by task
// version) and the optional HTTP response cache of fetch.
package cache
