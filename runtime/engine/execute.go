package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/fetch"
	"github.com/ratchet-go/ratchet/runtime/jshost"
	"github.com/ratchet-go/ratchet/runtime/schema"
)

// serializeSource turns the task's return value into JSON. A function or a
// symbol cannot be an output; inside objects, functions are left out the way
// JSON.stringify leaves them out, so returning a fetch response works.
const serializeSource = `(function (v, maxDepth) {
	var t = typeof v;
	if (t === "function") throw new TypeError("the task returned a function, not a JSON value");
	if (t === "symbol") throw new TypeError("the task returned a symbol, not a JSON value");
	// JSON.stringify is native code: it cannot be interrupted and slows down
	// on very deep values. Check the depth first, in interruptible JavaScript.
	// A cycle also ends here: it never stops getting deeper.
	if (v !== null && t === "object") {
		var stack = [v, 1];
		while (stack.length > 0) {
			var d = stack.pop(), x = stack.pop();
			if (d > maxDepth) throw new TypeError("the output is nested more than " + maxDepth + " levels deep, or contains a cycle");
			for (var k in x) {
				var c = x[k];
				if (c !== null && typeof c === "object") stack.push(c, d + 1);
			}
		}
	}
	var s = JSON.stringify(v);
	return s === undefined ? "null" : s;
})`

// maxOutputDepth bounds how deeply the output may nest.
const maxOutputDepth = 1000

var (
	serializeOnce sync.Once
	serializePrg  *goja.Program
)

// execution is the state of one Execute call.
type execution struct {
	e       *Engine
	ctx     context.Context
	req     Request
	rt      *goja.Runtime
	console *jshost.Console
	timers  *jshost.Timers
	fetch   *fetch.Session
}

// Execute runs one execution. It never panics and always returns a Result
// with either Output or Err set.
func (e *Engine) Execute(ctx context.Context, req Request) (res Result) {
	started := time.Now()
	x := &execution{e: e, req: req, console: &jshost.Console{MaxEntries: e.cfg.MaxLogEntries}}
	defer func() {
		if p := recover(); p != nil {
			e.logger.ErrorContext(ctx, "task execution panicked", slog.String("task", req.Task.Name), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			res.Output = nil
			res.Err = core.Errorf(core.KindRuntime, "internal error while running the task: %v", p)
		}
		res.Logs = x.console.Entries()
		if x.fetch != nil {
			res.HTTPRequests = x.fetch.Requests()
		}
		res.Duration = time.Since(started)
	}()

	limit, source := e.effectiveTimeout(req)
	ctx, cancel := context.WithTimeoutCause(ctx, limit,
		core.Errorf(core.KindTimeout, "execution exceeded %s of %s", source, limit))
	defer cancel()
	x.ctx = ctx

	out, err := x.run()
	if err != nil {
		res.Err = err
		return res
	}
	res.Output = out
	return res
}

func (x *execution) run() (json.RawMessage, *core.Error) {
	e, req := x.e, x.req
	if err := x.ctx.Err(); err != nil {
		return nil, x.stopped()
	}
	input := bytes.TrimSpace(req.Input)
	if len(input) == 0 {
		input = []byte("null")
	}
	if len(input) > e.cfg.MaxInputBytes {
		return nil, core.Errorf(core.KindInputValidation, "input is %d bytes, more than the limit of %d", len(input), e.cfg.MaxInputBytes)
	}
	if !json.Valid(input) {
		return nil, core.NewError(core.KindInputValidation, "input is not valid JSON")
	}
	c := e.compile(req.Task)
	if c.err != nil {
		return nil, c.err
	}
	if c.input != nil && !e.cfg.SkipSchemaValidation {
		if err := c.input.Validate(input); err != nil {
			return nil, schemaError(core.KindInputValidation, "input does not match the input schema", err)
		}
	}

	rt := goja.New()
	x.rt = rt
	rt.SetMaxCallStackSize(e.cfg.MaxCallStackSize)
	if err := x.install(); err != nil {
		return nil, core.WrapError(core.KindRuntime, err, "preparing the runtime")
	}
	stop := context.AfterFunc(x.ctx, func() { rt.Interrupt(context.Cause(x.ctx)) })
	defer stop()

	fn, _, err := c.prg.Run(rt)
	if err != nil {
		var ex *goja.Exception
		var ie *goja.InterruptedError
		var so *goja.StackOverflowError
		if errors.As(err, &ex) || errors.As(err, &ie) || errors.As(err, &so) {
			return nil, x.classify(err)
		}
		return nil, core.WrapError(core.KindCompile, err, "")
	}

	inputVal, err := x.parseJSON(string(input))
	if err != nil {
		if x.ctx.Err() != nil {
			return nil, x.stopped()
		}
		return nil, core.NewError(core.KindInputValidation, "input cannot be read: "+x.classify(err).Message)
	}
	ret, err := fn(goja.Undefined(), inputVal, x.contextObject())
	if err != nil {
		return nil, x.classify(err)
	}
	ret, cerr := x.settle(ret)
	if cerr != nil {
		return nil, cerr
	}

	out, cerr := x.serialize(ret)
	if cerr != nil {
		return nil, cerr
	}
	if len(out) > e.cfg.MaxOutputBytes {
		return nil, core.Errorf(core.KindOutputValidation, "output is %d bytes, more than the limit of %d", len(out), e.cfg.MaxOutputBytes)
	}
	if c.output != nil && !e.cfg.SkipSchemaValidation {
		if err := c.output.Validate(out); err != nil {
			return nil, schemaError(core.KindOutputValidation, "output does not match the output schema", err)
		}
	}
	return out, nil
}

func (x *execution) install() error {
	if err := jshost.InstallErrors(x.rt); err != nil {
		return err
	}
	if err := x.console.Install(x.rt); err != nil {
		return err
	}
	x.timers = &jshost.Timers{}
	if err := x.timers.Install(x.rt); err != nil {
		return err
	}
	s, err := x.e.fetch.Install(x.ctx, x.rt, fetch.Options{
		Mocks: x.req.Mocks, NetworkDisabled: x.req.NetworkDisabled, Recorder: x.req.Recorder,
	})
	if err != nil {
		return err
	}
	x.fetch = s
	return nil
}

func (x *execution) parseJSON(s string) (goja.Value, error) {
	parse, _ := goja.AssertFunction(x.rt.GlobalObject().Get("JSON").ToObject(x.rt).Get("parse"))
	return parse(goja.Undefined(), x.rt.ToValue(s))
}

func (x *execution) contextObject() goja.Value {
	c := x.req.Context
	obj := x.rt.NewObject()
	attempt := c.Attempt
	if attempt < 1 {
		attempt = 1
	}
	var jobID any
	if c.JobID != nil {
		jobID = *c.JobID
	}
	taskName := c.TaskName
	if taskName == "" {
		taskName = x.req.Task.Name
	}
	taskVersion := c.TaskVersion
	if taskVersion == "" {
		taskVersion = x.req.Task.Version
	}
	_ = obj.Set("executionId", c.ExecutionID)
	_ = obj.Set("jobId", jobID)
	_ = obj.Set("taskId", c.TaskID)
	_ = obj.Set("taskName", taskName)
	_ = obj.Set("taskVersion", taskVersion)
	_ = obj.Set("attempt", attempt)
	return obj
}

// settle resolves a returned promise, running timers while it is pending.
func (x *execution) settle(v goja.Value) (goja.Value, *core.Error) {
	p, ok := v.Export().(*goja.Promise)
	if !ok {
		return v, nil
	}
	for p.State() == goja.PromiseStatePending {
		ran, err := x.timers.RunNext(x.ctx)
		if err != nil {
			return nil, x.classify(err)
		}
		if !ran {
			return nil, core.NewError(core.KindRuntime, "the task's promise never settled: nothing is left that could resolve it (a missing resolve() or an await on a promise nobody resolves)")
		}
	}
	if p.State() == goja.PromiseStateRejected {
		return nil, x.fromValue(p.Result(), "")
	}
	return p.Result(), nil
}

func (x *execution) serialize(v goja.Value) (json.RawMessage, *core.Error) {
	serializeOnce.Do(func() { serializePrg = goja.MustCompile("ratchet:serialize", serializeSource, true) })
	f, err := x.rt.RunProgram(serializePrg)
	if err != nil {
		return nil, x.classify(err)
	}
	fn, _ := goja.AssertFunction(f)
	s, err := fn(goja.Undefined(), v, x.rt.ToValue(maxOutputDepth))
	if err != nil {
		var ex *goja.Exception
		if errors.As(err, &ex) {
			msg := ex.Value().String()
			if o, ok := ex.Value().(*goja.Object); ok {
				if m := o.Get("message"); m != nil {
					msg = m.String()
				}
			}
			return nil, core.NewError(core.KindOutputValidation, "output is not JSON-serialisable: "+msg)
		}
		return nil, x.classify(err)
	}
	return json.RawMessage(s.String()), nil
}

func schemaError(kind core.ErrorKind, prefix string, err error) *core.Error {
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		return core.NewError(kind, prefix+": "+ve.Error()).WithDetail("problems", ve.Problems)
	}
	return core.WrapError(kind, err, prefix)
}

// stopped is the error of an execution whose context ended.
func (x *execution) stopped() *core.Error {
	cause := context.Cause(x.ctx)
	var ce *core.Error
	switch {
	case errors.As(cause, &ce):
		return &core.Error{Kind: ce.Kind, Message: ce.Message, Err: cause}
	case errors.Is(cause, context.DeadlineExceeded):
		return core.WrapError(core.KindTimeout, cause, "execution exceeded its deadline")
	case cause == nil || errors.Is(cause, context.Canceled):
		return core.NewError(core.KindCancelled, "execution was cancelled")
	}
	return core.WrapError(core.KindCancelled, cause, "execution was cancelled")
}

// classify turns an error from goja into the failure of the execution.
func (x *execution) classify(err error) *core.Error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) || x.ctx.Err() != nil {
		return x.stopped()
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return core.NewError("RangeError", "Maximum call stack size exceeded").WithDetail("stack", strings.TrimSpace(so.String()))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return x.fromValue(ex.Value(), ex.String())
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce
	}
	return core.WrapError(core.KindRuntime, err, "")
}

// fromValue describes a thrown (or rejected) JavaScript value.
func (x *execution) fromValue(v goja.Value, fallbackStack string) *core.Error {
	if x.ctx.Err() != nil {
		return x.stopped()
	}
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return core.NewError("Error", fmt.Sprintf("the task threw %v", v))
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return core.NewError("Error", v.String())
	}
	str := func(key string) string {
		if p := obj.Get(key); p != nil && !goja.IsUndefined(p) && !goja.IsNull(p) {
			return p.String()
		}
		return ""
	}
	isErr := jshost.IsError(obj)
	name, message := str("name"), str("message")
	if !isErr && name == "" && message == "" {
		b, err := json.Marshal(obj.Export())
		if err != nil {
			return core.NewError("Error", obj.String())
		}
		return core.NewError("Error", "the task threw "+string(b))
	}
	if name == "" || name == "Error" {
		if c, ok := obj.Get("constructor").(*goja.Object); ok && c != nil {
			if n := c.Get("name"); n != nil && n.String() != "" && n.String() != "Object" {
				name = n.String()
			}
		}
	}
	if name == "" {
		name = "Error"
	}
	e := core.NewError(core.ErrorKind(name), message)
	if st := str("stack"); st != "" {
		e.WithDetail("stack", st)
	} else if fallbackStack != "" {
		e.WithDetail("stack", fallbackStack)
	}
	if s := obj.Get("status"); s != nil && !goja.IsUndefined(s) && !goja.IsNull(s) {
		if n := s.ToInteger(); n >= 100 && n <= 599 {
			e.Status = int(n)
			e.WithDetail("status", n)
		}
	}
	if u := str("url"); u != "" {
		e.WithDetail("url", u)
	}
	if d := obj.Get("details"); d != nil && !goja.IsUndefined(d) {
		e.WithDetail("details", exportJSON(d))
	}
	if r, ok := obj.Get("response").(*goja.Object); ok && r != nil {
		resp := map[string]any{}
		for _, k := range []string{"status", "statusText", "url", "body"} {
			if v := r.Get(k); v != nil && !goja.IsUndefined(v) {
				resp[k] = exportJSON(v)
			}
		}
		e.WithDetail("response", resp)
	}
	return e
}

// exportJSON exports v to a value encoding/json can marshal.
func exportJSON(v goja.Value) any {
	exp := v.Export()
	if _, err := json.Marshal(exp); err != nil {
		return v.String()
	}
	return exp
}

// ErrTopLevelNeedsNetwork is returned by Check when main.js's top level
// calls fetch: with the network off the top level could not be run to its
// end, so whether it yields a function is unknown. It is not a failure: the
// task may well run (run-once runs it with the network on).
var ErrTopLevelNeedsNetwork = errors.New("main.js calls fetch at its top level, which cannot be checked with the network off")

// Check compiles spec and runs main.js's top level in a fresh runtime,
// without calling the function, to make sure the file yields a function.
// The network is off while it runs (Request.Mocks of spec are not used).
// Errors are *core.Error (CompileError, or what the top level threw), or
// ErrTopLevelNeedsNetwork (wrapped) when the top level failed after a fetch
// the network being off refused.
func (e *Engine) Check(ctx context.Context, spec TaskSpec) error {
	c := e.compile(spec)
	if c.err != nil {
		return c.err
	}
	limit := min(5*time.Second, e.cfg.MaxExecutionDuration)
	ctx, cancel := context.WithTimeoutCause(ctx, limit, core.Errorf(core.KindTimeout, "main.js's top level ran for more than %s", limit))
	defer cancel()
	x := &execution{e: e, ctx: ctx, req: Request{Task: spec, NetworkDisabled: true}, console: &jshost.Console{}}
	x.rt = goja.New()
	x.rt.SetMaxCallStackSize(e.cfg.MaxCallStackSize)
	if err := x.install(); err != nil {
		return core.WrapError(core.KindRuntime, err, "preparing the runtime")
	}
	stop := context.AfterFunc(ctx, func() { x.rt.Interrupt(context.Cause(ctx)) })
	defer stop()
	if _, _, err := c.prg.Run(x.rt); err != nil {
		var ex *goja.Exception
		var ie *goja.InterruptedError
		var so *goja.StackOverflowError
		if errors.As(err, &ex) || errors.As(err, &ie) || errors.As(err, &so) {
			ce := x.classify(err)
			if x.fetch != nil && x.fetch.NetworkRefused() && ctx.Err() == nil {
				return fmt.Errorf("%w (it failed with %s: %s)", ErrTopLevelNeedsNetwork, ce.Kind, ce.Message)
			}
			return ce
		}
		return core.WrapError(core.KindCompile, err, "")
	}
	return nil
}
