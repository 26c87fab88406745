package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/internal/pluginpb"
)

// server adapts a Plugin to the gRPC service. A panic in the plugin's code
// fails the call, not the process.
type server struct {
	pluginpb.UnimplementedPluginServer
	impl Plugin
}

func newServer(impl Plugin) *server { return &server{impl: impl} }

func (s *server) Describe(ctx context.Context, _ *pluginpb.DescribeRequest) (resp *pluginpb.DescribeResponse, err error) {
	defer recoverTo(&err)
	info, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "describe: %v", err)
	}
	if err := s.checkInfo(info); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return infoToPB(info), nil
}

// checkInfo refuses an Info the plugin cannot honour.
func (s *server) checkInfo(info Info) error {
	if err := info.Validate(); err != nil {
		return err
	}
	if _, ok := s.impl.(TaskProvider); !ok && len(info.Tasks) > 0 {
		return fmt.Errorf("plugin %s describes tasks but does not implement sdk.TaskProvider", info.Name)
	}
	if _, ok := s.impl.(EventHandler); !ok && len(info.Events) > 0 {
		return fmt.Errorf("plugin %s subscribes to events but does not implement sdk.EventHandler", info.Name)
	}
	return nil
}

func (s *server) ExecuteTask(ctx context.Context, req *pluginpb.ExecuteTaskRequest) (resp *pluginpb.ExecuteTaskResponse, err error) {
	fail := func(e error) *pluginpb.ExecuteTaskResponse {
		return &pluginpb.ExecuteTaskResponse{Result: &pluginpb.ExecuteTaskResponse_Error{Error: errorToPB(e)}}
	}
	defer func() {
		if r := recover(); r != nil {
			resp, err = fail(core.Errorf(core.KindRuntime, "plugin panicked: %v", r).WithDetail("stack", string(debug.Stack()))), nil
		}
	}()
	tp, ok := s.impl.(TaskProvider)
	if !ok {
		return fail(core.Errorf(core.KindNotFound, "plugin provides no tasks (asked for %q)", req.GetTask())), nil
	}
	out, err := tp.Execute(ctx, req.GetTask(), json.RawMessage(req.GetInput()), execContextFromPB(req.GetContext()))
	if err != nil {
		if ctx.Err() != nil {
			// The task gave up because the call timed out or was
			// cancelled: say so, the host knows why.
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return fail(err), nil
	}
	if len(out) == 0 {
		out = json.RawMessage("null")
	}
	if !json.Valid(out) {
		return fail(core.Errorf(core.KindOutputValidation, "task %s returned output that is not JSON", req.GetTask())), nil
	}
	return &pluginpb.ExecuteTaskResponse{Result: &pluginpb.ExecuteTaskResponse_Output{Output: out}}, nil
}

func (s *server) HandleEvent(ctx context.Context, req *pluginpb.HandleEventRequest) (resp *pluginpb.HandleEventResponse, err error) {
	defer recoverTo(&err)
	h, ok := s.impl.(EventHandler)
	if !ok {
		return &pluginpb.HandleEventResponse{}, nil
	}
	var ev core.Event
	if err := json.Unmarshal(req.GetEvent(), &ev); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "decoding event: %v", err)
	}
	if ev.Type == "" {
		ev.Type = core.EventType(req.GetType())
	}
	if err := h.HandleEvent(ctx, ev); err != nil {
		return nil, status.Errorf(codes.Unknown, "handling event %s: %v", ev.Type, err)
	}
	return &pluginpb.HandleEventResponse{}, nil
}

func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = status.Errorf(codes.Internal, "plugin panicked: %v", r)
	}
}
