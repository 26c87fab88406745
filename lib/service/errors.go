package service

import (
	"errors"
	"fmt"

	"github.com/ratchet-go/ratchet/core"
)

// prefixError is fmt.Errorf(prefix+": %w", err) for errors shown to
// clients: when err carries a *core.Error, the result is a *core.Error of
// the same kind, status and details whose message is the prefix and the
// inner message, so that the kind is not repeated inside the message
// ("job 3 of the batch: InvalidArgumentError: ..." would be). err stays the
// cause.
func prefixError(err error, format string, args ...any) error {
	prefix := fmt.Sprintf(format, args...)
	var ce *core.Error
	if !errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	msg := prefix
	if ce.Message != "" {
		msg += ": " + ce.Message
	}
	out := &core.Error{Kind: ce.Kind, Message: msg, Status: ce.Status, Err: err}
	for k, v := range ce.Details {
		out = out.WithDetail(k, v)
	}
	return out
}

// transitionConflict restates a store's refusal of a job status change
// ("job 2 cannot go from completed to cancelled") from its details, the
// job's status when it refused; other errors are returned unchanged.
func transitionConflict(err error, id int64, to core.JobStatus) error {
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindConflict {
		return err
	}
	from, _ := ce.Details["status"].(string)
	if from == "" || core.JobStatus(from).CanTransitionTo(to) {
		// A lost lease or a concurrent change: the store's message says so.
		return err
	}
	out := &core.Error{Kind: core.KindConflict, Err: err,
		Message: fmt.Sprintf("job %d cannot go from %s to %s", id, from, to)}
	for k, v := range ce.Details {
		out = out.WithDetail(k, v)
	}
	return out.WithDetail("job_id", id)
}
