package command

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/recording"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

func newReplayCmd(app *App) *cobra.Command {
	var fromFS, dir string
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Re-run a recorded execution with the recorded HTTP responses as mocks",
		Long: `Re-run a task on the input of a recording made with run-once --record, answering
fetch from the recorded responses with the network off, and say whether the
result matches the recorded one. Exit 1 when it does not.`,
		Example: `  ratchet run-once --from-fs my-task --input-json '{}' --record ./rec
  ratchet replay --from-fs my-task --recording ./rec`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, err := localEngine(app)
			if err != nil {
				return err
			}
			task, err := taskfmt.Load(fromFS)
			if err != nil {
				return app.reportFailure(loadFailure(err))
			}
			rr, err := recording.Replay(cmd.Context(), eng, engine.SpecOf(task), dir)
			if err != nil {
				return fmt.Errorf("replaying %s: %w", dir, err)
			}
			if rr.Match {
				fmt.Fprintln(app.Stdout, "replay matches the recording")
				return nil
			}
			fmt.Fprintln(app.Stdout, "replay does not match the recording")
			if rr.Message != "" {
				fmt.Fprintf(app.Stdout, "  %s\n", rr.Message)
			}
			if len(rr.Diff) > 0 {
				fmt.Fprintf(app.Stdout, "  %s\n", strings.Join(rr.Diff, "\n  "))
			}
			return errReported
		},
	}
	cmd.Flags().StringVar(&fromFS, "from-fs", "", "task folder or .zip (required)")
	cmd.Flags().StringVar(&dir, "recording", "", "folder written by run-once --record (required)")
	_ = cmd.MarkFlagRequired("from-fs")
	_ = cmd.MarkFlagRequired("recording")
	return cmd
}
