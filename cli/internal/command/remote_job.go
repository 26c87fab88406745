package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

func newRemoteJobCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "job",
		Short: "Queue, follow, cancel and retry the jobs of a Ratchet server",
	}
	rf := addRemoteFlags(cmd)
	cmd.AddCommand(
		newJobListCmd(app, rf),
		newJobGetCmd(app, rf),
		newJobCreateCmd(app, rf),
		newJobActionCmd(app, rf, "cancel", "Cancel a queued, retrying or running job", "Cancelled"),
		newJobActionCmd(app, rf, "retry", "Queue a failed or cancelled job again", "Requeued"),
		newJobDeleteCmd(app, rf),
		newJobWaitCmd(app, rf),
		newJobStatsCmd(app, rf),
		newJobDeliveriesCmd(app, rf),
	)
	return cmd
}

// parseRef reads an id-or-uuid argument of the get commands: a positive
// number or a UUID, passed to the server as given (REST accepts either).
func parseRef(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
		return s, nil
	}
	if _, err := uuid.Parse(s); err == nil {
		return s, nil
	}
	return "", NewUsageError("invalid %s id %q: want a positive number or a UUID", what, s)
}

// parseID reads a numeric id argument; anything else is a usage error.
func parseID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, NewUsageError("invalid %s id %q: want a positive number", what, s)
	}
	return id, nil
}

func newJobListCmd(app *App, rf *remoteFlags) *cobra.Command {
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first unless --sort says otherwise",
		Example: `  ratchet job list --filter status=failed --filter status=retrying
  ratchet job list --filter task_name=addition --sort created_at --order asc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			if lf.sort == "" && lf.order == "" {
				lf.sort, lf.order = "id", "desc"
			}
			opts, err := lf.options(listquery.Jobs)
			if err != nil {
				return err
			}
			var (
				jobs  []apitypes.Job
				total int
			)
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				jobs, total, err = r.client.ListJobs(ctx, opts)
				return err
			}); err != nil {
				return err
			}
			defer r.footer("jobs", len(jobs), total, lf)
			return r.render(func(t *tableWriter) {
				if len(jobs) == 0 {
					return
				}
				t.row("ID", "TASK", "STATUS", "PRIORITY", "ATTEMPTS", "CREATED", "FINISHED", "ERROR")
				for _, j := range jobs {
					t.row(strconv.FormatInt(j.ID, 10), j.TaskName, string(j.Status), j.Priority.String(),
						attempts(j), ago(j.CreatedAt), agoPtr(j.CompletedAt), errorText(j.ErrorType, j.ErrorMessage))
				}
			})
		},
	}
	lf = addListFlags(cmd, listquery.Jobs)
	return cmd
}

// attempts is "done/allowed" of a job.
func attempts(j apitypes.Job) string {
	return strconv.Itoa(j.Attempts) + "/" + strconv.Itoa(j.MaxRetries+1)
}

func newJobGetCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID|UUID",
		Short: "Show a job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef("job", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			job, err := r.getJob(cmd, ref)
			if err != nil {
				return err
			}
			return r.render(func(t *tableWriter) { jobDetail(t, job) })
		},
	}
}

func (r *remote) getJob(cmd *cobra.Command, ref string) (*apitypes.Job, error) {
	var job *apitypes.Job
	err := r.call(cmd, func(ctx context.Context) (err error) {
		job, err = r.client.GetJobByRef(ctx, ref)
		return err
	})
	return job, err
}

func jobDetail(t *tableWriter, j *apitypes.Job) {
	t.field("ID", strconv.FormatInt(j.ID, 10))
	t.field("UUID", j.UUID)
	t.field("Task", fmt.Sprintf("%s (id %d)", j.TaskName, j.TaskID))
	t.field("Status", string(j.Status))
	t.field("Priority", j.Priority.String())
	t.field("Attempts", attempts(*j))
	t.field("Retry delay", (time.Duration(j.RetryDelaySeconds) * time.Second).String())
	if j.TimeoutSeconds > 0 {
		t.field("Timeout", (time.Duration(j.TimeoutSeconds) * time.Second).String())
	}
	t.field("Process at", stamp(j.ProcessAt))
	t.field("Schedule", idOrDash(j.ScheduleID))
	t.field("Idempotency key", j.IdempotencyKey)
	t.field("Execution", idOrDash(j.ExecutionID))
	t.field("Created", stamp(j.CreatedAt))
	t.field("Started", stampPtr(j.StartedAt))
	t.field("Completed", stampPtr(j.CompletedAt))
	t.field("Input", compactJSON(j.Input))
	t.field("Output", compactJSON(j.Output))
	t.field("Error", errorText(j.ErrorType, j.ErrorMessage))
	if len(j.OutputDestinations) > 0 {
		types := make([]string, len(j.OutputDestinations))
		for i, d := range j.OutputDestinations {
			types[i] = d.Type
		}
		t.field("Destinations", strings.Join(types, ", "))
	}
}

func newJobCreateCmd(app *App, rf *remoteFlags) *cobra.Command {
	var (
		task, inputJSON, inputFile, priority, processAt, idempotencyKey string
		delay                                                           time.Duration
		maxRetries, retryDelay, timeoutSeconds                          int
		wait                                                            bool
		wf                                                              waitFlags
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Queue a job for a task",
		Example: `  ratchet job create --task addition --input-json '{"num1":1,"num2":2}' --priority high
  ratchet job create --task report --input-file in.json --delay 10m --idempotency-key report-2025-01
  ratchet job create --task addition --input-json '{"num1":1,"num2":2}' --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := cmd.Flags()
			req := apitypes.CreateJobRequest{TaskID: apitypes.TaskRef(task), Priority: priority, IdempotencyKey: idempotencyKey}
			if strings.TrimSpace(task) == "" {
				return NewUsageError("--task must name a task (id, uuid or name)")
			}
			if err := checkPriority(priority); err != nil {
				return err
			}
			switch {
			case processAt != "":
				t, err := time.Parse(time.RFC3339, processAt)
				if err != nil {
					return NewUsageError("invalid --process-at %q: want an RFC 3339 time such as 2025-01-02T15:04:05Z", processAt)
				}
				req.ProcessAt = &t
			case flags.Changed("delay"):
				if delay < 0 {
					return NewUsageError("invalid --delay %s: must not be negative", delay)
				}
				t := time.Now().Add(delay).UTC()
				req.ProcessAt = &t
			}
			for _, f := range []struct {
				name string
				v    *int
				dst  **int
			}{
				{"max-retries", &maxRetries, &req.MaxRetries},
				{"retry-delay-seconds", &retryDelay, &req.RetryDelaySeconds},
				{"timeout-seconds", &timeoutSeconds, &req.TimeoutSeconds},
			} {
				if !flags.Changed(f.name) {
					continue
				}
				if *f.v < 0 {
					return NewUsageError("invalid --%s %d: must not be negative", f.name, *f.v)
				}
				*f.dst = f.v
			}
			input, err := optionalInput(app, inputJSON, inputFile)
			if err != nil {
				return err
			}
			req.Input = input
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var job *apitypes.Job
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				job, err = r.client.CreateJob(ctx, req)
				return err
			}); err != nil {
				return err
			}
			if wait {
				return r.waitAndShow(cmd, job.ID, wf)
			}
			when := ""
			if time.Until(job.ProcessAt) > time.Second {
				when = ", runs " + ago(job.ProcessAt)
			}
			return r.done("Queued job %d (task %s, priority %s%s).", job.ID, job.TaskName, job.Priority, when)
		},
	}
	f := cmd.Flags()
	f.StringVar(&task, "task", "", "the task's id, uuid or name (required)")
	f.StringVar(&inputJSON, "input-json", "", "input as a JSON document (default null)")
	f.StringVar(&inputFile, "input-file", "", "file holding the input JSON (- for stdin)")
	f.StringVar(&priority, "priority", "", "low, normal (default), high or urgent")
	f.StringVar(&processAt, "process-at", "", "do not run before this RFC 3339 time")
	f.DurationVar(&delay, "delay", 0, "do not run before this long from now, such as 10s or 1h")
	f.IntVar(&maxRetries, "max-retries", 0, "retries after a failure (server default 3)")
	f.IntVar(&retryDelay, "retry-delay-seconds", 0, "base of the exponential retry backoff (server default 60)")
	f.IntVar(&timeoutSeconds, "timeout-seconds", 0, "limit of each execution, in seconds")
	f.StringVar(&idempotencyKey, "idempotency-key", "", "a second job with the same key returns the first")
	f.BoolVar(&wait, "wait", false, "follow the job until it finishes (exit 1 if it fails)")
	wf.add(cmd)
	_ = cmd.MarkFlagRequired("task")
	cmd.MarkFlagsMutuallyExclusive("input-json", "input-file")
	cmd.MarkFlagsMutuallyExclusive("process-at", "delay")
	return cmd
}

// newJobActionCmd is a POST /jobs/{id}/<action> command answering the job.
func newJobActionCmd(app *App, rf *remoteFlags, action, short, past string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("job", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var job *apitypes.Job
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				if action == "cancel" {
					job, err = r.client.CancelJob(ctx, id)
				} else {
					job, err = r.client.RetryJob(ctx, id)
				}
				return err
			}); err != nil {
				return err
			}
			return r.done("%s job %d (now %s).", past, job.ID, job.Status)
		},
	}
}

func newJobDeleteCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a finished job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("job", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			if err := r.call(cmd, func(ctx context.Context) error { return r.client.DeleteJob(ctx, id) }); err != nil {
				return err
			}
			return r.done("Deleted job %d.", id)
		},
	}
}

func newJobStatsCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Count jobs by status and priority",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var s *apitypes.JobStats
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				s, err = r.client.JobStats(ctx)
				return err
			}); err != nil {
				return err
			}
			return r.render(func(t *tableWriter) {
				t.field("Total", strconv.FormatInt(s.Total, 10))
				t.field("Queue depth", strconv.FormatInt(s.QueueDepth, 10))
				t.field("Active", strconv.FormatInt(s.Active, 10))
				if s.OldestQueuedAt != nil {
					t.field("Oldest queued", stamp(*s.OldestQueuedAt))
				}
				for _, st := range core.JobStatuses {
					t.field("  "+string(st), strconv.FormatInt(s.ByStatus[string(st)], 10))
				}
				for _, p := range core.Priorities {
					t.field("  active "+p.String(), strconv.FormatInt(s.ByPriority[p.String()], 10))
				}
			})
		},
	}
}

func newJobDeliveriesCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "deliveries ID|UUID",
		Short: "List the output deliveries of a job (files written, webhooks called)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef("job", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			// The job must exist: an empty list would not tell a job
			// without deliveries from a job that is not there.
			job, err := r.getJob(cmd, ref)
			if err != nil {
				return err
			}
			id := job.ID
			opts := clientListAll(map[string][]string{"job_id": {strconv.FormatInt(id, 10)}})
			var ds []apitypes.Delivery
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				ds, _, err = r.client.ListDeliveries(ctx, opts)
				return err
			}); err != nil {
				return err
			}
			if !r.json && len(ds) == 0 {
				fmt.Fprintf(app.Stderr, "No deliveries for job %d.\n", id)
				return nil
			}
			return r.render(func(t *tableWriter) {
				t.row("ID", "TYPE", "DESTINATION", "SUCCESS", "ATTEMPTS", "STATUS", "DURATION", "CREATED", "ERROR")
				for _, d := range ds {
					ms := d.DurationMS
					t.row(strconv.FormatInt(d.ID, 10), d.DestinationType, d.Destination, yesNo(d.Success),
						strconv.Itoa(d.Attempts), intOrDash(d.StatusCode), millis(&ms), ago(d.CreatedAt), d.ErrorMessage)
				}
			})
		},
	}
}

// waitFlags pace a wait for a job.
type waitFlags struct {
	interval, maxWait time.Duration
}

func (wf *waitFlags) add(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&wf.interval, "interval", time.Second, "how often to poll the job while waiting")
	cmd.Flags().DurationVar(&wf.maxWait, "wait-timeout", 0, "give up waiting after this long (0: wait until the job finishes)")
}

func newJobWaitCmd(app *App, rf *remoteFlags) *cobra.Command {
	var wf waitFlags
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Wait for a job to finish, showing its progress on stderr",
		Long: `Poll a job until it completes, fails or is cancelled, showing its status on
stderr, then print the job. The exit code is 0 when it completed and 1 when it
failed or was cancelled (or --wait-timeout passed first; the job keeps running).`,
		Example: `  ratchet job wait 42
  ratchet job wait 42 -o json --wait-timeout 5m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("job", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			return r.waitAndShow(cmd, id, wf)
		},
	}
	wf.add(cmd)
	return cmd
}

// jobFailedError ends a wait for a job that failed or was cancelled.
type jobFailedError struct {
	job apitypes.Job
}

func (e *jobFailedError) Error() string {
	if e.job.Status == core.JobCancelled {
		return fmt.Sprintf("job %d was cancelled", e.job.ID)
	}
	return fmt.Sprintf("job %d failed after %d attempt(s): %s", e.job.ID, e.job.Attempts,
		errorText(e.job.ErrorType, e.job.ErrorMessage))
}

// waitAndShow waits for job id to finish, prints it, and fails unless it
// completed.
func (r *remote) waitAndShow(cmd *cobra.Command, id int64, wf waitFlags) error {
	if wf.interval <= 0 {
		return NewUsageError("invalid --interval %s: must be positive", wf.interval)
	}
	if wf.maxWait < 0 {
		return NewUsageError("invalid --wait-timeout %s: must not be negative", wf.maxWait)
	}
	job, err := r.waitJob(cmd, id, wf)
	if err != nil {
		return err
	}
	if err := r.render(func(t *tableWriter) { jobDetail(t, job) }); err != nil {
		return err
	}
	if job.Status != core.JobCompleted {
		return &jobFailedError{job: *job}
	}
	return nil
}

// waitJob polls job id until it is terminal, with a progress line on
// stderr: rewritten in place on a terminal, one line per change otherwise.
func (r *remote) waitJob(cmd *cobra.Command, id int64, wf waitFlags) (*apitypes.Job, error) {
	ctx := cmd.Context()
	if wf.maxWait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wf.maxWait)
		defer cancel()
	}
	p := newProgress(r.app.Stderr)
	defer p.end()
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && cmd.Context().Err() == nil {
				return nil, fmt.Errorf("job %d did not finish within --wait-timeout %s; it keeps running (ratchet job get %d)", id, wf.maxWait, id)
			}
			return nil, fmt.Errorf("stopped waiting for job %d; it keeps running: %w", id, context.Cause(ctx))
		case <-timer.C:
		}
		job, err := r.getJobCtx(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				continue // reported by the select above
			}
			return nil, err
		}
		p.update(jobProgress(job, time.Since(start)), string(job.Status)+"/"+strconv.Itoa(job.Attempts))
		if job.Status.Terminal() {
			return job, nil
		}
		timer.Reset(wf.interval)
	}
}

func (r *remote) getJobCtx(parent context.Context, id int64) (*apitypes.Job, error) {
	ctx, cancel := r.context(parent)
	defer cancel()
	job, err := r.client.GetJob(ctx, id)
	return job, r.fail(err)
}

func jobProgress(j *apitypes.Job, elapsed time.Duration) string {
	s := fmt.Sprintf("job %d (%s): %s, attempt %s, %s elapsed", j.ID, j.TaskName, j.Status, attempts(*j),
		elapsed.Round(time.Second))
	if j.Status == core.JobRetrying && j.ErrorType != "" {
		s += ", last error " + truncate(errorText(j.ErrorType, j.ErrorMessage), 80)
	}
	if j.Status == core.JobQueued && time.Until(j.ProcessAt) > time.Second {
		s += ", runs " + ago(j.ProcessAt)
	}
	return s
}

// progress shows a changing status line on stderr.
type progress struct {
	w    io.Writer
	tty  bool
	last string
	drew bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

// isTerminal reports whether w is a terminal, where progress lines are
// rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startSpinner shows "label… Ns" on w while a long call runs, when w is a
// terminal (after a second, so quick calls show nothing). The returned
// function stops it and clears the line.
func startSpinner(w io.Writer, label string) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		drew := false
		for {
			select {
			case <-done:
				if drew {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-tick.C:
				fmt.Fprintf(w, "\r\033[K%s… %s", label, time.Since(start).Round(time.Second))
				drew = true
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// update shows line; off a terminal only when key changed since the last
// line, so that logs get one line per state.
func (p *progress) update(line, key string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drew = true
		return
	}
	if key != p.last {
		fmt.Fprintln(p.w, line)
	}
	p.last = key
}

func (p *progress) end() {
	if p.tty && p.drew {
		fmt.Fprintln(p.w)
	}
}

// clientListAll selects the largest page with the given filters.
func clientListAll(filters map[string][]string) client.ListOptions {
	return client.ListOptions{End: core.MaxPageSize, Filters: filters, Sort: "id", Order: "asc"}
}
