// Package resilience is the root of Ratchet's resilience module. It holds no
// code; the building blocks live in sub-packages:
//
//   - retry: retry policies with exponential backoff, jitter and error
//     classification, shared by jobs and output deliveries;
//   - breaker: circuit breakers, one per outbound host or webhook destination;
//   - lifecycle: the start/stop helpers long-running components share.
//
// The module depends on the standard library only, so every other module may
// use it.
package resilience
