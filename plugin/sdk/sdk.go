package sdk

import (
	"context"
	"encoding/json"

	"github.com/ratchet-go/ratchet/core"
)

// Plugin is what every plugin implements: it describes itself. A plugin
// that provides tasks also implements TaskProvider; one that wants
// lifecycle events implements EventHandler.
type Plugin interface {
	// Describe answers the plugin's name, version, tasks and the events it
	// wants. The host calls it each time it starts the plugin process.
	Describe(ctx context.Context) (Info, error)
}

// TaskProvider runs the tasks a plugin describes.
type TaskProvider interface {
	// Execute runs task with input (JSON) and answers its output (JSON).
	// A task failure is an error: a *core.Error (see NewError) keeps its
	// kind, any other error is recorded as RuntimeError. ctx ends when the
	// execution times out or is cancelled.
	Execute(ctx context.Context, task string, input json.RawMessage, ec ExecContext) (json.RawMessage, error)
}

// EventHandler receives the lifecycle events a plugin subscribed to (see
// Info.Events). Events are delivered one at a time per plugin, in the order
// they were published; an error is logged by the host, nothing more.
type EventHandler interface {
	HandleEvent(ctx context.Context, ev core.Event) error
}

// Info describes a plugin.
type Info struct {
	// Name identifies the plugin; its tasks are registered with the source
	// "plugin:<Name>". Required.
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
	// Tasks are the tasks the plugin provides (it must be a TaskProvider
	// when there are any).
	Tasks []TaskSpec `json:"tasks,omitempty"`
	// Events are the event types the plugin wants (it must be an
	// EventHandler when there are any), such as core.EventJobCompleted.
	Events []core.EventType `json:"events,omitempty"`
}

// TaskSpec describes one task a plugin provides.
type TaskSpec struct {
	// Name is the task's name, unique within the plugin. Required.
	Name        string `json:"name"`
	Version     string `json:"version,omitempty"`
	Description string `json:"description,omitempty"`
	// InputSchema and OutputSchema are JSON Schemas; nil means none.
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// ExecContext identifies the execution a task runs for.
type ExecContext struct {
	ExecutionID   int64  `json:"execution_id,omitempty"`
	ExecutionUUID string `json:"execution_uuid,omitempty"`
	// JobID is 0 when the execution belongs to no job.
	JobID    int64  `json:"job_id,omitempty"`
	TaskID   int64  `json:"task_id,omitempty"`
	TaskName string `json:"task_name,omitempty"`
	// Attempt counts from 1.
	Attempt int `json:"attempt,omitempty"`
}
