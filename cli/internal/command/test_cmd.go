package command

import (
	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/lib/runtimecfg"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/testrunner"
)

func newTestCmd(app *App) *cobra.Command {
	var fromFS, output string
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Run the tests of a task, or of every task in a folder",
		Long: `Run each tests/*.json of a task (or of every task under a folder) with the
network off and mocks answering fetch. Text output prints one line per test and,
as the last line, "N passed, M failed"; the exit code is 1 if any test failed.`,
		Example: `  ratchet test --from-fs docs/examples/tasks
  ratchet test --from-fs docs/examples/tasks/addition --output junit > junit.xml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := testrunner.ParseFormat(output)
			if err != nil {
				return NewUsageError("invalid --output %q: allowed are text, json and junit", output)
			}
			eng, err := localEngine(app)
			if err != nil {
				return err
			}
			report := testrunner.RunPath(cmd.Context(), eng, fromFS)
			if err := report.Write(app.Stdout, format); err != nil {
				return err
			}
			if !report.OK() {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&fromFS, "from-fs", "", "task folder, .zip, or folder of tasks (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "report format: text, json or junit")
	_ = cmd.MarkFlagRequired("from-fs")
	return cmd
}

// localEngine builds an in-process engine from the configuration, for the
// commands that run tasks on this machine (test, validate, replay).
func localEngine(app *App) (*engine.Engine, error) {
	cfg, err := app.LoadConfig()
	if err != nil {
		return nil, err
	}
	return engine.New(runtimecfg.Engine(cfg), app.Logger())
}
