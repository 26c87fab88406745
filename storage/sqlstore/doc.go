// Package sqlstore is Ratchet's persistence: one Store over SQLite (the
// default, github.com/mattn/go-sqlite3) or PostgreSQL (pgx), with
// repositories that speak core types — tasks and their versions, jobs (the
// queue), executions, schedules, delivery results, nodes and workers, API
// keys — and the embedded migrations.
//
// Open a store with a database URL, migrate it, and use its repositories:
//
//	st, err := sqlstore.Open(ctx, "sqlite://ratchet.db", sqlstore.Options{})
//	...
//	if _, err := st.Migrate(ctx); err != nil { ... }
//	job, existed, err := st.Jobs().Enqueue(ctx, core.Job{TaskID: 1})
//	claimed, err := st.Jobs().Claim(ctx, "node-a", 10, 30*time.Second)
//
// Errors are *core.Error values: NotFoundError for a missing row,
// ConflictError for a duplicate or a state change core's state machines
// forbid (or a lost race), InvalidArgumentError for bad input, including
// unknown list fields. bun types never leave this package.
//
// SQLite runs in WAL mode with synchronous=NORMAL, foreign keys on and a
// busy timeout; a file database writes through one connection (SQLite
// allows one writer; queueing in Go beats SQLite's busy-wait) and reads
// through a pool. Times are stored in UTC with microsecond precision.
package sqlstore
