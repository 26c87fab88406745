// Package core holds Ratchet's domain: the types every other module speaks
// (Task, Execution, Job, Schedule, Worker, DeliveryResult), their status and
// priority enums with the allowed state transitions, the typed errors with
// their kinds and the one mapping from kind to HTTP status, and the domain
// events that subscriptions and plugin hooks carry.
//
// core depends on the standard library only, so that every module, and
// outsiders using the api or plugin SDK, can import it cheaply.
package core
