// Package service is Ratchet's typed service API: the one place that holds
// the business rules of tasks, jobs, executions, schedules, workers and
// deliveries. The REST API, the GraphQL API and the CLI (through the REST
// client) all call it, so none of them repeats a rule: resolving a task by
// id, uuid or name, defaulting and validating a job (priority, retries,
// input size, destinations), refusing enqueues beyond
// server.job_queue.max_queue_size (RateLimitError, 429), cancelling a
// running job, running a task synchronously.
//
// The queue bound and schedules: a job a schedule's tick queues counts
// toward max_queue_size like any other active job (the composition root
// reports each tick through Service.JobsEnqueued), but a tick is never
// refused for a full queue: schedules are configured by operators, not sent
// by clients, a refused tick could not be answered with a 429, and skipping
// it would lose a run silently. Triggering a schedule by hand
// (Schedules.Trigger) is a client request and is refused with 429 as an
// enqueue is.
//
// Every error is a *core.Error (or wraps one), so each interface maps
// errors to its protocol once: core.HTTPStatusOf gives the REST status.
//
// A Service is built by the composition root (lib/app) from the store, the
// dispatcher, the worker pool, the event bus, the registry and the
// scheduler; the groups of operations are reached through Tasks(), Jobs(),
// Executions(), Schedules(), Workers() and Deliveries().
package service
