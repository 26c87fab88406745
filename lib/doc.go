// Package lib is Ratchet's service layer and composition root. Its
// sub-packages:
//
//   - app: builds every component from the configuration, starts them in
//     order and stops them in reverse; NewHTTPServer mounts the API.
//   - service: the typed service API that REST, GraphQL and the CLI share.
//   - dispatcher: claims jobs with leases, runs them on the worker pool,
//     records executions, retries and completes them.
//   - scheduler: cron schedules, one job per tick across nodes.
//   - registry: loads registry.sources into the database and watches them.
//   - delivery: output delivery to files and webhooks.
//   - events: the in-process event bus.
//   - server: the Echo HTTP server, its middleware, health and metrics;
//     server/rest: the REST handlers.
//   - cronspec, runtimecfg, examples: cron parsing, config mapping, the
//     bundled example tasks.
//
// The cli's serve command is its entry point.
package lib
