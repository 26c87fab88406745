// Package sdk is the public SDK for third-party Ratchet plugins: executables
// in plugins.dir, served with hashicorp/go-plugin over gRPC, that provide
// tasks (name, version, schemas, execute) and receive lifecycle events (job
// queued/started/completed/failed, execution finished).
//
// It will hold the Go interfaces a plugin implements, the go-plugin
// Handshake and plugin map, the gRPC adapters and a one-call Serve for a
// plugin's main. It depends only on core, go-plugin and grpc.
//
// This package is planned; it holds no code yet. The module has no package
// at its root, so that nothing named "plugin" shadows go-plugin.
package sdk
