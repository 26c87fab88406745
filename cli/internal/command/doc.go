// Package command holds the ratchet command tree (spf13/cobra).
//
// Each command lives in its own file as a constructor
// newXCmd(app *App) *cobra.Command, and is attached to its parent with one
// AddCommand line (see root.go and config.go). Commands reach shared state
// — the global flags, the configuration, the logger, stdout and stderr —
// through the *App, never through globals, so tests run the whole tree
// in-process with Run.
//
// Errors are turned into exit codes in one place, ExitCode: nil is 0, a
// *UsageError (unknown command or flag, bad arguments or flag values) is 2,
// anything else is 1.
package command
