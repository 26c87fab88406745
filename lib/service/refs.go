package service

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ratchet-go/ratchet/core"
)

// parseRef reads a client's reference to a resource (a path id, a task_id
// in a body): trimmed, a whole number is an id (isID), anything else a key
// (uuid, name, worker id). Every reference of the service goes through it,
// so a reference that no stored row can hold (empty, a NUL byte, invalid
// UTF-8, which storage never keeps) is an InvalidArgumentError naming the
// parameter instead of reaching the database.
func parseRef(what, param, ref string) (id int64, isID bool, key string, err error) {
	ref = strings.TrimSpace(ref)
	if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		return n, true, ref, nil
	}
	var bad *core.Error
	switch {
	case ref == "":
		bad = core.Errorf(core.KindInvalidArgument, "%s is empty: give the %s's id", param, what)
	case strings.IndexByte(ref, 0) >= 0:
		bad = core.Errorf(core.KindInvalidArgument, "%s contains a NUL byte: no %s has such an id", param, what)
	case !utf8.ValidString(ref):
		bad = core.Errorf(core.KindInvalidArgument, "%s is not valid UTF-8: no %s has such an id", param, what)
	default:
		return 0, false, ref, nil
	}
	return 0, false, "", bad.WithDetail("parameter", param)
}

// taskDisabled refuses work for a disabled task: queueing a job, creating,
// enabling or triggering a schedule (409).
func taskDisabled(t core.Task) error {
	if t.Enabled {
		return nil
	}
	return core.Errorf(core.KindConflict, "task %q is disabled: enable it before queueing jobs or scheduling it", t.Name).
		WithDetail("task_id", t.ID)
}
