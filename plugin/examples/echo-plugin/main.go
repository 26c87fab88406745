// Command echo-plugin is the example Ratchet plugin. Built into plugins.dir,
// it provides three tasks:
//
//   - echo-upper: {"text": "hi"} → {"text": "HI"}; a ValidationError when
//     text is missing or not a string;
//   - event-count: {} → the lifecycle events it received, by type;
//   - wait: {"ms": 50} → waits that long, or fails when its execution is
//     cancelled or times out first (it honours ctx).
//
// It subscribes to job queued/started/completed/failed and execution
// finished events and counts them.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

func main() {
	sdk.Serve(newEchoPlugin(sdk.Logger(slog.LevelInfo)))
}

type echoPlugin struct {
	log *slog.Logger

	mu     sync.Mutex
	events map[core.EventType]int
	total  int
}

func newEchoPlugin(log *slog.Logger) *echoPlugin {
	return &echoPlugin{log: log, events: map[core.EventType]int{}}
}

var (
	_ sdk.Plugin       = (*echoPlugin)(nil)
	_ sdk.TaskProvider = (*echoPlugin)(nil)
	_ sdk.EventHandler = (*echoPlugin)(nil)
)

func (p *echoPlugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name:        "echo",
		Version:     "1.0.0",
		Description: "Example plugin: uppercases text and counts lifecycle events.",
		Tasks: []sdk.TaskSpec{
			{
				Name:         "echo-upper",
				Version:      "1.0.0",
				Description:  "Uppercases the text field.",
				InputSchema:  json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
				OutputSchema: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
			},
			{
				Name:         "event-count",
				Version:      "1.0.0",
				Description:  "Answers how many lifecycle events the plugin received, by type.",
				InputSchema:  json.RawMessage(`{"type":"object"}`),
				OutputSchema: json.RawMessage(`{"type":"object","properties":{"total":{"type":"integer"},"by_type":{"type":"object"}}}`),
			},
			{
				Name:        "wait",
				Version:     "1.0.0",
				Description: "Waits ms milliseconds unless the execution ends first.",
				InputSchema: json.RawMessage(`{"type":"object","properties":{"ms":{"type":"integer","minimum":0}}}`),
			},
		},
		Events: []core.EventType{
			core.EventJobQueued, core.EventJobStarted, core.EventJobCompleted,
			core.EventJobFailed, core.EventExecutionFinished,
		},
	}, nil
}

func (p *echoPlugin) Execute(ctx context.Context, task string, input json.RawMessage, ec sdk.ExecContext) (json.RawMessage, error) {
	switch task {
	case "echo-upper":
		var in struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, sdk.Errorf(core.KindValidation, "input must be an object with a string field text: %v", err).
				WithDetail("field", "text")
		}
		if in.Text == nil {
			return nil, sdk.NewError(core.KindValidation, "text is required").WithDetail("field", "text")
		}
		p.log.Debug("echo-upper", slog.Int64("execution_id", ec.ExecutionID), slog.Int("length", len(*in.Text)))
		return json.Marshal(map[string]string{"text": strings.ToUpper(*in.Text)})
	case "event-count":
		p.mu.Lock()
		defer p.mu.Unlock()
		return json.Marshal(map[string]any{"total": p.total, "by_type": p.events})
	case "wait":
		var in struct {
			MS int `json:"ms"`
		}
		if err := json.Unmarshal(input, &in); err != nil {
			return nil, sdk.Errorf(core.KindValidation, "input: %v", err)
		}
		t := time.NewTimer(time.Duration(in.MS) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return json.Marshal(map[string]int{"waited_ms": in.MS})
		case <-ctx.Done():
			return nil, sdk.Errorf(core.KindCancelled, "wait interrupted: %v", ctx.Err())
		}
	}
	return nil, sdk.Errorf(core.KindNotFound, "unknown task %q", task)
}

func (p *echoPlugin) HandleEvent(_ context.Context, ev core.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events[ev.Type]++
	p.total++
	return nil
}
