package sdk

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/internal/pluginpb"
)

// Validate reports what is wrong with an Info: a missing name, a task
// without a name or with invalid schema JSON, a task named twice.
func (i Info) Validate() error {
	var errs []error
	if i.Name == "" {
		errs = append(errs, errors.New("plugin name is empty"))
	}
	seen := make(map[string]bool, len(i.Tasks))
	for n, t := range i.Tasks {
		switch {
		case t.Name == "":
			errs = append(errs, fmt.Errorf("task %d has no name", n))
		case seen[t.Name]:
			errs = append(errs, fmt.Errorf("task %s is described twice", t.Name))
		}
		seen[t.Name] = true
		if len(t.InputSchema) > 0 && !json.Valid(t.InputSchema) {
			errs = append(errs, fmt.Errorf("task %s: input schema is not JSON", t.Name))
		}
		if len(t.OutputSchema) > 0 && !json.Valid(t.OutputSchema) {
			errs = append(errs, fmt.Errorf("task %s: output schema is not JSON", t.Name))
		}
	}
	return errors.Join(errs...)
}

// Task returns the spec of the named task.
func (i Info) Task(name string) (TaskSpec, bool) {
	for _, t := range i.Tasks {
		if t.Name == name {
			return t, true
		}
	}
	return TaskSpec{}, false
}

// Wants reports whether the plugin subscribed to events of type t.
func (i Info) Wants(t core.EventType) bool {
	for _, e := range i.Events {
		if e == t {
			return true
		}
	}
	return false
}

func infoToPB(i Info) *pluginpb.DescribeResponse {
	r := &pluginpb.DescribeResponse{Name: i.Name, Version: i.Version, Description: i.Description}
	for _, t := range i.Tasks {
		r.Tasks = append(r.Tasks, &pluginpb.TaskSpec{
			Name: t.Name, Version: t.Version, Description: t.Description,
			InputSchema: t.InputSchema, OutputSchema: t.OutputSchema,
		})
	}
	for _, e := range i.Events {
		r.Events = append(r.Events, string(e))
	}
	return r
}

func infoFromPB(r *pluginpb.DescribeResponse) Info {
	i := Info{Name: r.GetName(), Version: r.GetVersion(), Description: r.GetDescription()}
	for _, t := range r.GetTasks() {
		i.Tasks = append(i.Tasks, TaskSpec{
			Name: t.GetName(), Version: t.GetVersion(), Description: t.GetDescription(),
			InputSchema: rawOrNil(t.GetInputSchema()), OutputSchema: rawOrNil(t.GetOutputSchema()),
		})
	}
	for _, e := range r.GetEvents() {
		i.Events = append(i.Events, core.EventType(e))
	}
	return i
}

func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

func execContextToPB(ec ExecContext) *pluginpb.ExecContext {
	return &pluginpb.ExecContext{
		ExecutionId: ec.ExecutionID, ExecutionUuid: ec.ExecutionUUID, JobId: ec.JobID,
		TaskId: ec.TaskID, TaskName: ec.TaskName, Attempt: int32(ec.Attempt),
	}
}

func execContextFromPB(pb *pluginpb.ExecContext) ExecContext {
	return ExecContext{
		ExecutionID: pb.GetExecutionId(), ExecutionUUID: pb.GetExecutionUuid(), JobID: pb.GetJobId(),
		TaskID: pb.GetTaskId(), TaskName: pb.GetTaskName(), Attempt: int(pb.GetAttempt()),
	}
}
