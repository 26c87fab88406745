package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/internal/pluginpb"
)

// ErrGone matches (errors.Is) the error of a call on a plugin whose process
// has exited or whose connection broke. Its kind is WorkerCrashError, the
// kind an execution records when its process died.
var ErrGone = &core.Error{Kind: core.KindWorkerCrash}

// Client is the host's view of one plugin process, dispensed by go-plugin
// from GRPCPlugin. It implements Plugin, TaskProvider and EventHandler over
// gRPC, and every error it returns is a *core.Error: the task's own failure
// with its kind, ErrGone (WorkerCrashError) when the process died or the
// connection broke, TimeoutError or CancelledError when ctx ended first
// (or the *core.Error that was ctx's cause). It is safe for concurrent use.
type Client struct {
	rpc pluginpb.PluginClient
	// life ends when the plugin process exits.
	life context.Context
}

var (
	_ Plugin       = (*Client)(nil)
	_ TaskProvider = (*Client)(nil)
	_ EventHandler = (*Client)(nil)
)

func newClient(rpc pluginpb.PluginClient, life context.Context) *Client {
	if life == nil {
		life = context.Background()
	}
	return &Client{rpc: rpc, life: life}
}

// Done is closed when the plugin process has exited.
func (c *Client) Done() <-chan struct{} { return c.life.Done() }

// Describe asks the plugin for its Info and checks it.
func (c *Client) Describe(ctx context.Context) (Info, error) {
	ctx, done := c.join(ctx)
	defer done()
	resp, err := c.rpc.Describe(ctx, &pluginpb.DescribeRequest{ProtocolVersion: uint32(Handshake.ProtocolVersion)})
	if err != nil {
		return Info{}, c.callError(ctx, err, "describe")
	}
	info := infoFromPB(resp)
	if err := info.Validate(); err != nil {
		return Info{}, core.WrapError(core.KindConfiguration, err, "plugin described itself wrongly")
	}
	return info, nil
}

// Execute runs a task on the plugin. The task's failure is a *core.Error
// of the kind the plugin gave (canonicalised when it is one of core's).
func (c *Client) Execute(ctx context.Context, task string, input json.RawMessage, ec ExecContext) (json.RawMessage, error) {
	if len(input) == 0 {
		input = json.RawMessage("null")
	}
	ctx, done := c.join(ctx)
	defer done()
	resp, err := c.rpc.ExecuteTask(ctx, &pluginpb.ExecuteTaskRequest{Task: task, Input: input, Context: execContextToPB(ec)})
	if err != nil {
		return nil, c.callError(ctx, err, "execute "+task)
	}
	if te := resp.GetError(); te != nil {
		if ctx.Err() != nil {
			// The task gave up because the call's context ended (a timeout
			// propagated to the plugin): the context says why.
			return nil, c.ctxError(ctx, err, "execute "+task)
		}
		return nil, errorFromPB(te)
	}
	out := resp.GetOutput()
	if len(out) == 0 {
		out = []byte("null")
	}
	if !json.Valid(out) {
		return nil, core.Errorf(core.KindOutputValidation, "task %s returned output that is not JSON", task)
	}
	return json.RawMessage(out), nil
}

// HandleEvent delivers one event to the plugin.
func (c *Client) HandleEvent(ctx context.Context, ev core.Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return core.WrapError(core.KindInternal, err, "encoding event")
	}
	ctx, done := c.join(ctx)
	defer done()
	if _, err := c.rpc.HandleEvent(ctx, &pluginpb.HandleEventRequest{Type: string(ev.Type), Event: b}); err != nil {
		return c.callError(ctx, err, "event "+string(ev.Type))
	}
	return nil
}

// errGoneCause is the cancel cause of a call whose plugin process exited.
var errGoneCause = errors.New("plugin process exited")

// join ends the call's context as soon as the process exits.
func (c *Client) join(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.life, func() { cancel(errGoneCause) })
	return ctx, func() { stop(); cancel(nil) }
}

func (c *Client) gone() bool { return c.life.Err() != nil }

// callError maps a gRPC failure to Ratchet's errors: this is the one place
// the plugin protocol turns gRPC codes into kinds.
func (c *Client) callError(ctx context.Context, err error, what string) *core.Error {
	code := status.Code(err)
	if ctx.Err() != nil && (code == codes.Canceled || code == codes.DeadlineExceeded) {
		return c.ctxError(ctx, err, what)
	}
	switch code {
	case codes.Unavailable, codes.Canceled:
		return goneError(err)
	case codes.DeadlineExceeded:
		return core.WrapError(core.KindTimeout, err, "plugin call "+what)
	}
	if c.gone() {
		return goneError(err)
	}
	return core.WrapError(core.KindInternal, fmt.Errorf("%s", status.Convert(err).Message()), "plugin call "+what+" failed")
}

// ctxError is the error of a call whose context ended: the plugin's exit,
// the context's cause when it is a *core.Error, or a timeout or a
// cancellation.
func (c *Client) ctxError(ctx context.Context, err error, what string) *core.Error {
	cause := context.Cause(ctx)
	var ce *core.Error
	switch {
	case errors.Is(cause, errGoneCause):
		return goneError(err)
	case errors.As(cause, &ce):
		return ce
	case errors.Is(cause, context.DeadlineExceeded):
		return core.WrapError(core.KindTimeout, cause, "plugin call "+what)
	default:
		return core.WrapError(core.KindCancelled, cause, "plugin call "+what)
	}
}

func goneError(err error) *core.Error {
	return &core.Error{Kind: core.KindWorkerCrash, Message: "plugin process exited or its connection broke", Err: err}
}
