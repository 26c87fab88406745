// Package clusterbus carries Ratchet's domain events between the nodes that
// share one PostgreSQL database (SPEC §5: "events (subscriptions,
// wake-ups) cross nodes via LISTEN/NOTIFY"). With SQLite there is a single
// node and no Relay is built.
//
// A *Relay plugs into the local events.Bus on both sides:
//
//   - outbound, it is the bus's events.Forwarder: Forward queues every event
//     published on this node (never blocking the publisher), and a sending
//     goroutine sends the queue in batches, one round trip per batch, with
//     SELECT pg_notify(channel, payload) over its own connection;
//   - inbound, a dedicated connection LISTENs on the channel and hands the
//     other nodes' events to Bus.Deliver, which reaches local subscribers
//     only and never forwards them again. A relay recognises its own
//     notifications by a random instance id and skips them.
//
// So another node's dispatcher wakes as soon as a job is queued here,
// synchronous executes and GraphQL subscriptions see jobs that ran
// elsewhere, and worker subscriptions see every node's workers.
//
// # Wire format
//
// A notification's payload is a JSON envelope
//
//	{"v":1,"i":"<instance id>","n":"<node>","e":[<event>,...]}
//
// where each event is core.Event's JSON, packed in publish order, as many
// per payload as fit in Config.MaxPayload (default 7900 bytes; PostgreSQL
// refuses 8000 and more). An event whose JSON alone does not fit is sent
// trimmed and marked "trimmed":true: inputs, outputs, execution logs, HTTP
// request logs, error details, metadata and output destinations are left
// out, and free-text fields (error message, task name, ...) are cut to 512
// bytes; type, time, node, ids, task id, status, attempts and times stay.
// A receiver with Config.LoadJob/LoadExecution reads the left-out fields
// back from the database before delivering (the immutable ones always,
// the outcome only while the row is still in the event's state); without
// them, or when the read fails, subscribers get the trimmed snapshot. An
// event that does not fit even trimmed (a node name of kilobytes) is
// dropped and logged.
//
// # Delivery
//
// Like the local bus, the relay is a notification channel, not a log.
// Events are lost when the outbound queue is full (Config.QueueSize,
// counted in Stats.Dropped), when a send fails after Stop, and while the
// listening connection is down: it reconnects with backoff
// (Config.Reconnect) and then calls Config.OnReconnect so that consumers
// look at the database again (the app wakes its dispatcher; the
// dispatcher's poll and the service's wait poll cover the rest).
// Events from one node arrive in the order that node published them.
//
// # Channel
//
// Notifications are per database, not per schema. Unless Config.Channel is
// set, the channel is "ratchet_events" in the schema "public" and
// "ratchet_events_<schema>" in any other (from the connection's
// search_path), so deployments (and tests) in separate schemas of one
// database do not hear each other.
package clusterbus
