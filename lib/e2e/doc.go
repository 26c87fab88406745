// Package e2e holds the end-to-end tests and benchmarks of the execution
// manager: the composition root (lib/app) with real worker processes (the
// test binary re-executed as a worker) and SQLite files.
package e2e
