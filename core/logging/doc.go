// Package logging sets up log/slog for Ratchet and carries log attributes in
// a context.Context.
//
// Request, job, execution, task and worker identifiers are attached to a
// context once, where they become known (WithRequestID in the HTTP
// middleware, WithJobID in the dispatcher, ...). Every record logged through
// a handler built by NewHandler or NewContextHandler with that context then
// carries them, so a line written deep inside the engine still names the job
// it belongs to:
//
//	ctx = logging.WithJobID(ctx, job.ID)
//	logger.InfoContext(ctx, "job claimed") // ... job_id=42
//
// The package depends on the standard library only.
package logging
