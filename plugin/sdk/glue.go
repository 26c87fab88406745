package sdk

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ratchet-go/ratchet/plugin/internal/pluginpb"
)

// Handshake is the go-plugin handshake between Ratchet and a plugin
// process. go-plugin refuses a peer with another protocol version, and a
// plugin started by hand (without the magic cookie in its environment) says
// so and exits.
//
// ProtocolVersion history (bump it for any change an older peer would
// misread; see internal/pluginpb/plugin.proto):
//
//	1: Describe (name, version, tasks with schemas, wanted events),
//	   ExecuteTask (output or a typed TaskError), HandleEvent (core.Event
//	   as JSON).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "RATCHET_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "b7e2d4a1-ratchet-plugin-5c93",
}

// PluginName is the name a Ratchet plugin is dispensed under.
const PluginName = "ratchet"

// MaxMessageBytes bounds one gRPC message between host and plugin (an
// input, an output, an event).
const MaxMessageBytes = 64 << 20

// GRPCPlugin is the go-plugin glue of the plugin protocol, gRPC only. A
// plugin process serves it with its implementation (see Serve); the host
// dispenses a *Client from it.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the plugin's implementation; nil on the host.
	Impl Plugin
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the plugin service; it runs in the plugin process.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("sdk: GRPCPlugin has no Impl: only a plugin process serves it")
	}
	pluginpb.RegisterPluginServer(s, newServer(p.Impl))
	return nil
}

// GRPCClient returns a *Client on the host. ctx ends when the plugin
// process exits; the client reports it through Done.
func (p *GRPCPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return newClient(pluginpb.NewPluginClient(conn), ctx), nil
}

// PluginSet is the plugin set for go-plugin: with impl nil, what a host
// passes to plugin.NewClient; with an implementation, what a plugin serves
// (or a test passes to plugin.TestPluginGRPCConn).
func PluginSet(impl Plugin) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &GRPCPlugin{Impl: impl}}
}
