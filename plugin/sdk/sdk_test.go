package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakePlugin provides tasks that exercise the protocol's edges.
type fakePlugin struct {
	events chan core.Event
}

func (fakePlugin) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{
		Name: "fake", Version: "0.1.0",
		Tasks: []sdk.TaskSpec{
			{Name: "echo", InputSchema: json.RawMessage(`{"type":"object"}`)},
			{Name: "fail"}, {Name: "custom"}, {Name: "plain"}, {Name: "panic"}, {Name: "notjson"}, {Name: "block"}, {Name: "ctx"},
		},
		Events: []core.EventType{core.EventJobCompleted},
	}, nil
}

func (fakePlugin) Execute(ctx context.Context, task string, input json.RawMessage, ec sdk.ExecContext) (json.RawMessage, error) {
	switch task {
	case "echo":
		return input, nil
	case "ctx":
		return json.Marshal(ec)
	case "fail":
		return nil, sdk.NewError(core.KindValidation, "bad input").WithDetail("field", "text")
	case "custom":
		return nil, sdk.NewError("QuotaExceededError", "too many")
	case "plain":
		return nil, errors.New("plain failure")
	case "panic":
		panic("boom")
	case "notjson":
		return json.RawMessage("{not json"), nil
	case "block":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return nil, sdk.Errorf(core.KindNotFound, "no task %q", task)
}

func (p fakePlugin) HandleEvent(_ context.Context, ev core.Event) error {
	p.events <- ev
	return nil
}

// eventsOnly subscribes to events without being an EventHandler.
type eventsOnly struct{}

func (eventsOnly) Describe(context.Context) (sdk.Info, error) {
	return sdk.Info{Name: "broken", Events: []core.EventType{core.EventJobQueued}}, nil
}

func dial(t *testing.T, impl sdk.Plugin) *sdk.Client {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, sdk.PluginSet(impl))
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c, ok := raw.(*sdk.Client)
	if !ok {
		t.Fatalf("dispensed %T, want *sdk.Client", raw)
	}
	return c
}

func TestDescribe(t *testing.T) {
	c := dial(t, fakePlugin{})
	info, err := c.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "fake" || info.Version != "0.1.0" || len(info.Tasks) != 8 {
		t.Fatalf("info = %+v", info)
	}
	if string(info.Tasks[0].InputSchema) != `{"type":"object"}` || info.Tasks[1].InputSchema != nil {
		t.Errorf("schemas = %q, %q", info.Tasks[0].InputSchema, info.Tasks[1].InputSchema)
	}
	if !info.Wants(core.EventJobCompleted) || info.Wants(core.EventJobQueued) {
		t.Errorf("events = %v", info.Events)
	}
}

func TestDescribeRefusesEventsWithoutHandler(t *testing.T) {
	c := dial(t, eventsOnly{})
	_, err := c.Describe(t.Context())
	if err == nil {
		t.Fatal("Describe succeeded for a plugin that subscribes to events without handling them")
	}
}

func TestExecute(t *testing.T) {
	c := dial(t, fakePlugin{})
	tests := []struct {
		task     string
		input    string
		want     string
		wantKind core.ErrorKind
		wantMsg  string
	}{
		{task: "echo", input: `{"a":1}`, want: `{"a":1}`},
		{task: "echo", input: ``, want: `null`},
		{task: "fail", wantKind: core.KindValidation, wantMsg: "bad input"},
		{task: "custom", wantKind: "QuotaExceededError", wantMsg: "too many"},
		{task: "plain", wantKind: core.KindRuntime, wantMsg: "plain failure"},
		{task: "panic", wantKind: core.KindRuntime, wantMsg: "plugin panicked: boom"},
		{task: "notjson", wantKind: core.KindOutputValidation},
		{task: "nope", wantKind: core.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.task, func(t *testing.T) {
			out, err := c.Execute(t.Context(), tt.task, json.RawMessage(tt.input), sdk.ExecContext{})
			if tt.wantKind == "" {
				if err != nil || string(out) != tt.want {
					t.Fatalf("Execute = %s, %v; want %s", out, err, tt.want)
				}
				return
			}
			var ce *core.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *core.Error", err, err)
			}
			if ce.Kind != tt.wantKind || (tt.wantMsg != "" && ce.Message != tt.wantMsg) {
				t.Fatalf("error = %q %q, want %q %q", ce.Kind, ce.Message, tt.wantKind, tt.wantMsg)
			}
		})
	}
}

func TestExecuteKeepsDetails(t *testing.T) {
	c := dial(t, fakePlugin{})
	_, err := c.Execute(t.Context(), "fail", nil, sdk.ExecContext{})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Details["field"] != "text" {
		t.Fatalf("error = %#v, want details field=text", err)
	}
	if got := core.HTTPStatusOf(err); got != 400 {
		t.Errorf("HTTP status = %d, want 400", got)
	}
}

func TestExecContextTravels(t *testing.T) {
	c := dial(t, fakePlugin{})
	ec := sdk.ExecContext{ExecutionID: 7, ExecutionUUID: "u-7", JobID: 3, TaskID: 9, TaskName: "ctx", Attempt: 2}
	out, err := c.Execute(t.Context(), "ctx", nil, ec)
	if err != nil {
		t.Fatal(err)
	}
	var got sdk.ExecContext
	if err := json.Unmarshal(out, &got); err != nil || got != ec {
		t.Fatalf("plugin saw %+v (%v), want %+v", got, err, ec)
	}
}

func TestExecuteTimeout(t *testing.T) {
	c := dial(t, fakePlugin{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Execute(ctx, "block", nil, sdk.ExecContext{})
	if core.KindOf(err) != core.KindTimeout {
		t.Fatalf("error = %v (kind %s), want TimeoutError", err, core.KindOf(err))
	}

	cause := core.NewError(core.KindCancelled, "job cancelled by user")
	cctx, ccancel := context.WithCancelCause(t.Context())
	time.AfterFunc(20*time.Millisecond, func() { ccancel(cause) })
	_, err = c.Execute(cctx, "block", nil, sdk.ExecContext{})
	if err != cause {
		t.Fatalf("error = %v, want the context's cause %v", err, cause)
	}
}

func TestHandleEvent(t *testing.T) {
	events := make(chan core.Event, 1)
	c := dial(t, fakePlugin{events: events})
	jobID := int64(42)
	ev := core.Event{Type: core.EventJobCompleted, Time: time.Unix(1700000000, 0).UTC(), Job: &core.Job{ID: jobID, TaskName: "t"}}
	if err := c.HandleEvent(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	got := <-events
	if got.Type != ev.Type || got.Job == nil || got.Job.ID != jobID || !got.Time.Equal(ev.Time) {
		t.Fatalf("plugin got %+v, want %+v", got, ev)
	}
}

func TestInfoValidate(t *testing.T) {
	tests := []struct {
		name string
		info sdk.Info
		ok   bool
	}{
		{"ok", sdk.Info{Name: "p", Tasks: []sdk.TaskSpec{{Name: "a"}, {Name: "b"}}}, true},
		{"no name", sdk.Info{}, false},
		{"task without name", sdk.Info{Name: "p", Tasks: []sdk.TaskSpec{{}}}, false},
		{"duplicate task", sdk.Info{Name: "p", Tasks: []sdk.TaskSpec{{Name: "a"}, {Name: "a"}}}, false},
		{"bad schema", sdk.Info{Name: "p", Tasks: []sdk.TaskSpec{{Name: "a", InputSchema: json.RawMessage("{")}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.info.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
