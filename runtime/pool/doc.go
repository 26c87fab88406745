// Package pool runs executions in supervised worker processes (SPEC §3):
// the host side of runtime/worker.
//
// A Pool keeps Config.WorkerCount worker processes, each running one
// execution at a time. Execute hands an execution to an idle worker, or
// waits for one (bounded by AcquireTimeout and the context). A task's code
// crosses the wire once per worker; afterwards only its version hash does.
//
// Supervision:
//   - a worker whose process exits, or whose connection breaks, fails its
//     execution with WorkerCrashError and is replaced: at once the first
//     time, with exponential backoff from RestartDelay after, and at most
//     MaxRestartAttempts times per RestartWindow (RestartOnCrash off: it
//     stays down);
//   - every HealthCheckInterval each worker is asked for its stats, and one
//     that does not answer is killed and replaced;
//   - when an execution times out or is cancelled, the worker is asked to
//     interrupt it and answers with the result so far; one that has not
//     answered within KillGrace is killed (SIGKILL) and replaced, and the
//     execution still ends as TimeoutError or CancelledError;
//   - Stop drains (running executions finish, then the workers shut down),
//     Kill does not; both return once no worker process is left. A worker
//     also dies with the host (parent-death signal, and it watches its
//     parent).
//
// Workers start with a reduced environment (worker.BaseEnv): the host's
// secrets never reach tasks. The pool satisfies lifecycle.Component.
package pool
