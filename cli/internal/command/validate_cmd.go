package command

import (
	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/runtime/validate"
)

func newValidateCmd(app *App) *cobra.Command {
	var fromFS string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a task (or every task in a folder) without running its tests",
		Long: `Check metadata.json, that each schema is a valid JSON Schema, that main.js
compiles and yields a function, and the shape of every test file. Every problem
found is listed; the exit code is 1 if any is an error (warnings alone pass).`,
		Example: `  ratchet validate --from-fs docs/examples/tasks/weather-api`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, err := localEngine(app)
			if err != nil {
				return err
			}
			report := validate.Path(cmd.Context(), eng, fromFS)
			if err := report.Write(app.Stdout); err != nil {
				return err
			}
			if !report.OK() {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&fromFS, "from-fs", "", "task folder, .zip, or folder of tasks (required)")
	_ = cmd.MarkFlagRequired("from-fs")
	return cmd
}
