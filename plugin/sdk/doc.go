// Package sdk is the public SDK for third-party Ratchet plugins: executables
// in plugins.dir, served with hashicorp/go-plugin over gRPC, that provide
// tasks (name, version, schemas, execute) and receive lifecycle events (job
// queued/started/completed/failed, execution finished).
//
// A plugin implements Plugin (Describe), and TaskProvider to run the tasks
// it describes, EventHandler to receive the events it subscribed to, or
// both. Its main is one call:
//
//	func main() { sdk.Serve(myPlugin{}) }
//
// A task fails with a typed error whose kind Ratchet records as the
// execution's error_type: return sdk.NewError("ValidationError", "...") (or
// any *core.Error). Other errors are recorded as RuntimeError. Standard
// output belongs to go-plugin's handshake: log to stderr, best through
// Logger, whose lines the host logs as its own.
//
// This package also holds the go-plugin glue shared with the host
// (Handshake, PluginSet, and Client, the host's view of a plugin), so a
// plugin can be tested in-process with go-plugin's TestPluginGRPCConn.
//
// The module has no package at its root, so that nothing named "plugin"
// shadows go-plugin.
package sdk
