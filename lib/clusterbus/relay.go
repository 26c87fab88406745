package clusterbus

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/events"
	"github.com/ratchet-go/ratchet/resilience/lifecycle"
	"github.com/ratchet-go/ratchet/resilience/retry"
)

// DefaultChannel is the notification channel in the schema "public"; in any
// other schema the channel is DefaultChannel + "_" + the schema's name (see
// Config.Channel).
const DefaultChannel = "ratchet_events"

// Defaults for Config fields left zero.
const (
	// DefaultMaxPayload bounds one notification's payload, in bytes:
	// PostgreSQL refuses payloads of 8000 bytes or more.
	DefaultMaxPayload = 7900
	// DefaultQueueSize is the outbound queue, in events.
	DefaultQueueSize = 4096
	// DefaultMaxBatch is how many queued events one round trip sends at
	// most.
	DefaultMaxBatch = 256
	// DefaultLoadTimeout bounds filling one trimmed event from the
	// database.
	DefaultLoadTimeout = 5 * time.Second
	// DefaultConnectTimeout bounds one connection attempt.
	DefaultConnectTimeout = 5 * time.Second
)

// maxChannelLen is PostgreSQL's identifier limit (NAMEDATALEN - 1).
const maxChannelLen = 63

// Deliverer receives the events of other nodes: *events.Bus.
type Deliverer interface {
	Deliver(ev core.Event)
}

// Config configures a Relay. Node is required; every other field is
// optional.
type Config struct {
	// Node is this node's name, as given to the local bus (for logs and the
	// envelope; own notifications are recognised by a random instance id,
	// not by this name).
	Node string
	// Channel is the notification channel. "" derives it from the
	// connection's current schema (its search_path): DefaultChannel in
	// "public", DefaultChannel_<schema> elsewhere (hashed when longer than
	// 63 bytes), so that deployments sharing a database in separate
	// schemas do not hear each other.
	Channel string
	// LoadJob and LoadExecution read a job or an execution from the
	// database, to put back what a trimmed event left out. nil delivers
	// trimmed events as they came.
	LoadJob       func(ctx context.Context, id int64) (core.Job, error)
	LoadExecution func(ctx context.Context, id int64) (core.Execution, error)
	// OnReconnect runs on the listening goroutine after the listening
	// connection was lost and is back: events sent meanwhile were missed,
	// so consumers that act on them should look at the database again
	// (the app wakes its dispatcher). It must not block for long.
	OnReconnect func()
	// Logger receives connection errors and drop warnings. nil discards.
	Logger *slog.Logger
	// MaxPayload bounds one notification's payload in bytes. 0 means
	// DefaultMaxPayload; it must be between 2048 and 7999.
	MaxPayload int
	// QueueSize is the outbound queue in events; when it is full, Forward
	// drops events (counted, and logged once per burst). 0 means
	// DefaultQueueSize.
	QueueSize int
	// MaxBatch bounds the events one round trip sends. 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// Reconnect spaces connection attempts after errors. The zero value
	// means 100 ms doubling up to 10 s with 20% jitter; MaxAttempts is
	// ignored (a Relay retries until stopped).
	Reconnect retry.Policy
	// ConnectTimeout bounds one connection attempt. 0 means
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// LoadTimeout bounds filling one trimmed event. 0 means
	// DefaultLoadTimeout.
	LoadTimeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Node == "" {
		return c, errors.New("clusterbus: Config.Node is required: pass the node name the local events.Bus stamps on events")
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.MaxPayload < 2048 || c.MaxPayload >= 8000 {
		return c, fmt.Errorf("clusterbus: MaxPayload must be between 2048 and 7999 bytes, got %d", c.MaxPayload)
	}
	if c.QueueSize < 0 || c.MaxBatch < 0 {
		return c, fmt.Errorf("clusterbus: QueueSize and MaxBatch must not be negative, got %d and %d", c.QueueSize, c.MaxBatch)
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Reconnect.InitialDelay == 0 {
		c.Reconnect = retry.Policy{InitialDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second, Multiplier: 2, Jitter: 0.2}
	}
	if err := c.Reconnect.Validate(); err != nil {
		return c, fmt.Errorf("clusterbus: reconnect policy: %w", err)
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.LoadTimeout <= 0 {
		c.LoadTimeout = DefaultLoadTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if len(c.Channel) > maxChannelLen {
		return c, fmt.Errorf("clusterbus: channel %q is longer than %d bytes", c.Channel, maxChannelLen)
	}
	return c, nil
}

// Stats are a Relay's counters since it was created.
type Stats struct {
	// Sent counts events sent to the other nodes.
	Sent uint64 `json:"sent"`
	// Trimmed counts sent events whose bulky fields were left out.
	Trimmed uint64 `json:"trimmed"`
	// Dropped counts events not sent: queue full, too large, or a send
	// that failed.
	Dropped uint64 `json:"dropped"`
	// Received counts events from other nodes given to the local bus.
	Received uint64 `json:"received"`
	// Reconnects counts the listening connection's reconnections.
	Reconnects uint64 `json:"reconnects"`
}

// Relay carries events between the nodes sharing a PostgreSQL database:
// it forwards the local bus's events with pg_notify and delivers the other
// nodes' events to the local bus. Create one with New; it is an
// events.Forwarder and a lifecycle.Component.
type Relay struct {
	cfg      Config
	connCfg  *pgx.ConnConfig
	sink     Deliverer
	instance string
	packer   *packer
	queue    chan core.Event
	log      *slog.Logger

	mu      sync.Mutex
	state   int // stateNew, stateStarted, stateStopped
	channel string
	// listenCancel stops the listener. Closing stopping tells the sender
	// to flush once within flushCtx (set before the close); sendCancel
	// cuts that flush short.
	listenCancel context.CancelFunc
	sendCancel   context.CancelFunc
	stopping     chan struct{}
	flushCtx     context.Context
	listenDone   chan struct{}
	sendDone     chan struct{}

	closed     atomic.Bool // Stop was called: Forward drops silently
	dropping   atomic.Bool // the last Forward dropped (warn once per burst)
	sent       atomic.Uint64
	trimmed    atomic.Uint64
	dropped    atomic.Uint64
	received   atomic.Uint64
	reconnects atomic.Uint64
}

const (
	stateNew = iota
	stateStarted
	stateStopped
)

var (
	_ events.Forwarder    = (*Relay)(nil)
	_ lifecycle.Component = (*Relay)(nil)
	_ Deliverer           = (*events.Bus)(nil)
)

// New returns a Relay between the PostgreSQL database dsn names (a
// postgres:// URL or key=value DSN, as pgx parses it) and sink, the local
// bus. Nothing connects until Start.
func New(dsn string, sink Deliverer, cfg Config) (*Relay, error) {
	if sink == nil {
		return nil, errors.New("clusterbus.New: nil Deliverer: pass the local *events.Bus")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	connCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("clusterbus: invalid PostgreSQL DSN: %w", err)
	}
	if connCfg.ConnectTimeout == 0 || connCfg.ConnectTimeout > cfg.ConnectTimeout {
		connCfg.ConnectTimeout = cfg.ConnectTimeout
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	instance := hex.EncodeToString(id[:])
	p, err := newPacker(instance, cfg.Node, cfg.MaxPayload)
	if err != nil {
		return nil, err
	}
	return &Relay{
		cfg: cfg, connCfg: connCfg, sink: sink, instance: instance, packer: p,
		queue: make(chan core.Event, cfg.QueueSize),
		log:   cfg.Logger.With(slog.String("component", "clusterbus"), slog.String("node", cfg.Node)),
	}, nil
}

// Channel is the notification channel, known once Start succeeded.
func (r *Relay) Channel() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.channel
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	return Stats{
		Sent: r.sent.Load(), Trimmed: r.trimmed.Load(), Dropped: r.dropped.Load(),
		Received: r.received.Load(), Reconnects: r.reconnects.Load(),
	}
}

// Forward queues ev for the other nodes. It never blocks: when the queue is
// full the event is dropped (counted and logged once per burst). Events
// forwarded before Start are sent once it has started; after Stop they are
// dropped.
func (r *Relay) Forward(_ context.Context, ev core.Event) {
	if r.closed.Load() {
		return
	}
	select {
	case r.queue <- ev:
		r.dropping.Store(false)
	default:
		r.dropped.Add(1)
		if !r.dropping.Swap(true) {
			r.log.Warn("cluster event queue is full: dropping events for other nodes",
				slog.String("event", string(ev.Type)), slog.Int("queue", cap(r.queue)))
		}
	}
}

// Start connects, finds the channel (see Config.Channel), LISTENs on it and
// starts the listening and sending goroutines: once it returns, the other
// nodes' events reach the sink. A failure to connect is returned; later
// connection errors are logged and retried with backoff until Stop.
func (r *Relay) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case stateStarted:
		return lifecycle.ErrAlreadyStarted
	case stateStopped:
		return lifecycle.ErrStopped
	}
	conn, channel, err := r.listen(ctx, r.cfg.Channel)
	if err != nil {
		return err
	}
	r.state, r.channel = stateStarted, channel

	listenCtx, listenCancel := context.WithCancel(context.WithoutCancel(ctx))
	sendCtx, sendCancel := context.WithCancel(context.WithoutCancel(ctx))
	r.listenCancel, r.sendCancel = listenCancel, sendCancel
	r.stopping = make(chan struct{})
	r.listenDone, r.sendDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.listenDone)
		r.receiveLoop(listenCtx, conn, channel)
	}()
	go func() {
		defer close(r.sendDone)
		r.sendLoop(sendCtx, channel)
	}()
	r.log.InfoContext(ctx, "relaying events between nodes", slog.String("channel", channel))
	return nil
}

// Stop stops listening, sends what is still queued (until ctx ends) and
// closes the connections. It is idempotent and safe before Start.
func (r *Relay) Stop(ctx context.Context) error {
	r.closed.Store(true)
	r.mu.Lock()
	if r.state != stateStarted {
		r.state = stateStopped
		r.mu.Unlock()
		return nil
	}
	r.state = stateStopped
	r.mu.Unlock()

	r.listenCancel()
	r.flushCtx = ctx
	close(r.stopping)
	var err error
	select {
	case <-r.sendDone:
	case <-ctx.Done():
		err = fmt.Errorf("clusterbus: flushing queued events cut short: %w", context.Cause(ctx))
	}
	r.sendCancel()
	<-r.sendDone
	<-r.listenDone
	return err
}

// connect opens one connection.
func (r *Relay) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, r.connCfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	return conn, nil
}

// listen opens the listening connection, resolves channel ("" derives it
// from the current schema) and LISTENs on it.
func (r *Relay) listen(ctx context.Context, channel string) (*pgx.Conn, string, error) {
	conn, err := r.connect(ctx)
	if err != nil {
		return nil, "", err
	}
	if channel == "" {
		var schema string
		if err := conn.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
			return nil, "", fmt.Errorf("reading the current schema: %w", err)
		}
		channel = ChannelFor(schema)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, "", fmt.Errorf("listening on %s: %w", channel, err)
	}
	return conn, channel, nil
}

// ChannelFor is the channel derived for schema (see Config.Channel).
func ChannelFor(schema string) string {
	if schema == "" || schema == "public" {
		return DefaultChannel
	}
	ch := DefaultChannel + "_" + schema
	if len(ch) > maxChannelLen {
		sum := sha256.Sum256([]byte(schema))
		ch = DefaultChannel + "_" + hex.EncodeToString(sum[:8])
	}
	return ch
}

// receiveLoop waits for notifications on conn and delivers them; when the
// connection fails it reconnects with backoff and calls OnReconnect.
func (r *Relay) receiveLoop(ctx context.Context, conn *pgx.Conn, channel string) {
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	failures := 0
	for {
		if conn == nil {
			c, _, err := r.listen(ctx, channel)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				r.log.WarnContext(ctx, "reconnecting the cluster event listener failed",
					slog.String("error", err.Error()), slog.Int("attempt", failures))
				if !sleep(ctx, r.cfg.Reconnect.Delay(failures)) {
					return
				}
				continue
			}
			conn, failures = c, 0
			r.reconnects.Add(1)
			r.log.InfoContext(ctx, "cluster event listener reconnected: events sent meanwhile were missed")
			if f := r.cfg.OnReconnect; f != nil {
				f()
			}
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.WarnContext(ctx, "cluster event listener lost its connection",
				slog.String("error", err.Error()))
			_ = conn.Close(context.WithoutCancel(ctx))
			conn = nil
			failures++
			if !sleep(ctx, r.cfg.Reconnect.Delay(failures)) {
				return
			}
			continue
		}
		r.receive(ctx, n.Payload)
	}
}

// receive delivers one notification's events, unless this relay sent it.
func (r *Relay) receive(ctx context.Context, payload string) {
	env, err := decode(payload)
	if err != nil {
		r.log.WarnContext(ctx, "ignoring a malformed cluster event notification", slog.String("error", err.Error()))
		return
	}
	if env.V != wireVersion {
		r.log.DebugContext(ctx, "ignoring a cluster event notification of another version",
			slog.Int("version", env.V), slog.String("from", env.Node))
		return
	}
	if env.Instance == r.instance {
		return
	}
	for _, w := range env.Events {
		ev := w.Event
		if w.Trimmed {
			ev = r.fill(ctx, ev)
		}
		r.received.Add(1)
		r.sink.Deliver(ev)
	}
}

// fill puts back what trim left out of ev, read from the database: the
// fields that do not change (input, metadata, destinations) always, the
// outcome (output, error) when the row is still in the event's state.
// When loading fails, ev stays as it came.
func (r *Relay) fill(ctx context.Context, ev core.Event) core.Event {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.LoadTimeout)
	defer cancel()
	switch {
	case ev.Job != nil && r.cfg.LoadJob != nil:
		row, err := r.cfg.LoadJob(ctx, ev.Job.ID)
		if err != nil {
			r.log.DebugContext(ctx, "loading a trimmed event's job failed", slog.Int64("job_id", ev.Job.ID), slog.String("error", err.Error()))
			return ev
		}
		j := *ev.Job
		j.Input, j.Metadata, j.OutputDestinations = row.Input, row.Metadata, row.OutputDestinations
		j.TaskName, j.IdempotencyKey = row.TaskName, row.IdempotencyKey
		if row.Status == j.Status && row.Attempts == j.Attempts {
			j.Output, j.ErrorType, j.ErrorMessage, j.LeaseOwner = row.Output, row.ErrorType, row.ErrorMessage, row.LeaseOwner
		}
		ev.Job = &j
	case ev.Execution != nil && r.cfg.LoadExecution != nil:
		row, err := r.cfg.LoadExecution(ctx, ev.Execution.ID)
		if err != nil {
			r.log.DebugContext(ctx, "loading a trimmed event's execution failed", slog.Int64("execution_id", ev.Execution.ID), slog.String("error", err.Error()))
			return ev
		}
		x := *ev.Execution
		x.Input, x.TaskName, x.TaskVersion, x.WorkerID = row.Input, row.TaskName, row.TaskVersion, row.WorkerID
		if row.Status == x.Status {
			x.Output, x.ErrorType, x.ErrorMessage, x.ErrorDetails = row.Output, row.ErrorType, row.ErrorMessage, row.ErrorDetails
			x.Logs, x.HTTPRequests = row.Logs, row.HTTPRequests
		}
		ev.Execution = &x
	}
	return ev
}

// sendLoop sends queued events in batches on its own connection until
// Stop, then flushes the queue within the context Stop gave it.
func (r *Relay) sendLoop(ctx context.Context, channel string) {
	s := &sender{r: r, channel: channel}
	defer s.close()
	batch := make([]core.Event, 0, r.cfg.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case ev := <-r.queue:
			batch = append(batch, ev)
		case <-r.stopping:
			s.flush(r.flushCtx, ctx)
			return
		}
	fill:
		for len(batch) < r.cfg.MaxBatch {
			select {
			case ev := <-r.queue:
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		s.send(ctx, batch, true)
	}
}

// sender owns the sending connection.
type sender struct {
	r        *Relay
	channel  string
	conn     *pgx.Conn
	failures int
}

// notifySQL sends each element of $2 as one notification on channel $1, in
// order.
const notifySQL = "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p"

// send encodes and sends batch. On a connection error it reconnects with
// backoff and tries again while retry is set, ctx lasts and Stop has not
// been called; what it cannot send is dropped and counted.
func (s *sender) send(ctx context.Context, batch []core.Event, retry bool) {
	r := s.r
	encoded := make([][]byte, 0, len(batch))
	trimmed := 0
	for _, ev := range batch {
		b, t, err := encodeEvent(ev, r.packer.eventLimit())
		if err != nil {
			r.dropped.Add(1)
			r.log.ErrorContext(ctx, "not sending an event to other nodes", slog.String("event", string(ev.Type)), slog.String("error", err.Error()))
			continue
		}
		if t {
			trimmed++
		}
		encoded = append(encoded, b)
	}
	if len(encoded) == 0 {
		return
	}
	payloads := r.packer.pack(encoded)
	for {
		err := s.exec(ctx, payloads)
		if err == nil {
			r.sent.Add(uint64(len(encoded)))
			r.trimmed.Add(uint64(trimmed))
			s.failures = 0
			return
		}
		s.failures++
		if ctx.Err() != nil || !retry {
			r.dropped.Add(uint64(len(encoded)))
			return
		}
		r.log.WarnContext(ctx, "sending events to other nodes failed; retrying",
			slog.String("error", err.Error()), slog.Int("events", len(encoded)), slog.Int("attempt", s.failures))
		if !sleepUnless(ctx, r.stopping, r.cfg.Reconnect.Delay(s.failures)) {
			r.dropped.Add(uint64(len(encoded)))
			return
		}
	}
}

// exec sends payloads in one round trip, connecting first when needed;
// after an error the connection is closed, to be opened again next time.
func (s *sender) exec(ctx context.Context, payloads []string) error {
	if s.conn == nil {
		c, err := s.r.connect(ctx)
		if err != nil {
			return err
		}
		s.conn = c
	}
	if _, err := s.conn.Exec(ctx, notifySQL, s.channel, payloads); err != nil {
		s.close()
		return fmt.Errorf("notifying %s: %w", s.channel, err)
	}
	return nil
}

// flush sends what is queued, once, within flushCtx (or until ctx, which
// Stop cancels when flushCtx ends).
func (s *sender) flush(flushCtx, ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(flushCtx, cancel)
	defer stop()
	batch := make([]core.Event, 0, s.r.cfg.MaxBatch)
	for {
		batch = batch[:0]
	fill:
		for len(batch) < s.r.cfg.MaxBatch {
			select {
			case ev := <-s.r.queue:
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		if len(batch) == 0 || ctx.Err() != nil {
			return
		}
		s.send(ctx, batch, false)
	}
}

func (s *sender) close() {
	if s.conn != nil {
		_ = s.conn.Close(context.Background())
		s.conn = nil
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool { return sleepUnless(ctx, nil, d) }

// sleepUnless waits d, or until ctx ends or stop is closed; it reports
// whether it waited d.
func sleepUnless(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}
