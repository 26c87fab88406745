package worker

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/fetch"
)

func TestEngineExecutor(t *testing.T) {
	t.Parallel()
	c, _ := connect(t, newEngineExecutor(slog.New(slog.DiscardHandler), 8), 8, 0)
	job := int64(5)
	ereq := engine.Request{
		Task: engine.TaskSpec{
			Name: "greet", Version: "1.0.0",
			Code:        `function main(input, ctx) { console.log("hi"); return {hello: input.name, job: ctx.jobId, attempt: ctx.attempt}; }`,
			InputSchema: json.RawMessage(`{"type":"object","required":["name"]}`),
		},
		Input:   json.RawMessage(`{"name":"ada"}`),
		Context: engine.ExecContext{ExecutionID: "9", JobID: &job, TaskName: "greet", Attempt: 2},
	}
	req, err := NewRequest(ereq, LimitsOf(engine.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if req.Task.Hash == "" {
		t.Fatal("NewRequest left the hash empty")
	}
	res, err := c.Execute(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	er := res.EngineResult()
	if er.Err != nil || string(er.Output) != `{"hello":"ada","job":5,"attempt":2}` {
		t.Fatalf("result = %s %v", er.Output, er.Err)
	}
	if len(er.Logs) != 1 || er.Logs[0].Message != "hi" {
		t.Errorf("logs = %+v", er.Logs)
	}

	bad := req
	bad.Input = json.RawMessage(`{}`)
	if res, _ := c.Execute(t.Context(), bad); res.Err == nil || res.Err.Kind != core.KindInputValidation {
		t.Errorf("input without name = %v, want InputValidationError", res.Err)
	}
	bad.Limits.SkipSchemaValidation = true
	if res, _ := c.Execute(t.Context(), bad); res.Err != nil {
		t.Errorf("with validation off = %v", res.Err)
	}
	small := req
	small.Limits.MaxOutputBytes = 5
	if res, _ := c.Execute(t.Context(), small); res.Err == nil || res.Err.Kind != core.KindOutputValidation {
		t.Errorf("output over the limit = %v, want OutputValidationError", res.Err)
	}
	slow := req
	slow.Task.Code = `function main() { while (true) {} }`
	slow.Task.Hash = ContentHash(slow.Task.Code)
	slow.Limits.Timeout = 50 * time.Millisecond
	if res, _ := c.Execute(t.Context(), slow); res.Err == nil || res.Err.Kind != core.KindTimeout {
		t.Errorf("endless loop = %v, want TimeoutError", res.Err)
	}
	mocked := req
	mocked.Task.Code = `function main() { return fetch("https://api.example/x").body; }`
	mocked.Task.Hash = ContentHash(mocked.Task.Code)
	mocked.Mocks = []fetch.Mock{{URL: "api.example", Response: fetch.MockResponse{Body: json.RawMessage(`{"mocked":true}`)}}}
	mocked.NetworkDisabled = true
	res, _ = c.Execute(t.Context(), mocked)
	if res.Err != nil || string(res.Output) != `{"mocked":true}` || len(res.HTTPRequests) != 1 {
		t.Errorf("mocked fetch = %s %v %+v", res.Output, res.Err, res.HTTPRequests)
	}
}

func TestNewRequestRefusesRecorder(t *testing.T) {
	t.Parallel()
	_, err := NewRequest(engine.Request{Recorder: recorderFunc(nil)}, Limits{})
	if core.KindOf(err) != core.KindInvalidArgument {
		t.Errorf("NewRequest with a recorder = %v, want InvalidArgumentError", err)
	}
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		task, call, max, want time.Duration
	}{
		{0, 0, 0, DefaultMaxDuration},
		{0, 0, time.Minute, time.Minute},
		{time.Second, 0, time.Minute, time.Second},
		{time.Second, 500 * time.Millisecond, time.Minute, 500 * time.Millisecond},
		{time.Hour, 2 * time.Hour, time.Minute, time.Minute},
	}
	for _, tt := range tests {
		r := Request{Task: Task{Timeout: tt.task}, Limits: Limits{Timeout: tt.call, MaxDuration: tt.max}}
		if got := r.Timeout(); got != tt.want {
			t.Errorf("Timeout(task %s, call %s, max %s) = %s, want %s", tt.task, tt.call, tt.max, got, tt.want)
		}
	}
}

type recorderFunc func(fetch.Exchange)

func (f recorderFunc) Record(e fetch.Exchange) {
	if f != nil {
		f(e)
	}
}
