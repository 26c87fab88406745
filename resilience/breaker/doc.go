// Package breaker implements circuit breakers: after FailureThreshold
// consecutive failures a breaker opens and rejects calls with ErrOpen for
// CoolDown, then lets up to HalfOpenMaxCalls concurrent probe calls through
// (half-open); SuccessThreshold successful probes close it again, and a failed
// probe opens it for another CoolDown.
//
// Ratchet keeps one breaker per outbound host for fetch and one per webhook
// destination, in a Registry that creates them on first use.
//
// ErrOpen implements interface{ Retryable() bool } and reports true, so a
// retry policy waits and tries again once the breaker may have closed; an
// *OpenError returned by a breaker also says how long until the next probe.
package breaker
