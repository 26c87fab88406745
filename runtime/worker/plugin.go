package worker

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ratchet-go/ratchet/runtime/worker/workerpb"
)

// Handshake is the go-plugin handshake between the host and a worker
// process. go-plugin refuses to connect a peer with another protocol
// version, and a worker started without the magic cookie in its
// environment (by hand, from a shell) says so and exits.
//
// ProtocolVersion history (bump it for any change an older peer would
// misread; see worker.proto):
//
//	1: Execute (task reference + content on first use, OUTCOME_UNKNOWN_TASK
//	   to ask for it), Cancel by execution id, Health returning WorkerStats.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "RATCHET_WORKER_MAGIC_COOKIE",
	MagicCookieValue: "3f0c9a5e-ratchet-worker-7d1b",
}

// PluginName is the name the worker plugin is dispensed under.
const PluginName = "worker"

// Plugin is the go-plugin glue of the worker protocol, gRPC only. The worker
// process serves it with a server (see Serve); the host dispenses a *Client
// from it.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	server workerpb.WorkerServer
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer registers the worker service; it runs in the worker process.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.server == nil {
		return errors.New("worker: Plugin has no server: only the worker process serves it")
	}
	workerpb.RegisterWorkerServer(s, p.server)
	return nil
}

// GRPCClient returns a *Client on the host. ctx ends when the worker process
// exits; the client reports it through Done.
func (p *Plugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return newClient(workerpb.NewWorkerClient(conn), ctx), nil
}

// PluginSet is the plugin set a host passes to plugin.NewClient.
func PluginSet() plugin.PluginSet {
	return plugin.PluginSet{PluginName: &Plugin{}}
}
