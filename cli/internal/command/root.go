package command

import (
	"github.com/spf13/cobra"
)

// NewRootCmd returns the ratchet command tree, wired to app.
func NewRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "ratchet",
		Short: "Run JavaScript tasks as validated, queued, retried and scheduled jobs",
		Long: `Ratchet runs small JavaScript tasks in isolated worker processes: it validates
their input and output against JSON Schemas, queues and retries jobs, fires cron
schedules, stores every execution and delivers results, behind a REST API, a
GraphQL API and this CLI.`,
		// Errors and usage are printed once, by Run.
		SilenceErrors: true,
		SilenceUsage:  true,
		// Subcommands must not define their own PersistentPreRun(E): cobra
		// would run theirs instead of this one.
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return app.initLogging()
		},
	}
	root.SetIn(app.Stdin)
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)

	flags := root.PersistentFlags()
	flags.StringVarP(&app.ConfigPath, "config", "c", "",
		"configuration file (YAML); RATCHET_* environment variables override it")
	flags.StringVar(&app.LogLevel, "log-level", "",
		"log level: debug, info, warn or error (overrides logging.level)")

	// One line per command.
	root.AddCommand(newVersionCmd(app))
	root.AddCommand(newConfigCmd(app))
	root.AddCommand(newServeCmd(app))
	root.AddCommand(newDBCmd(app))
	root.AddCommand(newPluginCmd(app))
	root.AddCommand(newRunOnceCmd(app))
	root.AddCommand(newTestCmd(app))
	root.AddCommand(newValidateCmd(app))
	root.AddCommand(newReplayCmd(app))
	root.AddCommand(newGenerateCmd(app))
	root.AddCommand(newRemoteWorkerCmd(app)) // remote worker list|get|stats; bare, the pool's worker process
	root.AddCommand(newAPIKeyCmd(app))
	root.AddCommand(newRemoteTaskCmd(app))
	root.AddCommand(newRemoteJobCmd(app))
	root.AddCommand(newRemoteExecutionCmd(app))
	root.AddCommand(newRemoteScheduleCmd(app))
	root.AddCommand(newLogsCmd(app))
	root.AddCommand(newBenchCmd(app))

	// cobra's "completion" command (bash, zsh, fish, powershell), added now
	// rather than at Execute so that enforceUsageErrors covers it.
	root.InitDefaultCompletionCmd()
	enforceUsageErrors(root)
	return root
}
