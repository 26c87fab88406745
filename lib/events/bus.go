package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// DefaultBufferSize is the per-subscription buffer used when
// Config.BufferSize is 0.
const DefaultBufferSize = 256

// Forwarder sends events published on this node to the other nodes (the
// cross-node transport). Forward is called on the publisher's goroutine for
// every event published through Bus.Publish, never for events given to
// Bus.Deliver; it must not block.
type Forwarder interface {
	Forward(ctx context.Context, ev core.Event)
}

// ForwarderFunc adapts a function to a Forwarder.
type ForwarderFunc func(ctx context.Context, ev core.Event)

// Forward calls f.
func (f ForwarderFunc) Forward(ctx context.Context, ev core.Event) { f(ctx, ev) }

// Config configures a Bus. Every field is optional.
type Config struct {
	// BufferSize is each subscription's buffer, in events. 0 means
	// DefaultBufferSize; it must not be negative.
	BufferSize int
	// Node is stamped on published events whose Node is empty.
	Node string
	// Forwarder, when set, receives every event published on this node.
	Forwarder Forwarder
	// Logger receives drop warnings and filter panics. nil discards.
	Logger *slog.Logger
	// Now stamps events whose Time is zero. nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.BufferSize < 0 {
		return c, fmt.Errorf("events: buffer size must not be negative, got %d", c.BufferSize)
	}
	if c.BufferSize == 0 {
		c.BufferSize = DefaultBufferSize
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}

// Stats are the bus's counters since it was created.
type Stats struct {
	// Subscribers is the number of open subscriptions.
	Subscribers int `json:"subscribers"`
	// Published counts events given to Publish or Deliver while the bus was open.
	Published uint64 `json:"published"`
	// Delivered counts events put into a subscription's buffer.
	Delivered uint64 `json:"delivered"`
	// Dropped counts events a subscription matched but had no room for.
	Dropped uint64 `json:"dropped"`
}

// Bus is an in-process publish/subscribe bus. It is safe for concurrent use.
// Create one with New.
type Bus struct {
	cfg Config

	mu     sync.Mutex // serialises changes to subs and closed
	subs   atomic.Pointer[[]*subscription]
	closed atomic.Bool
	nextID uint64

	published atomic.Uint64
	delivered atomic.Uint64
	dropped   atomic.Uint64
}

var (
	_ core.Publisher  = (*Bus)(nil)
	_ core.Subscriber = (*Bus)(nil)
)

// New returns an open bus, or an error when cfg is invalid.
func New(cfg Config) (*Bus, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Bus{cfg: cfg}
	b.subs.Store(&[]*subscription{})
	return b, nil
}

// Publish stamps ev with the time (when zero) and the node (when empty),
// hands it to every matching subscription without blocking, then to the
// Forwarder. After Close it does nothing.
func (b *Bus) Publish(ctx context.Context, ev core.Event) {
	if b.closed.Load() {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = b.cfg.Now()
	}
	if ev.Node == "" {
		ev.Node = b.cfg.Node
	}
	b.fanOut(ev)
	if f := b.cfg.Forwarder; f != nil {
		f.Forward(ctx, ev)
	}
}

// Deliver hands ev, received from another node, to the matching local
// subscriptions only: it never calls the Forwarder. After Close it does
// nothing.
func (b *Bus) Deliver(ev core.Event) {
	if b.closed.Load() {
		return
	}
	b.fanOut(ev)
}

func (b *Bus) fanOut(ev core.Event) {
	b.published.Add(1)
	for _, s := range *b.subs.Load() {
		if !b.matches(s, ev) {
			continue
		}
		switch s.send(ev) {
		case sent:
			b.delivered.Add(1)
		case dropped:
			b.dropped.Add(1)
		}
	}
}

// matches runs s's filter, turning a panic into "no match".
func (b *Bus) matches(s *subscription, ev core.Event) (ok bool) {
	if s.filter == nil {
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			ok = false
			b.cfg.Logger.Error("event filter panicked",
				slog.Uint64("subscription", s.id), slog.String("event", string(ev.Type)),
				slog.Any("panic", r))
		}
	}()
	return s.filter(ev)
}

// Subscribe receives the events for which filter returns true (every event
// when filter is nil) into a buffer of Config.BufferSize. See
// SubscribeBuffered.
func (b *Bus) Subscribe(ctx context.Context, filter func(core.Event) bool) (<-chan core.Event, func()) {
	return b.SubscribeBuffered(ctx, filter, b.cfg.BufferSize)
}

// SubscribeBuffered is Subscribe with its own buffer size (values below 1
// mean 1). The returned channel is closed exactly once: by cancel, when ctx
// ends, or by Close. cancel is idempotent. Subscribing to a closed bus, or
// with a context that has already ended, returns a closed channel.
func (b *Bus) SubscribeBuffered(ctx context.Context, filter func(core.Event) bool, size int) (<-chan core.Event, func()) {
	s := &subscription{
		filter: filter,
		ch:     make(chan core.Event, max(size, 1)),
		logger: b.cfg.Logger,
	}
	b.mu.Lock()
	if b.closed.Load() || ctx.Err() != nil {
		b.mu.Unlock()
		s.close()
		return s.ch, func() {}
	}
	b.nextID++
	s.id = b.nextID
	old := *b.subs.Load()
	subs := make([]*subscription, len(old), len(old)+1)
	copy(subs, old)
	subs = append(subs, s)
	b.subs.Store(&subs)
	b.mu.Unlock()

	var once sync.Once
	var stop atomic.Pointer[func() bool]
	cancel := func() {
		once.Do(func() {
			if f := stop.Load(); f != nil {
				(*f)()
			}
			b.remove(s)
			s.close()
		})
	}
	// When ctx ends before stop is stored, cancel runs without it: the
	// AfterFunc has fired already, there is nothing to stop.
	f := context.AfterFunc(ctx, cancel)
	stop.Store(&f)
	return s.ch, cancel
}

// remove takes s out of the subscription list.
func (b *Bus) remove(s *subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.subs.Load()
	subs := make([]*subscription, 0, len(old))
	for _, o := range old {
		if o != s {
			subs = append(subs, o)
		}
	}
	b.subs.Store(&subs)
}

// Close ends every subscription (closing its channel) and makes later
// Publish, Deliver and Subscribe calls no-ops. It is idempotent. It does not
// close the Forwarder, which belongs to whoever created it.
func (b *Bus) Close() {
	b.mu.Lock()
	if b.closed.Swap(true) {
		b.mu.Unlock()
		return
	}
	subs := *b.subs.Load()
	b.subs.Store(&[]*subscription{})
	b.mu.Unlock()
	for _, s := range subs {
		s.close()
	}
}

// Stats returns the bus's counters.
func (b *Bus) Stats() Stats {
	return Stats{
		Subscribers: len(*b.subs.Load()),
		Published:   b.published.Load(),
		Delivered:   b.delivered.Load(),
		Dropped:     b.dropped.Load(),
	}
}

type sendResult int

const (
	sent sendResult = iota
	dropped
	gone
)

// subscription is one subscriber's filter and buffer.
type subscription struct {
	id     uint64
	filter func(core.Event) bool
	logger *slog.Logger

	mu       sync.Mutex // guards ch against send after close
	ch       chan core.Event
	closed   bool
	dropping bool   // the last send was dropped
	drops    uint64 // events this subscription dropped
}

func (s *subscription) send(ev core.Event) sendResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return gone
	}
	select {
	case s.ch <- ev:
		s.dropping = false
		return sent
	default:
	}
	s.drops++
	if !s.dropping {
		// Warn once per burst of drops, not once per event.
		s.dropping = true
		s.logger.Warn("event subscriber is too slow: dropping events",
			slog.Uint64("subscription", s.id), slog.String("event", string(ev.Type)),
			slog.Int("buffer", cap(s.ch)), slog.Uint64("dropped_total", s.drops))
	}
	return dropped
}

func (s *subscription) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
