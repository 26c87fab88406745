// Package dispatcher is the execution manager's engine room (SPEC §3): it
// claims queued jobs from the database with a lease, runs each on the
// worker pool, records an execution per attempt, and completes, retries or
// fails the job.
//
// # Claiming
//
// One loop claims jobs in batches (at most Config.BatchSize) while workers
// are free, plus a small prefetch when jobs are short, and hands them to one
// runner goroutine per worker. It sleeps when there is nothing to do and
// wakes at once on Wake (called by the service after an enqueue, and for
// every job.queued event on the bus), when a worker frees up, at the next
// known process_at (a delayed job or a retry), and on a slow safety poll
// (Config.PollInterval) that picks up work enqueued by other nodes. There is
// no busy polling.
//
// The claim and the creation of the attempts' execution records (status
// running) happen in one transaction; the finish of executions and the
// completion of jobs are group-committed by one completer goroutine, so a
// burst of short jobs costs a few transactions, not several per job.
//
// # Outcomes
//
// A success completes the job (lease-fenced: a job whose lease was lost is
// not completed twice). A failure whose kind can succeed later
// (core.IsRetryable) and whose job has attempts left (attempts <=
// max_retries) is retried after retry_delay_seconds·2^(attempt-1) with
// jitter, capped at Config.MaxRetryDelay; others fail the job. A job
// cancelled while running is interrupted (Pool.Cancel) and its execution
// ends cancelled. Completed jobs' outputs go to the Deliverer in the
// background; Stop waits for those deliveries.
//
// # Leases and restarts
//
// Running jobs' leases are extended every LeaseDuration/3; an extension that
// is refused means the job was cancelled or taken over elsewhere, and the
// local attempt is interrupted. Start requeues the jobs this node name still
// held (a previous process died) and reclaims expired leases of any node;
// the executions those attempts left running are closed as
// WorkerCrashError. Stop drains: it stops claiming, requeues the jobs
// claimed but not started, waits for running ones until its context ends,
// then interrupts those and requeues their jobs.
//
// # Synchronous execution
//
// Execute runs a task at once on the pool (no job row: the pool's own bound
// and FIFO hand-off are the queue), with an execution record created
// running and finished with the result: what POST /tasks/{id}/execute uses.
package dispatcher
