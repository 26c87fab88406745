package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ratchet-go/ratchet/resilience/lifecycle"
)

// journal records start and stop calls in order.
type journal struct {
	mu  sync.Mutex
	log []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.log = append(j.log, s)
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.log, " ")
}

func component(j *journal, name string, startErr, stopErr error) lifecycle.Component {
	return lifecycle.Hook{
		OnStart: func(context.Context) error { j.add("start:" + name); return startErr },
		OnStop:  func(context.Context) error { j.add("stop:" + name); return stopErr },
	}
}

func TestGroup(t *testing.T) {
	t.Parallel()
	errStart := errors.New("port in use")
	errStop := errors.New("stuck")
	tests := []struct {
		name        string
		startErrs   map[string]error
		stopErrs    map[string]error
		wantStart   string // error substring, "" for nil
		wantStop    string
		wantJournal string
	}{
		{
			name:        "starts in order and stops in reverse",
			wantJournal: "start:db start:pool start:http stop:http stop:pool stop:db",
		},
		{
			name:        "failed start stops the started ones in reverse",
			startErrs:   map[string]error{"http": errStart},
			wantStart:   "starting http: port in use",
			wantJournal: "start:db start:pool start:http stop:pool stop:db",
		},
		{
			name:        "first start fails",
			startErrs:   map[string]error{"db": errStart},
			wantStart:   "starting db: port in use",
			wantJournal: "start:db",
		},
		{
			name:        "stop goes on after an error",
			stopErrs:    map[string]error{"pool": errStop},
			wantStop:    "stopping pool: stuck",
			wantJournal: "start:db start:pool start:http stop:http stop:pool stop:db",
		},
		{
			name:        "rollback errors are reported with the start error",
			startErrs:   map[string]error{"http": errStart},
			stopErrs:    map[string]error{"db": errStop},
			wantStart:   "starting http: port in use\nstopping db: stuck",
			wantJournal: "start:db start:pool start:http stop:pool stop:db",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := &journal{}
			g := lifecycle.NewGroup()
			for _, name := range []string{"db", "pool", "http"} {
				g.Add(name, component(j, name, tt.startErrs[name], tt.stopErrs[name]))
			}
			err := g.Start(t.Context())
			checkErr(t, "Start", err, tt.wantStart)
			if tt.wantStart != "" {
				if !errors.Is(err, errStart) {
					t.Errorf("Start() = %v, want it to wrap %v", err, errStart)
				}
			} else {
				checkErr(t, "Stop", g.Stop(t.Context()), tt.wantStop)
			}
			if err := g.Stop(t.Context()); err != nil {
				t.Errorf("second Stop() = %v, want nil", err)
			}
			if got := j.String(); got != tt.wantJournal {
				t.Errorf("calls = %q, want %q", got, tt.wantJournal)
			}
			if err := g.Start(t.Context()); !errors.Is(err, lifecycle.ErrStopped) {
				t.Errorf("Start() after Stop = %v, want ErrStopped", err)
			}
		})
	}
}

func checkErr(t *testing.T, op string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s() = %v, want nil", op, err)
	case want != "" && (err == nil || err.Error() != want):
		t.Errorf("%s() = %v, want %q", op, err, want)
	}
}

func TestGroupStartTwice(t *testing.T) {
	t.Parallel()
	g := lifecycle.NewGroup()
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(t.Context()); !errors.Is(err, lifecycle.ErrAlreadyStarted) {
		t.Errorf("second Start() = %v, want ErrAlreadyStarted", err)
	}
	if err := g.Stop(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestGroupStopBeforeStart(t *testing.T) {
	t.Parallel()
	j := &journal{}
	g := lifecycle.NewGroup()
	g.Add("db", component(j, "db", nil, nil))
	if err := g.Stop(t.Context()); err != nil {
		t.Errorf("Stop() before Start = %v", err)
	}
	if got := j.String(); got != "" {
		t.Errorf("Stop before Start called %q", got)
	}
}

func TestGroupAddPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		add  func(g *lifecycle.Group)
	}{
		{"nil component", func(g *lifecycle.Group) { g.Add("x", nil) }},
		{"after start", func(g *lifecycle.Group) {
			_ = g.Start(context.Background())
			g.Add("x", lifecycle.Hook{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("Add did not panic")
				}
			}()
			tt.add(lifecycle.NewGroup())
		})
	}
}

func TestGroupWithRunners(t *testing.T) {
	t.Parallel()
	j := &journal{}
	g := lifecycle.NewGroup()
	for _, name := range []string{"scheduler", "dispatcher"} {
		r := lifecycle.NewRunner(func(ctx context.Context, stopping <-chan struct{}) error {
			select {
			case <-stopping:
				j.add("drained:" + name)
			case <-ctx.Done():
				j.add("cancelled:" + name)
			}
			return nil
		})
		g.Add(name, lifecycle.Hook{OnStart: r.Start, OnStop: r.Drain})
	}
	if err := g.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := j.String(), "drained:dispatcher drained:scheduler"; got != want {
		t.Errorf("loops ended as %q, want %q", got, want)
	}
}

func ExampleGroup() {
	g := lifecycle.NewGroup()
	ticks := make(chan struct{})
	r := lifecycle.NewRunner(func(ctx context.Context, stopping <-chan struct{}) error {
		for {
			select {
			case <-ticks:
				fmt.Println("tick")
			case <-stopping: // Drain: finish up and return
				fmt.Println("drained")
				return nil
			case <-ctx.Done(): // Stop, or the drain deadline passed
				return ctx.Err()
			}
		}
	})
	g.Add("ticker", lifecycle.Hook{OnStart: r.Start, OnStop: r.Drain})

	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	ticks <- struct{}{}
	if err := g.Stop(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// tick
	// drained
}
