// Package retry implements retry policies: exponential backoff with jitter
// capped at a maximum delay, a classifier that tells retryable errors from
// permanent ones, and Do, which runs a function until it succeeds, fails
// permanently, runs out of attempts or its context ends.
//
// Jobs use Policy.Delay and Policy.ShouldRetry to schedule their next attempt
// in the queue; output deliveries call Do directly.
//
// Errors opt out of retries by implementing
//
//	interface{ Retryable() bool }
//
// (core's typed errors and breaker.ErrOpen do), or by being wrapped with
// Permanent. context.Canceled is never retried.
package retry
