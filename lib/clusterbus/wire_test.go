package clusterbus

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ratchet-go/ratchet/core"
)

func bigJob(size int) core.Job {
	out, _ := json.Marshal(map[string]string{"blob": strings.Repeat("x", size)})
	return core.Job{
		ID: 7, UUID: "u-7", TaskID: 3, TaskName: "t", Status: core.JobCompleted, Attempts: 2,
		Input: json.RawMessage(`{"a":1}`), Output: out,
		ErrorMessage: strings.Repeat("é", size), // 2 bytes a rune: cut must keep UTF-8 valid
		Metadata:     map[string]any{"k": strings.Repeat("m", size)},
		ProcessAt:    time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// TestEncodeEvent: small events go whole, big ones trimmed (ids and status
// kept, bulky fields gone, strings cut at rune boundaries), and the result
// is never above the limit.
func TestEncodeEvent(t *testing.T) {
	small := core.Event{Type: core.EventJobQueued, Node: "a", Job: &core.Job{ID: 1, TaskID: 2, Status: core.JobQueued, Input: json.RawMessage(`{}`)}}
	exec := core.Execution{ID: 9, TaskID: 3, JobID: ptr(int64(7)), Status: core.ExecutionCompleted,
		Output: json.RawMessage(`"` + strings.Repeat("o", 20000) + `"`),
		Logs:   []core.LogEntry{{Message: strings.Repeat("l", 20000)}}}
	tests := []struct {
		name        string
		ev          core.Event
		wantTrimmed bool
	}{
		{"small job", small, false},
		{"big job", core.Event{Type: core.EventJobCompleted, Job: ptr(bigJob(20000))}, true},
		{"big execution", core.Event{Type: core.EventExecutionFinished, Execution: &exec}, true},
		{"worker", core.Event{Type: core.EventWorkerStatusChanged, Worker: &core.Worker{ID: "a-worker-1", Node: "a", Status: core.WorkerIdle}}, false},
	}
	const limit = 4000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, trimmed, err := encodeEvent(tt.ev, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > limit {
				t.Errorf("encoded %d bytes, limit %d", len(b), limit)
			}
			if trimmed != tt.wantTrimmed {
				t.Errorf("trimmed = %v, want %v", trimmed, tt.wantTrimmed)
			}
			var w wireEvent
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			if w.Trimmed != trimmed || w.Type != tt.ev.Type || w.TaskID() != tt.ev.TaskID() {
				t.Errorf("decoded %+v", w)
			}
			switch {
			case w.Job != nil:
				if w.Job.ID != tt.ev.Job.ID || w.Job.Status != tt.ev.Job.Status || w.Job.Attempts != tt.ev.Job.Attempts || !w.Job.ProcessAt.Equal(tt.ev.Job.ProcessAt) {
					t.Errorf("job identity lost: %+v", w.Job)
				}
				if trimmed && (w.Job.Output != nil || w.Job.Metadata != nil || !utf8.ValidString(w.Job.ErrorMessage) || len(w.Job.ErrorMessage) > maxTrimmedString) {
					t.Errorf("job not trimmed: output %d bytes, message %d bytes", len(w.Job.Output), len(w.Job.ErrorMessage))
				}
			case w.Execution != nil:
				if w.Execution.ID != 9 || *w.Execution.JobID != 7 || w.Execution.Status != exec.Status {
					t.Errorf("execution identity lost: %+v", w.Execution)
				}
				if w.Execution.Output != nil || w.Execution.Logs != nil {
					t.Error("execution not trimmed")
				}
			}
		})
	}
	// The original is not modified by trimming.
	j := bigJob(20000)
	if _, _, err := encodeEvent(core.Event{Type: core.EventJobCompleted, Job: &j}, limit); err != nil || j.Output == nil || len(j.ErrorMessage) != 40000 {
		t.Errorf("trimming changed the publisher's snapshot (err %v)", err)
	}
	// A worker whose id alone is over the limit cannot be sent.
	huge := core.Event{Type: core.EventWorkerStatusChanged, Worker: &core.Worker{ID: strings.Repeat("w", 9000), Node: strings.Repeat("n", 9000)}}
	if _, _, err := encodeEvent(huge, 1000); err != errTooLarge {
		t.Errorf("oversized event: err = %v, want errTooLarge", err)
	}
}

// TestPack: events are packed in order into payloads within the limit, each
// a valid envelope.
func TestPack(t *testing.T) {
	p, err := newPacker("inst", "node-a", 2048)
	if err != nil {
		t.Fatal(err)
	}
	var encoded [][]byte
	for i := range 100 {
		b, _, err := encodeEvent(core.Event{Type: core.EventJobQueued, Job: &core.Job{ID: int64(i), Input: json.RawMessage(`{"pad":"` + strings.Repeat("p", i*7) + `"}`)}}, p.eventLimit())
		if err != nil {
			t.Fatal(err)
		}
		encoded = append(encoded, b)
	}
	payloads := p.pack(encoded)
	if len(payloads) < 2 {
		t.Fatalf("%d payloads: want several", len(payloads))
	}
	next := int64(0)
	for _, pl := range payloads {
		if len(pl) > 2048 {
			t.Errorf("payload of %d bytes, limit 2048", len(pl))
		}
		env, err := decode(pl)
		if err != nil {
			t.Fatal(err)
		}
		if env.V != wireVersion || env.Instance != "inst" || env.Node != "node-a" {
			t.Errorf("envelope %+v", env)
		}
		for _, ev := range env.Events {
			if ev.Job.ID != next {
				t.Fatalf("event %d out of order, want %d", ev.Job.ID, next)
			}
			next++
		}
	}
	if next != 100 {
		t.Errorf("%d events unpacked, want 100", next)
	}
	if got := p.pack(nil); len(got) != 0 {
		t.Errorf("pack(nil) = %v", got)
	}
	if _, err := newPacker("inst", strings.Repeat("n", 3000), 2048); err == nil {
		t.Error("a node name leaving no room for events was accepted")
	}
}

func TestChannelFor(t *testing.T) {
	long := strings.Repeat("s", 60)
	tests := map[string]string{
		"":                  DefaultChannel,
		"public":            DefaultChannel,
		"ratchet_test_abcd": DefaultChannel + "_ratchet_test_abcd",
	}
	for schema, want := range tests {
		if got := ChannelFor(schema); got != want {
			t.Errorf("ChannelFor(%q) = %q, want %q", schema, got, want)
		}
	}
	if got := ChannelFor(long); len(got) > maxChannelLen || got == ChannelFor(long+"x") {
		t.Errorf("ChannelFor(60 bytes) = %q: want a distinct name of at most %d bytes", got, maxChannelLen)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := []Config{
		{},                            // no node
		{Node: "a", MaxPayload: 8000}, // PostgreSQL's bound
		{Node: "a", MaxPayload: 100},  // no room
		{Node: "a", QueueSize: -1},    // negative
		{Node: "a", Channel: strings.Repeat("c", 64)},
	}
	for _, c := range bad {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
	c, err := Config{Node: "a"}.withDefaults()
	if err != nil || c.MaxPayload != DefaultMaxPayload || c.QueueSize != DefaultQueueSize || c.Reconnect.InitialDelay == 0 {
		t.Errorf("defaults: %+v, %v", c, err)
	}
}

// FuzzDecode: no payload makes decoding panic, and what decodes encodes
// again.
func FuzzDecode(f *testing.F) {
	p, _ := newPacker("i", "n", DefaultMaxPayload)
	b, _, _ := encodeEvent(core.Event{Type: core.EventJobQueued, Job: &core.Job{ID: 1}}, p.eventLimit())
	f.Add(p.pack([][]byte{b})[0])
	f.Add(`{"v":1,"e":[{"type":"worker.status_changed","worker":{"id":"x"}}]}`)
	f.Add(`{"v":2}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, payload string) {
		env, err := decode(payload)
		if err != nil {
			return
		}
		if _, err := json.Marshal(env); err != nil {
			t.Errorf("re-encoding %q: %v", payload, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
