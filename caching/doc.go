// Package caching is the root of Ratchet's caching module. It holds no code;
// the generic bounded cache lives in the cache sub-package, and the task
// content and HTTP response caches are instances of it.
package caching
