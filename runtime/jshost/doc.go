// Package jshost installs the host APIs a task sees besides fetch (SPEC
// §2.3): the typed error classes and a console whose lines are captured into
// the execution's logs. Each API is installed into a runtime by one function.
//
// A goja runtime has no require, process, file system or environment to
// begin with; InstallErrors and InstallConsole add nothing that reaches the
// host.
package jshost
