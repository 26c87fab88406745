package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Component is a long-running part of the system that a Group starts and
// stops. Stop should finish in-flight work before ctx ends.
type Component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Hook makes a Component of two functions; nil ones do nothing. For a
// Runner: Hook{OnStart: r.Start, OnStop: r.Drain}.
type Hook struct {
	OnStart func(ctx context.Context) error
	OnStop  func(ctx context.Context) error
}

var _ Component = Hook{}

// Start calls OnStart.
func (h Hook) Start(ctx context.Context) error {
	if h.OnStart == nil {
		return nil
	}
	return h.OnStart(ctx)
}

// Stop calls OnStop.
func (h Hook) Stop(ctx context.Context) error {
	if h.OnStop == nil {
		return nil
	}
	return h.OnStop(ctx)
}

type member struct {
	name string
	c    Component
}

// Group starts components in the order they were added and stops them in
// reverse order. A Group runs once. Its methods are safe for concurrent use;
// Start and Stop do not overlap.
type Group struct {
	mu      sync.Mutex
	members []member
	started []member // started components, in start order
	state   groupState
}

type groupState int

const (
	groupNew groupState = iota
	groupStarted
	groupStopped
)

// NewGroup returns an empty group.
func NewGroup() *Group { return &Group{} }

// Add appends a component; name appears in errors. It panics when c is nil
// or the group was already started.
func (g *Group) Add(name string, c Component) {
	if c == nil {
		panic(fmt.Sprintf("lifecycle: Group.Add(%q) with a nil component", name))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != groupNew {
		panic(fmt.Sprintf("lifecycle: Group.Add(%q) after Start or Stop", name))
	}
	g.members = append(g.members, member{name, c})
}

// Start starts the components in order. When one fails, it stops those
// already started, in reverse order and with the same ctx, and returns the
// start error joined with any stop errors; the group is then stopped. It
// returns ErrAlreadyStarted or ErrStopped when called twice or after Stop.
func (g *Group) Start(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch g.state {
	case groupStarted:
		return ErrAlreadyStarted
	case groupStopped:
		return ErrStopped
	}
	g.state = groupStarted
	for _, m := range g.members {
		if err := m.c.Start(ctx); err != nil {
			startErr := fmt.Errorf("starting %s: %w", m.name, err)
			return errors.Join(startErr, g.stopLocked(ctx))
		}
		g.started = append(g.started, m)
	}
	return nil
}

// Stop stops the started components in reverse order, every one even when
// some fail, and returns their errors joined. It is idempotent and safe
// before Start.
func (g *Group) Stop(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopLocked(ctx)
}

func (g *Group) stopLocked(ctx context.Context) error {
	g.state = groupStopped
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		m := g.started[i]
		if err := m.c.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", m.name, err))
		}
	}
	g.started = nil
	return errors.Join(errs...)
}
