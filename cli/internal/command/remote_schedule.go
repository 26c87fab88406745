package command

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
)

func newRemoteScheduleCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Manage the cron schedules of a Ratchet server",
	}
	rf := addRemoteFlags(cmd)
	cmd.AddCommand(
		newScheduleListCmd(app, rf),
		newScheduleGetCmd(app, rf),
		newScheduleCreateCmd(app, rf),
		newScheduleUpdateCmd(app, rf),
		newScheduleDeleteCmd(app, rf),
		newScheduleActionCmd(app, rf, "enable", "Turn a schedule on"),
		newScheduleActionCmd(app, rf, "disable", "Turn a schedule off"),
		newScheduleTriggerCmd(app, rf),
	)
	return cmd
}

func newScheduleListCmd(app *App, rf *remoteFlags) *cobra.Command {
	var lf *listFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List schedules",
		Example: `  ratchet schedule list --filter enabled=true --sort next_run_at`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			opts, err := lf.options(listquery.Schedules)
			if err != nil {
				return err
			}
			var (
				ss    []apitypes.Schedule
				total int
			)
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				ss, total, err = r.client.ListSchedules(ctx, opts)
				return err
			}); err != nil {
				return err
			}
			defer r.footer("schedules", len(ss), total, lf)
			return r.render(func(t *tableWriter) {
				if len(ss) == 0 {
					return
				}
				t.row("ID", "NAME", "TASK", "CRON", "TIMEZONE", "ENABLED", "RUNS", "NEXT RUN", "LAST RUN")
				for _, s := range ss {
					t.row(strconv.FormatInt(s.ID, 10), s.Name, strconv.FormatInt(s.TaskID, 10), s.CronExpression,
						s.Timezone, yesNo(s.Enabled), runs(s), agoPtr(s.NextRunAt), agoPtr(s.LastRunAt))
				}
			})
		},
	}
	lf = addListFlags(cmd, listquery.Schedules)
	return cmd
}

// runs is "count" or "count/max" of a schedule.
func runs(s apitypes.Schedule) string {
	n := strconv.Itoa(s.ExecutionCount)
	if s.MaxExecutions != nil && *s.MaxExecutions > 0 {
		n += "/" + strconv.Itoa(*s.MaxExecutions)
	}
	return n
}

func scheduleDetail(t *tableWriter, s *apitypes.Schedule) {
	t.field("ID", strconv.FormatInt(s.ID, 10))
	t.field("UUID", s.UUID)
	t.field("Name", s.Name)
	t.field("Task", strconv.FormatInt(s.TaskID, 10))
	t.field("Cron", s.CronExpression)
	t.field("Timezone", s.Timezone)
	t.field("Enabled", yesNo(s.Enabled))
	t.field("Runs", runs(*s))
	t.field("Next run", stampPtr(s.NextRunAt))
	t.field("Last run", stampPtr(s.LastRunAt))
	t.field("Input", compactJSON(s.Input))
	if len(s.OutputDestinations) > 0 {
		types := make([]string, len(s.OutputDestinations))
		for i, d := range s.OutputDestinations {
			types[i] = d.Type
		}
		t.field("Destinations", strings.Join(types, ", "))
	}
	t.field("Created", stamp(s.CreatedAt))
	t.field("Updated", stamp(s.UpdatedAt))
}

func newScheduleGetCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID|UUID",
		Short: "Show a schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := parseRef("schedule", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var s *apitypes.Schedule
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				s, err = r.client.GetScheduleByRef(ctx, ref)
				return err
			}); err != nil {
				return err
			}
			return r.render(func(t *tableWriter) { scheduleDetail(t, s) })
		},
	}
}

// scheduleFlags are the fields create and update share.
type scheduleFlags struct {
	task, cron, timezone, inputJSON, inputFile, name string
	maxExecutions                                    int
}

func (sf *scheduleFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&sf.task, "task", "", "the task's id, uuid or name")
	f.StringVar(&sf.cron, "cron", "", `cron expression: 5 fields, 6 (seconds first) or a descriptor such as "@hourly" or "@every 5m"`)
	f.StringVar(&sf.timezone, "timezone", "", "IANA time zone the expression is read in (default UTC)")
	f.StringVar(&sf.inputJSON, "input-json", "", "input of every job, as a JSON document")
	f.StringVar(&sf.inputFile, "input-file", "", "file holding the input JSON (- for stdin)")
	f.StringVar(&sf.name, "name", "", "the schedule's name (default: the task's name and the expression)")
	f.IntVar(&sf.maxExecutions, "max-executions", 0, "stop after this many jobs (0: no limit)")
	cmd.MarkFlagsMutuallyExclusive("input-json", "input-file")
}

func newScheduleCreateCmd(app *App, rf *remoteFlags) *cobra.Command {
	var (
		sf       scheduleFlags
		disabled bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a schedule that queues a job for a task on a cron expression",
		Example: `  ratchet schedule create --task addition --cron "*/5 * * * *" --input-json '{"num1":1,"num2":2}'
  ratchet schedule create --task report --cron "0 9 * * MON" --timezone Europe/Paris --name weekly-report`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(sf.task) == "" || strings.TrimSpace(sf.cron) == "" {
				return NewUsageError("--task and --cron must not be empty")
			}
			if sf.maxExecutions < 0 {
				return NewUsageError("invalid --max-executions %d: must not be negative", sf.maxExecutions)
			}
			input, err := optionalInput(app, sf.inputJSON, sf.inputFile)
			if err != nil {
				return err
			}
			req := apitypes.CreateScheduleRequest{
				TaskID: apitypes.TaskRef(sf.task), Name: sf.name, CronExpression: sf.cron,
				Timezone: sf.timezone, Input: input,
			}
			if sf.maxExecutions > 0 {
				req.MaxExecutions = &sf.maxExecutions
			}
			if disabled {
				enabled := false
				req.Enabled = &enabled
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var s *apitypes.Schedule
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				s, err = r.client.CreateSchedule(ctx, req)
				return err
			}); err != nil {
				return err
			}
			return r.done("Created schedule %d (%s, %q, next run %s).", s.ID, s.Name, s.CronExpression, stampPtr(s.NextRunAt))
		},
	}
	sf.add(cmd)
	cmd.Flags().BoolVar(&disabled, "disabled", false, "create the schedule turned off")
	_ = cmd.MarkFlagRequired("task")
	_ = cmd.MarkFlagRequired("cron")
	return cmd
}

func newScheduleUpdateCmd(app *App, rf *remoteFlags) *cobra.Command {
	var sf scheduleFlags
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change the given fields of a schedule",
		Example: `  ratchet schedule update 3 --cron "@every 10m"
  ratchet schedule update 3 --input-json '{"a":2}' --max-executions 0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("schedule", args[0])
			if err != nil {
				return err
			}
			flags := cmd.Flags()
			var req apitypes.UpdateScheduleRequest
			changed := false
			for _, f := range []struct {
				name string
				v    string
				dst  **string
			}{
				{"name", sf.name, &req.Name}, {"cron", sf.cron, &req.CronExpression}, {"timezone", sf.timezone, &req.Timezone},
			} {
				if flags.Changed(f.name) {
					v := f.v
					*f.dst = &v
					changed = true
				}
			}
			if req.CronExpression != nil && strings.TrimSpace(*req.CronExpression) == "" {
				return NewUsageError("--cron must not be empty")
			}
			if flags.Changed("task") {
				if strings.TrimSpace(sf.task) == "" {
					return NewUsageError("--task must not be empty")
				}
				ref := apitypes.TaskRef(sf.task)
				req.TaskID, changed = &ref, true
			}
			if flags.Changed("max-executions") {
				if sf.maxExecutions < 0 {
					return NewUsageError("invalid --max-executions %d: must not be negative", sf.maxExecutions)
				}
				req.MaxExecutions, changed = &sf.maxExecutions, true
			}
			input, err := optionalInput(app, sf.inputJSON, sf.inputFile)
			if err != nil {
				return err
			}
			if input != nil {
				req.Input, changed = input, true
			}
			if !changed {
				return NewUsageError("nothing to update: give --task, --cron, --timezone, --input-json, --input-file, --name or --max-executions")
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var s *apitypes.Schedule
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				s, err = r.client.UpdateSchedule(ctx, id, req)
				return err
			}); err != nil {
				return err
			}
			return r.done("Updated schedule %d (%s, %q, next run %s).", s.ID, s.Name, s.CronExpression, stampPtr(s.NextRunAt))
		},
	}
	sf.add(cmd)
	return cmd
}

func newScheduleDeleteCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("schedule", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			if err := r.call(cmd, func(ctx context.Context) error { return r.client.DeleteSchedule(ctx, id) }); err != nil {
				return err
			}
			return r.done("Deleted schedule %d.", id)
		},
	}
}

func newScheduleActionCmd(app *App, rf *remoteFlags, action, short string) *cobra.Command {
	return &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("schedule", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var s *apitypes.Schedule
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				if action == "enable" {
					s, err = r.client.EnableSchedule(ctx, id)
				} else {
					s, err = r.client.DisableSchedule(ctx, id)
				}
				return err
			}); err != nil {
				return err
			}
			state := "off"
			if s.Enabled {
				state = fmt.Sprintf("on, next run %s", stampPtr(s.NextRunAt))
			}
			return r.done("Schedule %d is %s.", s.ID, state)
		},
	}
}

func newScheduleTriggerCmd(app *App, rf *remoteFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "trigger ID",
		Short: "Queue one job of a schedule now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("schedule", args[0])
			if err != nil {
				return err
			}
			r, err := rf.connect(cmd, app, false)
			if err != nil {
				return err
			}
			var job *apitypes.Job
			if err := r.call(cmd, func(ctx context.Context) (err error) {
				job, err = r.client.TriggerSchedule(ctx, id)
				return err
			}); err != nil {
				return err
			}
			return r.done("Queued job %d (task %s). Follow it with: ratchet job wait %d", job.ID, job.TaskName, job.ID)
		},
	}
}
