package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/fetch"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func spec(code string) TaskSpec { return TaskSpec{Name: "t", Version: "1.0.0", Code: code} }

func exec(t *testing.T, e *Engine, code, input string) Result {
	t.Helper()
	return e.Execute(t.Context(), Request{Task: spec(code), Input: json.RawMessage(input)})
}

func wantOutput(t *testing.T, r Result, want string) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("Err = %v (details %v)", r.Err, r.Err.Details)
	}
	var got, exp any
	if err := json.Unmarshal(r.Output, &got); err != nil {
		t.Fatalf("output %q: %v", r.Output, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(exp) {
		t.Fatalf("output = %s, want %s", r.Output, want)
	}
}

func wantError(t *testing.T, r Result, kind core.ErrorKind, msg string) *core.Error {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("output %s, want %s", r.Output, kind)
	}
	if r.Err.Kind != kind || !strings.Contains(r.Err.Message, msg) {
		t.Fatalf("Err = %s: %q, want %s containing %q", r.Err.Kind, r.Err.Message, kind, msg)
	}
	if r.Output != nil {
		t.Fatalf("both output and error set")
	}
	return r.Err
}

func TestFunctionForms(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	forms := map[string]string{
		"parenthesised":        "(function(input){ return {sum: input.a + input.b} })",
		"bare":                 "function(input){ return {sum: input.a + input.b} }",
		"named main":           "function main(input){ return {sum: input.a + input.b} }",
		"named main trailing":  "function main(input){ return {sum: input.a + input.b} }\nmain;",
		"async":                "async function main(input){ await null; return {sum: input.a + input.b} }",
		"bare async":           "async function(input){ return {sum: input.a + input.b} }",
		"module.exports":       "module.exports = function(input){ return {sum: input.a + input.b} }",
		"exports.handler":      "exports.handler = async (input) => ({sum: input.a + input.b})",
		"export default":       "export default function(input){ return {sum: input.a + input.b} }",
		"export async handler": "export async function handler(input) {\n  return {sum: input.a + input.b}\n}",
		"arrow":                "(input) => ({sum: input.a + input.b})",
		"returns promise":      "function main(input){ return Promise.resolve({sum: input.a + input.b}) }",
		"timers":               "async function main(input){ await new Promise(r => setTimeout(r, 5)); return {sum: input.a + input.b} }",
		"promise chain":        "function main(input){ return new Promise(r => setTimeout(() => r(input.a), 1)).then(a => ({sum: a + input.b})) }",
		"export default arrow": "export default async (input) => ({sum: input.a + input.b});",
		"export list":          "const run = (input) => ({sum: input.a + input.b});\nexport { run as default }",
	}
	for name, code := range forms {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wantOutput(t, exec(t, e, code, `{"a": 2, "b": 3}`), `{"sum": 5}`)
		})
	}
}

func TestContextArgument(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	code := "function main(input, context){ return context }"
	r := e.Execute(t.Context(), Request{Task: spec(code), Input: json.RawMessage(`null`),
		Context: ExecContext{ExecutionID: "ex-1", TaskID: 7}})
	wantOutput(t, r, `{"executionId":"ex-1","jobId":null,"taskId":7,"taskName":"t","taskVersion":"1.0.0","attempt":1}`)
	job := int64(42)
	r = e.Execute(t.Context(), Request{Task: spec(code), Input: json.RawMessage(`null`),
		Context: ExecContext{ExecutionID: "ex-2", JobID: &job, TaskID: 7, TaskName: "n", TaskVersion: "2", Attempt: 3}})
	wantOutput(t, r, `{"executionId":"ex-2","jobId":42,"taskId":7,"taskName":"n","taskVersion":"2","attempt":3}`)
}

func TestFailures(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{MaxInputBytes: 1000, MaxOutputBytes: 1000, MaxCallStackSize: 500})
	tests := []struct {
		name  string
		code  string
		input string
		kind  core.ErrorKind
		msg   string
	}{
		{"TypeError", "function main(input){ return input.x.y }", `{}`, "TypeError", "undefined"},
		{"thrown TypeError", "function main(){ throw new TypeError('bad type') }", `{}`, "TypeError", "bad type"},
		{"RangeError", "function main(){ return new Array(-1) }", `{}`, "RangeError", "Invalid array length"},
		{"ReferenceError", "function main(){ return nope }", `{}`, "ReferenceError", "nope is not defined"},
		{"plain Error", "function main(){ throw new Error('boom') }", `{}`, "Error", "boom"},
		{"custom class", "class QuotaError extends Error {}\nfunction main(){ throw new QuotaError('over') }", `{}`, "QuotaError", "over"},
		{"custom name", "function main(){ const e = new Error('x'); e.name = 'MyError'; throw e }", `{}`, "MyError", "x"},
		{"thrown string", "function main(){ throw 'just a string' }", `{}`, "Error", "just a string"},
		{"thrown object", "function main(){ throw {code: 7} }", `{}`, "Error", `{"code":7}`},
		{"thrown error-like", "function main(){ throw {name: 'DataError', message: 'shape'} }", `{}`, "DataError", "shape"},
		{"rejected promise", "async function main(){ throw new DataError('bad data') }", `{}`, "DataError", "bad data"},
		{"rejected later", "function main(){ return new Promise((_, rej) => setTimeout(() => rej(new NetworkError('later')), 1)) }", `{}`, "NetworkError", "later"},
		{"never settles", "function main(){ return new Promise(() => {}) }", `{}`, core.KindRuntime, "never settled"},
		{"top-level throw", "throw new ConfigurationError('no key')\nfunction main(){}", `{}`, "ConfigurationError", "no key"},
		{"no function", "var x = 1;", `{}`, core.KindCompile, "does not yield a function"},
		{"syntax error", "function main(input) {\n  return input +;\n}", `{}`, core.KindCompile, "main.js:2:17"},
		{"recursion", "function f(n){ return f(n+1) + 1 }\nfunction main(){ return f(0) }", `{}`, "RangeError", "Maximum call stack size exceeded"},
		{"returns function", "function main(){ return function(){} }", `{}`, core.KindOutputValidation, "returned a function"},
		{"cycle", "function main(){ const a = {}; a.a = a; return a }", `{}`, core.KindOutputValidation, "not JSON-serialisable"},
		{"bigint", "function main(){ return {n: 10n} }", `{}`, core.KindOutputValidation, "not JSON-serialisable"},
		{"input too large", "function main(i){ return i }", `"` + strings.Repeat("x", 2000) + `"`, core.KindInputValidation, "more than the limit"},
		{"output too large", "function main(){ return 'x'.repeat(5000) }", `{}`, core.KindOutputValidation, "more than the limit"},
		{"invalid input json", "function main(i){ return i }", `{`, core.KindInputValidation, "not valid JSON"},
		{"unreadable input", "function main(i){ return i }", `1e400`, core.KindInputValidation, "input cannot be read"},
		{"require", "function main(){ return require('fs') }", `{}`, "ReferenceError", "require is not defined"},
		{"process", "function main(){ return process.env }", `{}`, "ReferenceError", "process is not defined"},
		{"import()", "function main(){ return import('fs') }", `{}`, core.KindCompile, "dynamic import()"},
		{"static import", "import fs from 'fs';\nexport default function(){}", `{}`, core.KindCompile, "import declarations are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, exec(t, e, tt.code, tt.input), tt.kind, tt.msg)
		})
	}
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	for _, k := range core.JSErrorClasses {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			code := fmt.Sprintf(`function main(){
				const e = %s;
				if (!(e instanceof Error) || !(e instanceof %s) || e.name !== %q) return 'wrong: ' + e.name;
				throw e;
			}`, map[bool]string{true: "new HttpError(418, 'teapot')", false: fmt.Sprintf("new %s('went wrong', {field: 'a'})", k)}[k == core.KindHTTP], k, k)
			r := exec(t, e, code, `{}`)
			if k == core.KindHTTP {
				err := wantError(t, r, k, "teapot")
				if err.Status != 418 || err.HTTPStatus() != 418 {
					t.Fatalf("status = %d", err.Status)
				}
				return
			}
			err := wantError(t, r, k, "went wrong")
			if d, _ := err.Details["details"].(map[string]any); d["field"] != "a" {
				t.Fatalf("details = %v", err.Details)
			}
			if !strings.Contains(fmt.Sprint(err.Details["stack"]), "main.js:") {
				t.Fatalf("stack = %v", err.Details["stack"])
			}
		})
	}
}

func TestSchemas(t *testing.T) {
	t.Parallel()
	s := TaskSpec{
		Name:         "schemas",
		Code:         "function main(input){ return input.bad ? {sum: 'x'} : {sum: input.a + input.b} }",
		InputSchema:  json.RawMessage(`{"type":"object","required":["a","b"],"properties":{"a":{"type":"number"},"b":{"type":"number"}}}`),
		OutputSchema: json.RawMessage(`{"type":"object","required":["sum"],"properties":{"sum":{"type":"number"}}}`),
	}
	e := newEngine(t, Config{})
	r := e.Execute(t.Context(), Request{Task: s, Input: json.RawMessage(`{"a":1,"b":2}`)})
	wantOutput(t, r, `{"sum":3}`)

	r = e.Execute(t.Context(), Request{Task: s, Input: json.RawMessage(`{"a":"1"}`)})
	err := wantError(t, r, core.KindInputValidation, "/a: got string, want number")
	if !strings.Contains(err.Message, "missing property 'b'") || err.Details["problems"] == nil {
		t.Fatalf("err = %v", err)
	}
	r = e.Execute(t.Context(), Request{Task: s, Input: json.RawMessage(`{"a":1,"b":2,"bad":true}`)})
	wantError(t, r, core.KindOutputValidation, "/sum: got string, want number")

	// Input validation happens before the function runs.
	s2 := s
	s2.Code = "function main(){ console.log('ran'); return {sum: 1} }"
	r = e.Execute(t.Context(), Request{Task: s2, Input: json.RawMessage(`{}`)})
	wantError(t, r, core.KindInputValidation, "")
	if len(r.Logs) != 0 {
		t.Fatal("the function ran despite invalid input")
	}

	off := newEngine(t, Config{SkipSchemaValidation: true})
	wantOutput(t, off.Execute(t.Context(), Request{Task: s, Input: json.RawMessage(`{"a":1,"b":2,"bad":true}`)}), `{"sum":"x"}`)

	bad := s
	bad.Checksum = "bad-schema"
	bad.InputSchema = json.RawMessage(`{"type": 12}`)
	wantError(t, e.Execute(t.Context(), Request{Task: bad, Input: json.RawMessage(`{}`)}), core.KindCompile, "input.schema.json")
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	for code, want := range map[string]string{
		"function main(){ }":                               `null`,
		"function main(){ return null }":                   `null`,
		"function main(){ return 1.5 }":                    `1.5`,
		"function main(){ return 'hé' }":                   `"hé"`,
		"function main(){ return [1, 'a', true, null] }":   `[1,"a",true,null]`,
		"function main(){ return {a: undefined, b: 1} }":   `{"b":1}`,
		"function main(){ return {f(){}, b: 1} }":          `{"b":1}`,
		"function main(i){ return i }":                     `{"big":12345678901234567890,"n":1e400}`,
		"function main(){ return new Date(0) }":            `"1970-01-01T00:00:00.000Z"`,
		"function main(){ return {nan: NaN} }":             `{"nan":null}`,
		"function main(){ return typeof structuredClone }": `"undefined"`,
	} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			input := `{"big":12345678901234567890,"n":1e300}`
			r := exec(t, e, code, input)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if code == "function main(i){ return i }" {
				// Numbers go through float64 in JavaScript.
				want = `{"big":12345678901234567000,"n":1e+300}`
			}
			if string(r.Output) != want {
				t.Fatalf("output = %s, want %s", r.Output, want)
			}
		})
	}
}

func TestConsole(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{MaxLogEntries: 5})
	r := exec(t, e, `function main(){
		console.log('hello', 'world', 1, true, null, undefined);
		console.info({a: [1, 2]});
		console.warn('count: %d items, %s', 3, 'ok');
		console.error(new TypeError('bad'));
		console.debug(function named(){});
		for (let i = 0; i < 10; i++) console.log(i);
		return 1
	}`, `{}`)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	want := []struct{ level, msg string }{
		{"info", "hello world 1 true null undefined"},
		{"info", `{"a":[1,2]}`},
		{"warn", "count: 3 items, ok"},
		{"error", "TypeError: bad"},
		{"debug", "[Function: named]"},
		{"warn", "10 more console lines were dropped (limit 5)"},
	}
	if len(r.Logs) != len(want) {
		t.Fatalf("logs = %+v", r.Logs)
	}
	for i, w := range want {
		if r.Logs[i].Level != w.level || !strings.HasPrefix(r.Logs[i].Message, w.msg) || r.Logs[i].Time.IsZero() {
			t.Errorf("log %d = %+v, want %+v", i, r.Logs[i], w)
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	loop := "function main(){ while(true){} }"
	tests := []struct {
		name string
		cfg  Config
		task time.Duration
		call time.Duration
		code string
		msg  string
	}{
		{"engine limit", Config{MaxExecutionDuration: 50 * time.Millisecond}, 0, 0, loop, "execution.max_execution_duration"},
		{"task timeout", Config{}, 50 * time.Millisecond, 0, loop, "the task's timeout"},
		{"per-call timeout", Config{}, time.Minute, 50 * time.Millisecond, loop, "the requested timeout"},
		{"async timer wait", Config{}, 0, 50 * time.Millisecond, "async function main(){ await new Promise(r => setTimeout(r, 60000)) }", "the requested timeout"},
		{"catch cannot swallow", Config{}, 0, 50 * time.Millisecond, "function main(){ try { while(true){} } catch (e) { return 'caught' } }", "the requested timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEngine(t, tt.cfg)
			s := spec(tt.code)
			s.Timeout = tt.task
			r := e.Execute(t.Context(), Request{Task: s, Timeout: tt.call})
			wantError(t, r, core.KindTimeout, tt.msg)
			if r.Duration > 5*time.Second {
				t.Fatalf("took %s", r.Duration)
			}
		})
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(30*time.Millisecond, cancel)
	r := e.Execute(ctx, Request{Task: spec("function main(){ while(true){} }")})
	wantError(t, r, core.KindCancelled, "cancelled")

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	wantError(t, e.Execute(ctx, Request{Task: spec("function main(){ return 1 }")}), core.KindCancelled, "")

	// A cause set by the caller (shutdown) is kept.
	ctx, cancelCause := context.WithCancelCause(t.Context())
	cancelCause(errors.New("server shutting down"))
	wantError(t, e.Execute(ctx, Request{Task: spec("function main(){ return 1 }")}), core.KindCancelled, "server shutting down")
}

func TestNoStateLeaks(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	code := "var counter = (typeof counter === 'number') ? counter : 0;\nfunction main(){ counter++; globalThis.leak = (globalThis.leak || 0) + 1; return [counter, leak] }"
	for i := 0; i < 3; i++ {
		wantOutput(t, exec(t, e, code, `{}`), `[1, 1]`)
	}
	if n := e.CachedPrograms(); n != 1 {
		t.Fatalf("cached programs = %d, want 1 (compiled once)", n)
	}
}

func TestConcurrentExecutions(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{})
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.Execute(context.Background(), Request{Task: spec("async function main(i){ await null; return i * 2 }"), Input: json.RawMessage(fmt.Sprint(i))})
			if r.Err != nil || string(r.Output) != fmt.Sprint(i*2) {
				t.Errorf("execution %d: %s %v", i, r.Output, r.Err)
			}
		}()
	}
	wg.Wait()
}

func TestCheck(t *testing.T) {
	t.Parallel()
	e := newEngine(t, Config{MaxExecutionDuration: 100 * time.Millisecond})
	if err := e.Check(t.Context(), spec("export default function(){}")); err != nil {
		t.Fatal(err)
	}
	for code, kind := range map[string]core.ErrorKind{
		"var x":                            core.KindCompile,
		"function (":                       core.KindCompile,
		"throw new DataError('boom')":      core.KindData,
		"while(true){}\nfunction main(){}": core.KindTimeout,
	} {
		if code == "while(true){}\nfunction main(){}" && testing.Short() {
			continue
		}
		err := e.Check(t.Context(), spec(code))
		if core.KindOf(err) != kind || errors.Is(err, ErrTopLevelNeedsNetwork) {
			t.Errorf("Check(%q) = %v, want %s", code, err, kind)
		}
	}
	// A top level that needs the network is not a failure of its own.
	for _, code := range []string{
		"fetch('http://127.0.0.1:1/')",
		"var cfg = fetch('https://x.test/').body; function main(){ return cfg }",
	} {
		if err := e.Check(t.Context(), spec(code)); !errors.Is(err, ErrTopLevelNeedsNetwork) {
			t.Errorf("Check(%q) = %v, want ErrTopLevelNeedsNetwork", code, err)
		}
	}
}

func TestFetchInExecution(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path": %q}`, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	e := newEngine(t, Config{})
	code := fmt.Sprintf(`async function main(){ const r = await fetch(%q); const j = await r.json(); return {a: r.body.path, b: j.path} }`, srv.URL+"/x")
	r := exec(t, e, code, `{}`)
	wantOutput(t, r, `{"a": "/x", "b": "/x"}`)
	if len(r.HTTPRequests) != 1 || r.HTTPRequests[0].Status != 200 || r.HTTPRequests[0].Method != "GET" {
		t.Fatalf("http log = %+v", r.HTTPRequests)
	}
	// A thrown fetch error keeps its status and response in the details.
	r = e.Execute(t.Context(), Request{Task: spec(fmt.Sprintf("function main(){ return fetch(%q) }", srv.URL)), Mocks: []fetch.Mock{{URL: srv.URL, Response: fetch.MockResponse{Status: 404, Body: json.RawMessage(`{"error":"gone"}`)}}}})
	err := wantError(t, r, core.KindNotFound, "404")
	if err.Status != 404 || err.Details["response"] == nil {
		t.Fatalf("err = %+v", err)
	}
	// Network off: an unmatched fetch names the URL.
	r = e.Execute(t.Context(), Request{Task: spec("function main(){ return fetch('http://example.invalid/x') }"), NetworkDisabled: true})
	wantError(t, r, core.KindNetwork, "http://example.invalid/x")
}
