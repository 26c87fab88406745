package core

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestJobTransitions(t *testing.T) {
	allowed := map[[2]JobStatus]bool{
		{JobQueued, JobProcessing}:    true,
		{JobQueued, JobCancelled}:     true,
		{JobProcessing, JobCompleted}: true,
		{JobProcessing, JobFailed}:    true,
		{JobProcessing, JobRetrying}:  true,
		{JobProcessing, JobCancelled}: true,
		{JobProcessing, JobQueued}:    true,
		{JobRetrying, JobProcessing}:  true,
		{JobRetrying, JobCancelled}:   true,
		{JobRetrying, JobQueued}:      true,
		{JobFailed, JobQueued}:        true,
		{JobCancelled, JobQueued}:     true,
	}
	for _, from := range JobStatuses {
		for _, to := range JobStatuses {
			want := allowed[[2]JobStatus{from, to}]
			t.Run(string(from)+"->"+string(to), func(t *testing.T) {
				if got := from.CanTransitionTo(to); got != want {
					t.Fatalf("CanTransitionTo = %v, want %v", got, want)
				}
				err := from.CheckTransition(to)
				if want && err != nil {
					t.Fatalf("CheckTransition: unexpected error %v", err)
				}
				if !want {
					if !errors.Is(err, ErrConflict) {
						t.Fatalf("CheckTransition = %v, want a conflict", err)
					}
					if HTTPStatusOf(err) != 409 {
						t.Fatalf("status = %d, want 409", HTTPStatusOf(err))
					}
				}
			})
		}
	}
}

func TestJobStatusPredicates(t *testing.T) {
	tests := []struct {
		s                     JobStatus
		terminal, cancellable bool
	}{
		{JobQueued, false, true},
		{JobProcessing, false, true},
		{JobRetrying, false, true},
		{JobCompleted, true, false},
		{JobFailed, true, false},
		{JobCancelled, true, false},
	}
	for _, tt := range tests {
		if tt.s.Terminal() != tt.terminal || tt.s.Cancellable() != tt.cancellable || !tt.s.Valid() {
			t.Errorf("%s: terminal=%v cancellable=%v valid=%v", tt.s, tt.s.Terminal(), tt.s.Cancellable(), tt.s.Valid())
		}
	}
	if JobStatus("bogus").Valid() {
		t.Error("bogus status is valid")
	}
}

func TestExecutionTransitions(t *testing.T) {
	allowed := map[[2]ExecutionStatus]bool{
		{ExecutionPending, ExecutionRunning}:   true,
		{ExecutionPending, ExecutionFailed}:    true,
		{ExecutionPending, ExecutionCancelled}: true,
		{ExecutionRunning, ExecutionCompleted}: true,
		{ExecutionRunning, ExecutionFailed}:    true,
		{ExecutionRunning, ExecutionCancelled}: true,
	}
	for _, from := range ExecutionStatuses {
		for _, to := range ExecutionStatuses {
			want := allowed[[2]ExecutionStatus{from, to}]
			if got := from.CanTransitionTo(to); got != want {
				t.Errorf("%s -> %s: got %v, want %v", from, to, got, want)
			}
			if err := from.CheckTransition(to); (err == nil) != want {
				t.Errorf("%s -> %s: CheckTransition = %v", from, to, err)
			}
		}
		if from.Terminal() != (len(executionTransitions[from]) == 0) {
			t.Errorf("%s: Terminal() disagrees with the transition table", from)
		}
	}
}

func TestParseStatuses(t *testing.T) {
	for _, in := range []string{"queued", "QUEUED", " Queued "} {
		if s, err := ParseJobStatus(in); err != nil || s != JobQueued {
			t.Errorf("ParseJobStatus(%q) = %q, %v", in, s, err)
		}
	}
	if _, err := ParseJobStatus("done"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ParseJobStatus(done) = %v, want invalid argument", err)
	}
	if s, err := ParseExecutionStatus("Running"); err != nil || s != ExecutionRunning {
		t.Errorf("ParseExecutionStatus = %q, %v", s, err)
	}
	if _, err := ParseExecutionStatus("queued"); err == nil {
		t.Error("ParseExecutionStatus(queued) succeeded")
	}
	if s, err := ParseWorkerStatus("BUSY"); err != nil || s != WorkerBusy {
		t.Errorf("ParseWorkerStatus = %q, %v", s, err)
	}
	if _, err := ParseWorkerStatus("x"); err == nil {
		t.Error("ParseWorkerStatus(x) succeeded")
	}
}

func TestParsePriority(t *testing.T) {
	tests := []struct {
		in      string
		want    Priority
		wantErr bool
	}{
		{"low", PriorityLow, false},
		{"Normal", PriorityNormal, false},
		{"HIGH", PriorityHigh, false},
		{"urgent", PriorityUrgent, false},
		{"critical", PriorityUrgent, false},
		{"Critical", PriorityUrgent, false},
		{"", PriorityNormal, false},
		{"highest", 0, true},
		{"3", 0, true},
	}
	for _, tt := range tests {
		got, err := ParsePriority(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParsePriority(%q) = %v, %v", tt.in, got, err)
		}
	}
	if !(PriorityLow < PriorityNormal && PriorityNormal < PriorityHigh && PriorityHigh < PriorityUrgent) {
		t.Error("priorities are not ordered numerically")
	}
}

func TestPriorityJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		P Priority `json:"p"`
	}{PriorityHigh})
	if err != nil || string(b) != `{"p":"high"}` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	var v struct {
		P Priority `json:"p"`
	}
	if err := json.Unmarshal([]byte(`{"p":"CRITICAL"}`), &v); err != nil || v.P != PriorityUrgent {
		t.Fatalf("unmarshal = %v, %v", v.P, err)
	}
	if err := json.Unmarshal([]byte(`{"p":"nope"}`), &v); err == nil {
		t.Fatal("unmarshal of an unknown priority succeeded")
	}
	if _, err := json.Marshal(Priority(9)); err == nil {
		t.Fatal("marshal of an undefined priority succeeded")
	}
}

func TestJobEventType(t *testing.T) {
	seen := map[EventType]bool{}
	for _, s := range JobStatuses {
		ev, ok := JobEventType(s)
		if !ok {
			t.Fatalf("no event for %s", s)
		}
		if seen[ev] {
			t.Fatalf("event %s used twice", ev)
		}
		seen[ev] = true
	}
	if _, ok := JobEventType("bogus"); ok {
		t.Fatal("event for an unknown status")
	}
}
