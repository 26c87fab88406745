package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

func newRemoteTaskCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Manage and run the tasks of a Ratchet server",
		Long: `List, create, update, delete, execute, test and validate the tasks of a running
server (--server, default $RATCHET_SERVER or http://127.0.0.1:8080). A task is
named by its numeric id, its uuid or its name.`,
	}
	rf := addRemoteFlags(cmd)
	cmd.AddCommand(
		newTaskListCmd(app, rf),
		newTaskGetCmd(app, rf),
		newTaskCreateCmd(app, rf),
		newTaskUpdateCmd(app, rf),
		newTaskDeleteCmd(app, rf),
		newTaskExecuteCmd(app, rf),
		newTaskTestCmd(app, rf),
		newTaskValidateCmd(app, rf),
	)
	return cmd
}

func newTaskListCmd(app *App, rf *remoteFlags) *cobra.Command {
	var lf *listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tasks",
		Example: `  ratchet task list
  ratchet task list --filter enabled=true --sort name -q weather
  ratchet task list -o json --limit 100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			opts, err := lf.options(listquery.Tasks)
			if err != nil {
				return err
			}
			var (
				tasks []apitypes.Task
				total int
			)
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				tasks, total, err = r.client.ListTasks(ctx, opts)
				return err
			}); err != nil {
				return err
			}
			defer r.footer("tasks", len(tasks), total, lf)
			return r.render(func(t *tableWriter) {
				if len(tasks) == 0 {
					return
				}
				t.row("ID", "NAME", "VERSION", "STATUS", "SOURCE", "UPDATED", "DESCRIPTION")
				for _, task := range tasks {
					t.row(strconv.FormatInt(task.ID, 10), task.Name, task.Version, taskStatus(task),
						task.Source, ago(task.UpdatedAt), task.Description)
				}
			})
		},
	}
	lf = addListFlags(cmd, listquery.Tasks)
	return cmd
}

func taskStatus(t apitypes.Task) string {
	switch {
	case t.LoadError != "":
		return "load error"
	case t.Enabled:
		return "enabled"
	}
	return "disabled"
}

func newTaskGetCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "get REF",
		Short:   "Show a task (by id, uuid or name)",
		Example: `  ratchet task get addition`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var task *apitypes.Task
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				task, err = r.client.GetTask(ctx, args[0])
				return err
			}); err != nil {
				return err
			}
			return r.render(func(t *tableWriter) { taskDetail(t, task) })
		},
	}
}

func taskDetail(t *tableWriter, task *apitypes.Task) {
	t.field("ID", strconv.FormatInt(task.ID, 10))
	t.field("UUID", task.UUID)
	t.field("Name", task.Name)
	t.field("Label", task.Label)
	t.field("Version", task.Version)
	t.field("Description", task.Description)
	t.field("Enabled", yesNo(task.Enabled))
	t.field("Tags", strings.Join(task.Tags, ", "))
	t.field("Author", task.Author)
	if task.TimeoutSeconds > 0 {
		t.field("Timeout", (time.Duration(task.TimeoutSeconds) * time.Second).String())
	}
	t.field("Source", task.Source)
	if task.LoadError != "" {
		t.field("Load error", task.LoadError)
	}
	t.field("Checksum", task.Checksum)
	t.field("Created", stamp(task.CreatedAt))
	t.field("Updated", stamp(task.UpdatedAt))
	t.field("Input schema", compactJSON(task.InputSchema))
	t.field("Output schema", compactJSON(task.OutputSchema))
}

func newTaskCreateCmd(app *App, rf *remoteFlags) *cobra.Command {
	var fromFS, name string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a task from a task folder or a .zip of one",
		Long: `Upload a task folder (metadata.json, main.js, input.schema.json,
output.schema.json, tests/*.json) or a .zip of one. The task's name is --name,
else metadata.json's name, else the folder's (or zip's) name.`,
		Example: `  ratchet task create --from-fs docs/examples/tasks/addition
  ratchet task create --from-fs weather.zip --name weather`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			folder, err := readTaskFolder(fromFS)
			if err != nil {
				return err
			}
			if name == "" && !folder.named {
				name = folder.defaultName
			}
			var task *apitypes.Task
			if taskfmt.IsZip(fromFS) {
				f, err := os.Open(fromFS)
				if err != nil {
					return fmt.Errorf("reading %s: %w", fromFS, err)
				}
				defer f.Close()
				err = r.call(cmd, func(ctx context.Context) (err error) {
					task, err = r.client.UploadTaskZip(ctx, name, f)
					return err
				})
				if err != nil {
					return err
				}
			} else {
				req := folder.createRequest()
				req.Name = name
				if err := r.call(cmd, func(ctx context.Context) (err error) {
					task, err = r.client.CreateTask(ctx, req)
					return err
				}); err != nil {
					return err
				}
			}
			return r.done("Created task %s (id %d, version %s).", task.Name, task.ID, task.Version)
		},
	}
	cmd.Flags().StringVar(&fromFS, "from-fs", "", "task folder or .zip (required)")
	cmd.Flags().StringVar(&name, "name", "", "the task's name (default: metadata.json's name, else the folder's)")
	_ = cmd.MarkFlagRequired("from-fs")
	return cmd
}

func newTaskUpdateCmd(app *App, rf *remoteFlags) *cobra.Command {
	var (
		fromFS, label, description string
		enable, disable            bool
	)
	cmd := &cobra.Command{
		Use:   "update REF",
		Short: "Replace a task's content (a new version) or change its label, description or state",
		Long: `Update a task. With --from-fs, the folder's (or zip's) files replace the task's
content and make a new version: a schema file the folder lacks is removed from
the task. --label, --description, --enable and --disable change only those.`,
		Example: `  ratchet task update addition --from-fs docs/examples/tasks/addition
  ratchet task update 12 --disable`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var req apitypes.UpdateTaskRequest
			if fromFS != "" {
				folder, err := readTaskFolder(fromFS)
				if err != nil {
					return err
				}
				req = folder.updateRequest()
			}
			flags := cmd.Flags()
			if flags.Changed("label") {
				req.Label = &label
			}
			if flags.Changed("description") {
				req.Description = &description
			}
			if enable || disable {
				req.Enabled = &enable
			}
			if fromFS == "" && req.Label == nil && req.Description == nil && req.Enabled == nil {
				return NewUsageError("nothing to update: give --from-fs, --label, --description, --enable or --disable")
			}
			var task *apitypes.Task
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				task, err = r.client.UpdateTask(ctx, args[0], req)
				return err
			}); err != nil {
				return err
			}
			return r.done("Updated task %s (id %d, version %s).", task.Name, task.ID, task.Version)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fromFS, "from-fs", "", "task folder or .zip whose files replace the task's")
	f.StringVar(&label, "label", "", "new display name")
	f.StringVar(&description, "description", "", "new description")
	f.BoolVar(&enable, "enable", false, "enable the task")
	f.BoolVar(&disable, "disable", false, "disable the task (it can no longer be executed, queued or scheduled)")
	cmd.MarkFlagsMutuallyExclusive("enable", "disable")
	return cmd
}

func newTaskDeleteCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete REF",
		Short: "Delete a task",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			if err := r.call(cmd, func(ctx context.Context) error {
				return r.client.DeleteTask(ctx, args[0])
			}); err != nil {
				return err
			}
			return r.done("Deleted task %s.", args[0])
		},
	}
}

func newTaskExecuteCmd(app *App, rf *remoteFlags) *cobra.Command {
	var (
		inputJSON, inputFile, priority string
		async, wait                    bool
		timeoutSeconds                 int
		wf                             waitFlags
	)
	cmd := &cobra.Command{
		Use:   "execute REF",
		Short: "Execute a task on the server and print its output JSON",
		Long: `Execute a task on the server. By default the call waits for the execution and
prints the task's output JSON on stdout (exit 0); a failure prints
"<ErrorType>: <message>" on stderr and exits 1, as run-once does. -o json prints
the whole execution instead of the output, and on a failure the error envelope
(details.execution_id names the failed execution). On a terminal, stderr shows
the elapsed time while the execution runs.

With --async the server queues a job and the command prints it; add --wait to
follow the job until it finishes (exit 1 if it fails).`,
		Example: `  ratchet task execute addition --input-json '{"num1":1,"num2":2}'
  ratchet task execute weather --input-file in.json --async --priority high --wait`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if wait && !async {
				return NewUsageError("--wait follows a queued job: use it with --async")
			}
			req := apitypes.ExecuteRequest{Priority: priority}
			if err := checkPriority(priority); err != nil {
				return err
			}
			if cmd.Flags().Changed("timeout-seconds") {
				if timeoutSeconds < 0 {
					return NewUsageError("invalid --timeout-seconds %d: must not be negative", timeoutSeconds)
				}
				req.TimeoutSeconds = &timeoutSeconds
			}
			input, err := optionalInput(app, inputJSON, inputFile)
			if err != nil {
				return err
			}
			req.Input = input
			r, err := rf.connect(cmd, app, !async)
			if err != nil {
				return err
			}
			if async {
				var job *apitypes.Job
				if err := r.call(cmd, func(ctx context.Context) (err error) {
					job, err = r.client.ExecuteTaskAsync(ctx, args[0], req)
					return err
				}); err != nil {
					return err
				}
				if wait {
					return r.waitAndShow(cmd, job.ID, wf)
				}
				return r.done("Queued job %d (task %s, priority %s). Follow it with: ratchet job wait %d",
					job.ID, job.TaskName, job.Priority, job.ID)
			}
			var exec *apitypes.Execution
			stop := startSpinner(app.Stderr, "executing "+args[0])
			err = r.call(cmd, func(ctx context.Context) (err error) {
				exec, err = r.client.ExecuteTask(ctx, args[0], req)
				return err
			})
			stop()
			if ae := (*client.APIError)(nil); errors.As(err, &ae) && executionFailed(ae) {
				fmt.Fprintf(app.Stderr, "%s: %s\n", ae.Type, ae.Message)
				if r.json {
					// The error envelope, with details.execution_id, so that
					// scripts can find the failed execution.
					if err := r.printJSON(); err != nil {
						return err
					}
				}
				return errReported
			}
			if err != nil {
				return err
			}
			if exec.Status != core.ExecutionCompleted {
				fmt.Fprintf(app.Stderr, "%s\n", errorText(exec.ErrorType, exec.ErrorMessage))
				if r.json {
					if err := r.printJSON(); err != nil {
						return err
					}
				}
				return errReported
			}
			if r.json {
				return r.printJSON()
			}
			out := bytes.TrimSpace(exec.Output)
			if len(out) == 0 {
				out = []byte("null")
			}
			_, err = fmt.Fprintf(app.Stdout, "%s\n", out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&inputJSON, "input-json", "", "input as a JSON document (default null)")
	f.StringVar(&inputFile, "input-file", "", "file holding the input JSON (- for stdin)")
	f.BoolVar(&async, "async", false, "queue a job and print it instead of waiting for the execution")
	f.BoolVar(&wait, "wait", false, "with --async: follow the job until it finishes")
	f.StringVar(&priority, "priority", "", "priority of the queued job: low, normal, high or urgent")
	f.IntVar(&timeoutSeconds, "timeout-seconds", 0, "limit of the execution on the server, in seconds")
	wf.add(cmd)
	cmd.MarkFlagsMutuallyExclusive("input-json", "input-file")
	return cmd
}

func newTaskTestCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "test REF",
		Short: "Run a task's tests on the server",
		Long: `Run the task's stored tests (tests/*.json) on the server. One line per test,
then a last line "N passed, M failed"; the exit code is 1 if any test failed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := rf.connect(cmd, app, true)
			if err != nil {
				return err
			}
			var rep *apitypes.TaskTestReport
			stop := startSpinner(app.Stderr, "testing "+args[0])
			err = r.call(cmd, func(ctx context.Context) (err error) {
				rep, err = r.client.TestTask(ctx, args[0], apitypes.TestTaskRequest{})
				return err
			})
			stop()
			if err != nil {
				return err
			}
			if r.json {
				err = r.printJSON()
			} else {
				err = writeTestReport(app, rep)
			}
			if err != nil {
				return err
			}
			if !rep.OK || rep.Failed > 0 {
				return errReported
			}
			return nil
		},
	}
}

func writeTestReport(app *App, rep *apitypes.TaskTestReport) error {
	var b strings.Builder
	for _, t := range rep.Tests {
		label := t.Name
		if label == "" {
			label = t.File
		} else if t.File != "" {
			label += " (" + t.File + ")"
		}
		took := time.Duration(t.DurationMS * float64(time.Millisecond)).Round(time.Microsecond)
		if t.Passed {
			fmt.Fprintf(&b, "PASS %s %s\n", label, took)
			continue
		}
		fmt.Fprintf(&b, "FAIL %s %s\n", label, took)
		for _, line := range []struct{ name, v string }{
			{"", t.Message}, {"expected: ", t.Expected}, {"actual:   ", t.Actual},
		} {
			if line.v != "" {
				fmt.Fprintf(&b, "    %s%s\n", line.name, strings.ReplaceAll(line.v, "\n", "\n    "))
			}
		}
	}
	fmt.Fprintf(&b, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	_, err := app.Stdout.Write([]byte(b.String()))
	return err
}

func newTaskValidateCmd(app *App, rf *remoteFlags) *cobra.Command {
	var inputJSON, inputFile string
	cmd := &cobra.Command{
		Use:   "validate REF",
		Short: "Check a task on the server (and an input against its schema)",
		Long: `Check the task's files on the server and list every problem; with an input,
also check it against the input schema. The exit code is 1 if any problem is an
error or the input does not match (warnings alone pass).`,
		Example: `  ratchet task validate addition --input-json '{"num1":1,"num2":2}'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			input, err := optionalInput(app, inputJSON, inputFile)
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var rep *apitypes.ValidationReport
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				rep, err = r.client.ValidateTask(ctx, args[0], apitypes.ValidateTaskRequest{Input: input})
				return err
			}); err != nil {
				return err
			}
			if r.json {
				err = r.printJSON()
			} else {
				err = writeValidationReport(app, rep)
			}
			if err != nil {
				return err
			}
			if !rep.Valid || (rep.InputValid != nil && !*rep.InputValid) {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&inputJSON, "input-json", "", "an input to check against the input schema")
	cmd.Flags().StringVar(&inputFile, "input-file", "", "file holding an input to check (- for stdin)")
	cmd.MarkFlagsMutuallyExclusive("input-json", "input-file")
	return cmd
}

func writeValidationReport(app *App, rep *apitypes.ValidationReport) error {
	var b strings.Builder
	for _, p := range rep.Problems {
		where := p.File
		if p.Line > 0 {
			where += ":" + strconv.Itoa(p.Line)
			if p.Column > 0 {
				where += ":" + strconv.Itoa(p.Column)
			}
		}
		fmt.Fprintf(&b, "%s %s: %s\n", p.Severity, where, p.Message)
	}
	switch {
	case rep.Valid:
		fmt.Fprintf(&b, "task %s is valid (%d warnings)\n", rep.Task, rep.Warnings)
	default:
		fmt.Fprintf(&b, "task %s is invalid: %d errors, %d warnings\n", rep.Task, rep.Errors, rep.Warnings)
	}
	if rep.InputValid != nil {
		if *rep.InputValid {
			b.WriteString("the input matches the input schema\n")
		} else {
			b.WriteString("the input does not match the input schema\n")
		}
	}
	_, err := app.Stdout.Write([]byte(b.String()))
	return err
}

// executionFailed tells a failed execution (reported as run-once does)
// from an error of the request itself (no such task, no permission...).
func executionFailed(ae *client.APIError) bool {
	_, ok := ae.ExecutionID()
	return ok || ae.Type == string(core.KindInputValidation)
}

// optionalInput is the input of --input-json or --input-file, or nil when
// neither is given.
func optionalInput(app *App, inline, file string) (json.RawMessage, error) {
	if inline == "" && file == "" {
		return nil, nil
	}
	return readInput(app.Stdin, inline, file)
}

// checkPriority makes an unknown --priority a usage error.
func checkPriority(p string) error {
	if p == "" {
		return nil
	}
	if _, err := core.ParsePriority(p); err != nil {
		return NewUsageError("invalid --priority %q: allowed are low, normal, high and urgent (critical)", p)
	}
	return nil
}

// taskFolder is a task's files as read from a folder or a zip.
type taskFolder struct {
	defaultName string
	// named says metadata.json has a name.
	named bool
	files map[string][]byte
}

// readTaskFolder reads the task at p (a folder or a .zip) and checks that
// its JSON files are JSON, so that the server gets a well-formed body.
func readTaskFolder(p string) (*taskFolder, error) {
	name, files, err := taskfmt.ReadFiles(p)
	if err != nil {
		return nil, err
	}
	if _, ok := files[taskfmt.MainFile]; !ok {
		return nil, fmt.Errorf("%s is not a task: it has no %s", p, taskfmt.MainFile)
	}
	folder := &taskFolder{defaultName: name, files: files}
	for rel, data := range files {
		if path.Ext(rel) != ".json" {
			continue
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			line, col, msg := taskfmt.JSONError(data, err)
			return nil, fmt.Errorf("%s: %s:%d:%d: invalid JSON: %s", p, rel, line, col, msg)
		}
		if rel == taskfmt.MetadataFile {
			m, _ := v.(map[string]any)
			n, _ := m["name"].(string)
			folder.named = strings.TrimSpace(n) != ""
		}
	}
	return folder, nil
}

func (f *taskFolder) raw(rel string) json.RawMessage {
	if data, ok := f.files[rel]; ok {
		return json.RawMessage(bytes.TrimSpace(data))
	}
	return nil
}

// tests are the tests/*.json files in name order, each with a "file"
// member naming it.
func (f *taskFolder) tests() []json.RawMessage {
	var names []string
	for rel := range f.files {
		if strings.HasPrefix(rel, taskfmt.TestsDir+"/") {
			names = append(names, rel)
		}
	}
	slices.Sort(names)
	out := make([]json.RawMessage, 0, len(names))
	for _, rel := range names {
		raw := f.raw(rel)
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil && m != nil {
			if _, ok := m["file"]; !ok {
				m["file"], _ = json.Marshal(rel)
				if b, err := json.Marshal(m); err == nil {
					raw = b
				}
			}
		}
		out = append(out, raw)
	}
	return out
}

func (f *taskFolder) createRequest() apitypes.CreateTaskRequest {
	return apitypes.CreateTaskRequest{
		Metadata:     f.raw(taskfmt.MetadataFile),
		Code:         string(f.files[taskfmt.MainFile]),
		InputSchema:  f.raw(taskfmt.InputSchemaFile),
		OutputSchema: f.raw(taskfmt.OutputSchemaFile),
		Tests:        f.tests(),
	}
}

// updateRequest replaces the task's content with the folder's; a schema
// the folder lacks is removed.
func (f *taskFolder) updateRequest() apitypes.UpdateTaskRequest {
	code := string(f.files[taskfmt.MainFile])
	orNull := func(v json.RawMessage) json.RawMessage {
		if v == nil {
			return json.RawMessage("null")
		}
		return v
	}
	req := apitypes.UpdateTaskRequest{
		Metadata:     f.raw(taskfmt.MetadataFile),
		Code:         &code,
		InputSchema:  orNull(f.raw(taskfmt.InputSchemaFile)),
		OutputSchema: orNull(f.raw(taskfmt.OutputSchemaFile)),
	}
	if tests := f.tests(); len(tests) > 0 {
		req.Tests = tests
	}
	return req
}
