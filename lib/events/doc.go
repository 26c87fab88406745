// Package events is Ratchet's in-process publish/subscribe bus for the core
// domain events (core.Event: job queued/started/completed/failed/cancelled/
// retrying, execution finished, worker status changed).
//
// A *Bus implements core.Publisher and core.Subscriber. Synchronous execute
// waits on it for its job's end, GraphQL subscriptions stream from it, and
// plugin hooks receive lifecycle events through it.
//
// # Delivery policy
//
// Publish never blocks the publisher. Every subscription has its own bounded
// buffer (Config.BufferSize, or the size given to SubscribeBuffered); when it
// is full the event is dropped for that subscription only, and the drop is
// counted (Stats.Dropped) and logged once per burst. A subscriber that must
// not miss an event (synchronous execute waiting for "its" job.completed)
// filters narrowly, so that its buffer only holds the events it wants, and
// re-reads the authoritative state from storage when in doubt: the bus is a
// notification channel, not a log.
//
// Events are delivered to each subscription in the order one publisher
// published them; events from concurrent publishers interleave. The
// *core.Job, *core.Execution and *core.Worker snapshots inside an event are
// shared by every subscriber and must be treated as read-only.
//
// # Subscriptions
//
// Subscribe returns a channel and a cancel func. The channel is closed
// exactly once: when cancel is called, when the subscription's context ends,
// or when the bus is closed, whichever comes first. Cancel is idempotent and
// may be called from any goroutine. Filters run on the publisher's goroutine,
// outside any lock; they must be fast and must not block. A panicking filter
// is recovered, logged, and treated as "no match".
//
// # Across nodes
//
// The bus is local to one process. A cross-node transport (PostgreSQL
// LISTEN/NOTIFY) plugs in on both sides without changing publishers or
// subscribers:
//
//   - outbound, Config.Forwarder receives every event published on this node
//     (after Node is stamped on it) and sends it to the other nodes. Forward
//     is called on the publisher's goroutine and must not block: a transport
//     queues and sends on its own goroutine;
//   - inbound, the transport calls Bus.Deliver for every event received from
//     another node. Deliver reaches local subscribers only and never calls
//     the Forwarder, so events do not loop. A transport that also receives
//     its own notifications skips events whose Node is the local node.
package events
