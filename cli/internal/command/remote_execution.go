package command

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
)

func newRemoteExecutionCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "execution",
		Short: "Inspect the executions of a Ratchet server: input, output, errors and logs",
	}
	rf := addRemoteFlags(cmd)
	cmd.AddCommand(newExecutionListCmd(app, rf), newExecutionGetCmd(app, rf), newExecutionLogsCmd(app, rf))
	return cmd
}

func newExecutionListCmd(app *App, rf *remoteFlags) *cobra.Command {
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List executions, newest first unless --sort says otherwise",
		Example: `  ratchet execution list --filter status=failed
  ratchet execution list --filter task_name=addition --filter duration_ms_gte=1000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			if lf.sort == "" && lf.order == "" {
				lf.sort, lf.order = "id", "desc"
			}
			opts, err := lf.options(listquery.Executions)
			if err != nil {
				return err
			}
			var (
				execs []apitypes.Execution
				total int
			)
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				execs, total, err = r.client.ListExecutions(ctx, opts)
				return err
			}); err != nil {
				return err
			}
			defer r.footer("executions", len(execs), total, lf)
			return r.render(func(t *tableWriter) {
				if len(execs) == 0 {
					return
				}
				t.row("ID", "TASK", "JOB", "STATUS", "ATTEMPT", "DURATION", "WORKER", "STARTED", "ERROR")
				for _, e := range execs {
					t.row(strconv.FormatInt(e.ID, 10), e.TaskName, idOrDash(e.JobID), string(e.Status),
						strconv.Itoa(e.Attempt), millis(e.DurationMS), e.WorkerID, agoPtr(e.StartedAt),
						errorText(e.ErrorType, e.ErrorMessage))
				}
			})
		},
	}
	lf = addListFlags(cmd, listquery.Executions)
	return cmd
}

func newExecutionGetCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID|UUID",
		Short: "Show an execution",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef("execution", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var e *apitypes.Execution
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				e, err = r.client.GetExecutionByRef(ctx, ref)
				return err
			}); err != nil {
				return err
			}
			return r.render(func(t *tableWriter) {
				t.field("ID", strconv.FormatInt(e.ID, 10))
				t.field("UUID", e.UUID)
				t.field("Task", fmt.Sprintf("%s %s (id %d)", e.TaskName, e.TaskVersion, e.TaskID))
				t.field("Job", idOrDash(e.JobID))
				t.field("Status", string(e.Status))
				t.field("Attempt", strconv.Itoa(e.Attempt))
				t.field("Worker", e.WorkerID)
				t.field("Queued", stamp(e.QueuedAt))
				t.field("Started", stampPtr(e.StartedAt))
				t.field("Completed", stampPtr(e.CompletedAt))
				t.field("Duration", millis(e.DurationMS))
				t.field("Input", compactJSON(e.Input))
				t.field("Output", compactJSON(e.Output))
				t.field("Error", errorText(e.ErrorType, e.ErrorMessage))
				if d := compactJSON(e.ErrorDetails); d != "-" {
					t.field("Error details", d)
				}
				t.field("Logs", fmt.Sprintf("%d lines, %d HTTP requests (ratchet execution logs %d)", len(e.Logs), len(e.HTTPRequests), e.ID))
			})
		},
	}
}

func newExecutionLogsCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "logs ID",
		Short: "Print an execution's console lines and the HTTP requests it made",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("execution", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var l *apitypes.ExecutionLogs
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				l, err = r.client.ExecutionLogs(ctx, id)
				return err
			}); err != nil {
				return err
			}
			if r.json {
				return r.printJSON()
			}
			w := app.Stdout
			if len(l.Logs) == 0 {
				fmt.Fprintln(app.Stderr, "No console output.")
			}
			// Log lines are the task's own output: printed whole.
			for _, e := range l.Logs {
				fmt.Fprintf(w, "%s %-5s %s\n", e.Time.UTC().Format(time.RFC3339Nano), e.Level, e.Message)
			}
			if len(l.HTTPRequests) == 0 {
				return nil
			}
			fmt.Fprintln(w)
			t := newTable(w)
			t.row("STARTED", "METHOD", "URL", "STATUS", "DURATION", "ERROR")
			for _, h := range l.HTTPRequests {
				status := "-"
				if h.Status > 0 {
					status = strconv.Itoa(h.Status)
				}
				if h.Mocked {
					status += " (mock)"
				}
				t.row(h.StartedAt.UTC().Format(time.RFC3339), h.Method, h.URL, status,
					time.Duration(h.DurationMS*float64(time.Millisecond)).Round(time.Millisecond).String(), h.Error)
			}
			return t.flush()
		},
	}
}
