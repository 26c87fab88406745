// Package worker is Ratchet's process isolation protocol: every execution
// runs in a worker process, never in the server (SPEC §3).
//
// The host (runtime/pool) re-executes its own binary as `ratchet worker`,
// whose whole job is Serve: it serves the worker protocol (workerpb,
// Execute / Cancel / Health) over hashicorp/go-plugin gRPC. This package
// holds both sides of that protocol and the go-plugin glue:
//
//   - Handshake, PluginSet and Plugin: what host and worker agree on;
//   - Client: the host's side of one worker, which sends a task's content
//     (code, schemas) the first time that worker runs the task and then
//     only its version hash;
//   - Serve and ServeConfig: the worker process, one execution at a time,
//     a bounded cache of task contents by hash, a memory limit (the Go
//     limit, a heap watchdog that fails the execution with
//     MemoryLimitError, and an OS limit as a backstop), its own logs as
//     go-plugin JSON lines on stderr;
//   - BaseEnv and Settings: a worker inherits no secrets from the host,
//     only PATH, HOME, TMPDIR, TZ, locale and the Go runtime's knobs, plus
//     the settings the host passes.
package worker
