package command

import (
	"context"
	"os"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// newRemoteWorkerCmd is "ratchet worker": the remote list|get|stats
// commands, and, run bare by the pool (the go-plugin magic cookie in its
// environment), the worker process itself (newWorkerCmd). Both need the
// name "worker": the pool re-executes this binary as "ratchet worker".
func newRemoteWorkerCmd(app *App) *cobra.Command {
	serve := newWorkerCmd(app)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Inspect the worker processes of a Ratchet server",
		Long: `List the worker processes of every node of a running server and their
statistics. (Run bare by the server's pool, this command is the worker process
itself.)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if os.Getenv(worker.Handshake.MagicCookieKey) != "" {
				return serve.RunE(cmd, args)
			}
			return cmd.Help()
		},
	}
	rf := addRemoteFlags(cmd)
	cmd.AddCommand(newWorkerListCmd(app, rf), newWorkerGetCmd(app, rf), newWorkerStatsCmd(app, rf))
	return cmd
}

func newWorkerListCmd(app *App, rf *remoteFlags) *cobra.Command {
	var lf *listFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the workers of every node",
		Example: `  ratchet worker list --filter status=busy`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			opts, err := lf.options(listquery.Workers)
			if err != nil {
				return err
			}
			var (
				ws    []apitypes.Worker
				total int
			)
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				ws, total, err = r.client.ListWorkers(ctx, opts)
				return err
			}); err != nil {
				return err
			}
			defer r.footer("workers", len(ws), total, lf)
			return r.render(func(t *tableWriter) {
				if len(ws) == 0 {
					return
				}
				t.row("ID", "NODE", "PID", "STATUS", "EXECUTION", "EXECUTIONS", "FAILURES", "RESTARTS", "MEMORY", "STARTED", "HEARTBEAT")
				for _, w := range ws {
					t.row(w.ID, w.Node, strconv.Itoa(w.PID), string(w.Status), idOrDash(w.CurrentExecutionID),
						strconv.FormatInt(w.ExecutionsTotal, 10), strconv.FormatInt(w.FailuresTotal, 10),
						strconv.Itoa(w.Restarts), bytesSize(w.MemoryBytes), ago(w.StartedAt), agoPtr(w.LastHeartbeatAt))
				}
			})
		},
	}
	lf = addListFlags(cmd, listquery.Workers)
	return cmd
}

func newWorkerGetCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a worker",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var w *apitypes.Worker
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				w, err = r.client.GetWorker(ctx, args[0])
				return err
			}); err != nil {
				return err
			}
			return r.render(func(t *tableWriter) {
				t.field("ID", w.ID)
				t.field("Node", w.Node)
				t.field("PID", strconv.Itoa(w.PID))
				t.field("Status", string(w.Status))
				t.field("Execution", idOrDash(w.CurrentExecutionID))
				t.field("Executions", strconv.FormatInt(w.ExecutionsTotal, 10))
				t.field("Failures", strconv.FormatInt(w.FailuresTotal, 10))
				t.field("Restarts", strconv.Itoa(w.Restarts))
				t.field("Memory", bytesSize(w.MemoryBytes))
				t.field("Started", stamp(w.StartedAt))
				t.field("Heartbeat", stampPtr(w.LastHeartbeatAt))
			})
		},
	}
}

func newWorkerStatsCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Sum the workers of every node",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var s *apitypes.WorkerStats
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				s, err = r.client.WorkerStats(ctx)
				return err
			}); err != nil {
				return err
			}
			return r.render(func(t *tableWriter) {
				t.field("Workers", strconv.Itoa(s.Total))
				t.field("Nodes", strconv.Itoa(s.Nodes))
				t.field("Busy", strconv.Itoa(s.Busy))
				t.field("Idle", strconv.Itoa(s.Idle))
				t.field("Executions", strconv.FormatInt(s.ExecutionsTotal, 10))
				t.field("Failures", strconv.FormatInt(s.FailuresTotal, 10))
				t.field("Restarts", strconv.FormatInt(s.RestartsTotal, 10))
				t.field("Memory", bytesSize(s.MemoryBytesTotal))
				for _, st := range core.WorkerStatuses {
					t.field("  "+string(st), strconv.Itoa(s.ByStatus[string(st)]))
				}
				nodes := make([]string, 0, len(s.ByNode))
				for n := range s.ByNode {
					nodes = append(nodes, n)
				}
				slices.Sort(nodes)
				for _, n := range nodes {
					t.field("  node "+n, strconv.Itoa(s.ByNode[n]))
				}
			})
		},
	}
}
