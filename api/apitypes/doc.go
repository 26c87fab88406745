// Package apitypes holds the wire types of Ratchet's REST API (SPEC §4.1):
// the resources the server answers with (Task, Job, Execution, Schedule,
// Worker, Delivery, stats, health, version), the bodies it accepts (create,
// update, execute), the conversions from the core domain types, and the one
// error envelope every error is answered with.
//
// The JSON is snake_case; enums are lowercase (a priority is its name, such
// as "high"); times are RFC 3339 in UTC. Every field a resource lists is
// always present in responses: an optional time or id is null, an absent
// string is "", an absent JSON value (input, output, a schema) is null.
//
// Field descriptions live in `doc` struct tags and enum values in `enum`
// tags: the OpenAPI document is generated from these types, so the two
// cannot drift apart.
package apitypes
