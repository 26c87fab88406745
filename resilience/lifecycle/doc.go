// Package lifecycle holds the start/stop helpers that Ratchet's long-running
// components (dispatcher, scheduler, worker pool, registry watcher, server)
// share.
//
// A Runner runs one background loop: Start launches it, Stop cancels its
// context and waits for it to return, and Drain asks it to finish its
// current work first (closing the stopping channel it was given) and cancels
// it only when the drain deadline passes. Stop is idempotent and safe before
// Start.
//
// A Group starts Components in the order they were added and stops them in
// reverse; when one fails to start, the ones already started are stopped.
package lifecycle
