// Package host is the server side of Ratchet plugins: it discovers the
// plugin executables in plugins.dir, starts them with hashicorp/go-plugin,
// checks their health, restarts a plugin that crashes and reports it, so
// that a plugin never takes the server down. It registers the tasks plugins
// provide and forwards lifecycle events to them.
//
// This package is planned; it holds no code yet.
package host
