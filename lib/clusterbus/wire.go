package clusterbus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ratchet-go/ratchet/core"
)

// wireVersion is the envelope format's version. Receivers ignore envelopes
// of other versions (a rolling upgrade then only loses cross-node wake-ups,
// which the dispatchers' polls make up for). Bump it on any incompatible
// change of envelope or wireEvent.
const wireVersion = 1

// envelope is one notification's payload: the events one sender packed
// into it, in publish order.
type envelope struct {
	// V is wireVersion.
	V int `json:"v"`
	// Instance identifies the sending Relay, so that a Relay skips its own
	// notifications.
	Instance string `json:"i"`
	// Node is the sending node's name (for logs).
	Node string `json:"n,omitempty"`
	// Events are the events.
	Events []wireEvent `json:"e"`
}

// wireEvent is a core.Event on the wire. Trimmed says that bulky fields
// were left out to fit the payload bound (see trim); the receiver fills
// them from the database when it has a Loader.
type wireEvent struct {
	core.Event
	Trimmed bool `json:"trimmed,omitempty"`
}

// maxTrimmedString bounds each free-text field of a trimmed event, in
// bytes.
const maxTrimmedString = 512

// errTooLarge is returned by encodeEvent for an event that does not fit
// even trimmed.
var errTooLarge = errors.New("event does not fit in a notification even without its bulky fields")

// encodeEvent returns ev as JSON of at most limit bytes: as it is when it
// fits, else trimmed, else errTooLarge. trimmed reports the second case.
func encodeEvent(ev core.Event, limit int) (b []byte, trimmed bool, err error) {
	b, err = json.Marshal(wireEvent{Event: ev})
	if err != nil {
		return nil, false, fmt.Errorf("encoding %s event: %w", ev.Type, err)
	}
	if len(b) <= limit {
		return b, false, nil
	}
	b, err = json.Marshal(wireEvent{Event: trim(ev), Trimmed: true})
	if err != nil {
		return nil, false, fmt.Errorf("encoding trimmed %s event: %w", ev.Type, err)
	}
	if len(b) <= limit {
		return b, true, nil
	}
	return nil, true, errTooLarge
}

// trim returns a copy of ev without the fields that can grow without bound
// (inputs, outputs, logs, HTTP request logs, error details, metadata,
// output destinations) and with free-text fields cut to
// maxTrimmedString bytes. What subscribers key on stays: type, time, node,
// ids, task id, status, attempts, times.
func trim(ev core.Event) core.Event {
	switch {
	case ev.Job != nil:
		j := *ev.Job
		j.Input, j.Output, j.Metadata, j.OutputDestinations = nil, nil, nil, nil
		j.TaskName = cut(j.TaskName)
		j.ErrorType = cut(j.ErrorType)
		j.ErrorMessage = cut(j.ErrorMessage)
		j.IdempotencyKey = cut(j.IdempotencyKey)
		j.LeaseOwner = cut(j.LeaseOwner)
		ev.Job = &j
	case ev.Execution != nil:
		x := *ev.Execution
		x.Input, x.Output, x.ErrorDetails, x.Logs, x.HTTPRequests = nil, nil, nil, nil, nil
		x.TaskName = cut(x.TaskName)
		x.TaskVersion = cut(x.TaskVersion)
		x.ErrorType = cut(x.ErrorType)
		x.ErrorMessage = cut(x.ErrorMessage)
		x.WorkerID = cut(x.WorkerID)
		ev.Execution = &x
	case ev.Worker != nil:
		w := *ev.Worker
		w.ID = cut(w.ID)
		w.Node = cut(w.Node)
		ev.Worker = &w
	}
	return ev
}

// cut shortens s to at most maxTrimmedString bytes at a rune boundary.
func cut(s string) string {
	if len(s) <= maxTrimmedString {
		return s
	}
	n := maxTrimmedString
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// packer packs encoded events into payloads of at most limit bytes.
type packer struct {
	prefix []byte // `{"v":1,"i":"...","n":"...","e":[`
	limit  int
}

const envelopeSuffix = "]}"

func newPacker(instance, node string, limit int) (*packer, error) {
	head, err := json.Marshal(envelope{V: wireVersion, Instance: instance, Node: node, Events: []wireEvent{}})
	if err != nil {
		return nil, err
	}
	// head ends in `[]}`: keep it up to and including the '['.
	prefix := head[:len(head)-len(envelopeSuffix)]
	if room := limit - len(prefix) - len(envelopeSuffix); room < 1024 {
		return nil, fmt.Errorf("clusterbus: payload limit %d leaves %d bytes for events after the envelope (node name %d bytes): need at least 1024",
			limit, room, len(node))
	}
	return &packer{prefix: prefix, limit: limit}, nil
}

// eventLimit is the largest encoded event that fits in a payload alone.
func (p *packer) eventLimit() int { return p.limit - len(p.prefix) - len(envelopeSuffix) }

// pack joins encoded events, in order, into as few payloads as fit.
func (p *packer) pack(events [][]byte) []string {
	var payloads []string
	var buf bytes.Buffer
	n := 0
	flush := func() {
		if n > 0 {
			buf.WriteString(envelopeSuffix)
			payloads = append(payloads, buf.String())
		}
		buf.Reset()
		n = 0
	}
	for _, ev := range events {
		if n > 0 && buf.Len()+1+len(ev)+len(envelopeSuffix) > p.limit {
			flush()
		}
		if n == 0 {
			buf.Write(p.prefix)
		} else {
			buf.WriteByte(',')
		}
		buf.Write(ev)
		n++
	}
	flush()
	return payloads
}

// decode parses one payload.
func decode(payload string) (envelope, error) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		return env, fmt.Errorf("decoding a notification: %w", err)
	}
	return env, nil
}
