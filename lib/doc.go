// Package lib is Ratchet's service layer and composition root: the engine
// (service coordinator) and service provider that wire storage, runtime,
// caching, resilience and plugins together from the configuration; the
// execution manager (job queue, dispatcher claiming jobs with leases, cron
// scheduler); the task registry; output delivery (filesystem, webhook); and
// the Echo HTTP server with the REST API, the GraphQL API and the
// middleware.
//
// Each of these will be a sub-package of this module; the cli's serve
// command is its entry point.
//
// This module is planned; the package holds no code yet.
package lib
