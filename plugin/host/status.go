package host

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

// State is where a plugin is in its life.
type State string

const (
	// StateStarting: its process is being started (the first time).
	StateStarting State = "starting"
	// StateRunning: it answered Describe and serves calls.
	StateRunning State = "running"
	// StateRestarting: it crashed or failed to start and waits for its
	// next start (with backoff), or is starting again.
	StateRestarting State = "restarting"
	// StateFailed: it failed MaxRestartAttempts times in a row, or cannot
	// run at all (its name is taken by another plugin); it stays down.
	StateFailed State = "failed"
	// StateStopped: the manager stopped it.
	StateStopped State = "stopped"
)

// Status is a snapshot of one plugin, ready for JSON (`ratchet plugin
// list`, GET /plugins).
type Status struct {
	// Name is the plugin's name from Describe, or its file name before it
	// first described itself.
	Name        string     `json:"name"`
	Version     string     `json:"version,omitempty"`
	Description string     `json:"description,omitempty"`
	Path        string     `json:"path"`
	State       State      `json:"state"`
	PID         int        `json:"pid,omitempty"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	// Restarts counts the starts after the first.
	Restarts int `json:"restarts"`
	// Failures counts the crashes and failed starts in a row (reset once
	// the plugin has run for Config.StableAfter); past
	// Config.MaxRestartAttempts the plugin is failed.
	Failures    int        `json:"consecutive_failures"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
	// Tasks and Events are from the plugin's last Describe.
	Tasks  []string         `json:"tasks"`
	Events []core.EventType `json:"events"`
	// EventsDelivered, EventsDropped (the queue was full) and EventsFailed
	// (delivery failed, or the plugin was down) count events.
	EventsDelivered uint64 `json:"events_delivered"`
	EventsDropped   uint64 `json:"events_dropped"`
	EventsFailed    uint64 `json:"events_failed"`
}

// SourcePrefix starts the source of every task a plugin provides:
// core.Task.Source is "plugin:<plugin name>".
const SourcePrefix = "plugin:"

// PluginOfSource returns the plugin name of a task source
// ("plugin:echo" → "echo"), and whether the source is a plugin's.
func PluginOfSource(source string) (string, bool) {
	name, ok := strings.CutPrefix(source, SourcePrefix)
	return name, ok && name != ""
}

// TaskInfo is a task a plugin provides, with the plugin that owns it.
type TaskInfo struct {
	Plugin        string `json:"plugin"`
	PluginVersion string `json:"plugin_version,omitempty"`
	sdk.TaskSpec
}

// Source is the task's core.Task.Source: "plugin:<plugin name>".
func (t TaskInfo) Source() string { return SourcePrefix + t.Plugin }

// CoreTask returns the task as a core.Task to register (ids and times left
// for the registry to fill). A task without a version takes its plugin's.
func (t TaskInfo) CoreTask() core.Task {
	v := t.Version
	if v == "" {
		v = t.PluginVersion
	}
	meta, _ := json.Marshal(map[string]string{"plugin": t.Plugin, "plugin_version": t.PluginVersion})
	return core.Task{
		Name:         t.Name,
		Version:      v,
		Description:  t.Description,
		Enabled:      true,
		InputSchema:  t.InputSchema,
		OutputSchema: t.OutputSchema,
		Metadata:     meta,
		Source:       t.Source(),
	}
}
