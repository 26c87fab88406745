// Package scheduler fires persisted cron schedules (SPEC §3 Schedules): each
// tick of an enabled schedule enqueues exactly one job for its task, even
// with several schedulers (nodes) sharing one database.
//
// # The loop
//
// A Scheduler sleeps until the earliest next_run_at among the enabled
// schedules (ScheduleRepo.NextRun), bounded by Config.PollMax so that a
// schedule created on another node is picked up eventually. It never polls
// faster than that when idle: Wake (called by Create, Update, Enable and
// Delete of this Scheduler) cuts the sleep short when schedules change.
//
// When it wakes, it reads the due schedules in batches (ScheduleRepo.Due)
// and for each one computes the tick with cronspec.Advance: the stored
// next_run_at is the tick being fired, and the new next_run_at is the first
// run strictly after now. Runs missed while no scheduler was running are
// folded into that one tick: a schedule fires once on start however long
// the server was down (the job's metadata says how many runs were missed).
//
// # Exactly once per tick
//
// ScheduleRepo.Fire moves next_run_at from the tick to the next run with a
// compare-and-set and enqueues the job in the same transaction: when two
// schedulers try the same tick, one enqueues and the other sees the
// schedule moved on and does nothing. The same holds across a restart: a
// tick whose job was enqueued has left next_run_at.
//
// Fire also counts the execution and, when max_executions is reached,
// disables the schedule and clears next_run_at. For every job enqueued, a
// core.EventJobQueued event is published, so that the dispatcher wakes.
//
// # Special cases
//
//   - A schedule whose task is disabled (for example a registry task whose
//     folder was removed) does not enqueue: its tick is consumed (last_run_at
//     and execution_count move on) and a warning is logged.
//   - A stored schedule whose expression or zone no longer parses (written
//     around this package) is disabled, with an error logged, instead of
//     being retried on every wake-up.
//   - Trigger enqueues one job now without touching the cron position or
//     the execution count.
package scheduler
