package command

import (
	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/runtime/worker"
)

// newWorkerCmd is the worker process the pool re-executes this binary as.
// It speaks go-plugin's handshake on stdout, so it is hidden: people never
// run it by hand.
func newWorkerCmd(*App) *cobra.Command {
	return &cobra.Command{
		Use:    "worker",
		Short:  "Serve task executions to a parent ratchet process (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return worker.Serve(worker.ServeConfig{})
		},
	}
}
