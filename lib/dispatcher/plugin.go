package dispatcher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/host"
	"github.com/ratchet-go/ratchet/plugin/sdk"
	"github.com/ratchet-go/ratchet/runtime/schema"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// Plugins runs the tasks plugins provide (SPEC §4.5); *host.Manager
// implements it. A task whose source is "plugin:<name>" runs through it
// instead of the worker pool.
type Plugins interface {
	Execute(ctx context.Context, plugin, task string, input json.RawMessage, ec sdk.ExecContext) (json.RawMessage, *core.Error)
}

var _ Plugins = (*host.Manager)(nil)

// pluginOf returns the plugin that provides t, if one does.
func pluginOf(t core.Task) (string, bool) { return host.PluginOfSource(t.Source) }

// pluginSchemas caches the compiled schemas of plugin tasks by task
// checksum (a checksum identifies the schemas of a version).
type pluginSchemas struct {
	mu sync.Mutex
	m  map[string]*compiledSchemas
}

type compiledSchemas struct {
	input, output *schema.Schema
	err           *core.Error
}

const maxCachedPluginSchemas = 1024

func (p *pluginSchemas) get(t core.Task) *compiledSchemas {
	if t.Checksum != "" {
		p.mu.Lock()
		c, ok := p.m[t.Checksum]
		p.mu.Unlock()
		if ok {
			return c
		}
	}
	c := &compiledSchemas{}
	for _, s := range []struct {
		name string
		raw  json.RawMessage
		dst  **schema.Schema
	}{{"input_schema", t.InputSchema, &c.input}, {"output_schema", t.OutputSchema, &c.output}} {
		raw := bytes.TrimSpace(s.raw)
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		compiled, err := schema.Compile(s.name, raw)
		if err != nil {
			c.err = core.WrapError(core.KindCompile, err, "").WithDetail("file", s.name)
			break
		}
		*s.dst = compiled
	}
	if t.Checksum != "" {
		p.mu.Lock()
		if p.m == nil || len(p.m) >= maxCachedPluginSchemas {
			p.m = map[string]*compiledSchemas{}
		}
		p.m[t.Checksum] = c
		p.mu.Unlock()
	}
	return c
}

// pluginCall is one execution of a plugin's task.
type pluginCall struct {
	plugin  string
	task    core.Task
	input   json.RawMessage
	ec      sdk.ExecContext
	timeout time.Duration // the job's or request's timeout; 0 when unset
}

// runPlugin runs a plugin's task as the worker runs a JS task: input
// checked against the limits and the input schema, the smallest of the
// timeouts enforced (the deadline's cause says which), output checked
// against the output schema. The result carries the failure as a task
// failure, never as a pool error.
func (d *Dispatcher) runPlugin(ctx context.Context, c pluginCall) worker.Result {
	out, err := d.callPlugin(ctx, c)
	return worker.Result{Output: out, Err: err}
}

func (d *Dispatcher) callPlugin(ctx context.Context, c pluginCall) (json.RawMessage, *core.Error) {
	if d.cfg.Plugins == nil {
		return nil, core.Errorf(core.KindServiceUnavailable, "task %q is provided by plugin %s, and plugins are not enabled on this node (plugins.enabled)", c.task.Name, c.plugin).
			WithDetail("plugin", c.plugin)
	}
	lim := d.cfg.Limits
	input := bytes.TrimSpace(c.input)
	if len(input) == 0 {
		input = []byte("null")
	}
	if lim.MaxInputBytes > 0 && int64(len(input)) > lim.MaxInputBytes {
		return nil, core.Errorf(core.KindInputValidation, "input is %d bytes, more than the limit of %d", len(input), lim.MaxInputBytes)
	}
	if !json.Valid(input) {
		return nil, core.NewError(core.KindInputValidation, "input is not valid JSON")
	}
	var schemas *compiledSchemas
	if !lim.SkipSchemaValidation {
		schemas = d.pluginSchemas.get(c.task)
		if schemas.err != nil {
			return nil, schemas.err
		}
		if schemas.input != nil {
			if err := schemas.input.Validate(input); err != nil {
				return nil, schemaError(core.KindInputValidation, "input does not match the input schema", err)
			}
		}
	}

	// The smallest positive timeout applies, as for JS tasks.
	limit, what := lim.MaxDuration, "execution.max_execution_duration"
	if t := c.task.Timeout; t > 0 && (limit <= 0 || t < limit) {
		limit, what = t, "the task's timeout"
	}
	if t := c.timeout; t > 0 && (limit <= 0 || t < limit) {
		limit, what = t, "the execution's timeout"
	}
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, limit,
			core.Errorf(core.KindTimeout, "execution exceeded %s of %s", what, limit))
		defer cancel()
	}

	out, cerr := d.cfg.Plugins.Execute(ctx, c.plugin, c.task.Name, json.RawMessage(input), c.ec)
	if cerr != nil {
		if ctx.Err() != nil {
			return nil, stoppedError(ctx)
		}
		return nil, cerr
	}
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		out = json.RawMessage("null")
	}
	if lim.MaxOutputBytes > 0 && int64(len(out)) > lim.MaxOutputBytes {
		return nil, core.Errorf(core.KindOutputValidation, "output is %d bytes, more than the limit of %d", len(out), lim.MaxOutputBytes)
	}
	if schemas != nil && schemas.output != nil {
		if err := schemas.output.Validate(out); err != nil {
			return nil, schemaError(core.KindOutputValidation, "output does not match the output schema", err)
		}
	}
	return out, nil
}

// stoppedError is the failure of an execution whose context ended: its
// cause when that is a *core.Error (timeout, interruption), else a timeout
// or a cancellation.
func stoppedError(ctx context.Context) *core.Error {
	cause := context.Cause(ctx)
	var ce *core.Error
	switch {
	case errors.As(cause, &ce):
		return &core.Error{Kind: ce.Kind, Message: ce.Message, Details: ce.Details, Err: cause}
	case errors.Is(cause, context.DeadlineExceeded):
		return core.WrapError(core.KindTimeout, cause, "execution exceeded its deadline")
	}
	return core.NewError(core.KindCancelled, "execution was cancelled")
}

func schemaError(kind core.ErrorKind, prefix string, err error) *core.Error {
	var ve *schema.ValidationError
	if errors.As(err, &ve) {
		return core.NewError(kind, prefix+": "+ve.Error()).WithDetail("problems", ve.Problems)
	}
	return core.WrapError(kind, err, prefix)
}
