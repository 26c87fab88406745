package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"slices"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/pluginlog"
	"github.com/ratchet-go/ratchet/plugin/sdk"
)

// instance is one plugin executable and its current process. Fields after
// events are guarded by the manager's mutex.
type instance struct {
	m    *Manager
	cand Candidate
	log  *slog.Logger

	// firstStart is closed after the first start attempt, ok or not.
	firstStart chan struct{}
	events     chan core.Event

	delivered, dropped, failed atomic.Uint64

	state     State
	info      *sdk.Info
	rpc       *sdk.Client
	pid       int
	startedAt time.Time
	restarts  int
	failures  int
	lastErr   string
	lastErrAt time.Time
	// changed is closed and replaced on every state change.
	changed chan struct{}
}

func newInstance(m *Manager, c Candidate) *instance {
	return &instance{
		m:          m,
		cand:       c,
		log:        m.log.With(slog.String("plugin", c.Name)),
		firstStart: make(chan struct{}),
		events:     make(chan core.Event, m.cfg.EventQueueSize),
		state:      StateStarting,
		changed:    make(chan struct{}),
	}
}

// name is the described name, or the file name before Describe.
func (in *instance) name() string {
	if in.info != nil {
		return in.info.Name
	}
	return in.cand.Name
}

func (in *instance) statusLocked() Status {
	s := Status{
		Name:            in.name(),
		Path:            in.cand.Path,
		State:           in.state,
		PID:             in.pid,
		Restarts:        in.restarts,
		Failures:        in.failures,
		LastError:       in.lastErr,
		Tasks:           []string{},
		Events:          []core.EventType{},
		EventsDelivered: in.delivered.Load(),
		EventsDropped:   in.dropped.Load(),
		EventsFailed:    in.failed.Load(),
	}
	if in.info != nil {
		s.Version, s.Description = in.info.Version, in.info.Description
		for _, t := range in.info.Tasks {
			s.Tasks = append(s.Tasks, t.Name)
		}
		s.Events = append(s.Events, in.info.Events...)
	}
	if !in.startedAt.IsZero() && in.state == StateRunning {
		t := in.startedAt
		s.StartedAt = &t
	}
	if !in.lastErrAt.IsZero() {
		t := in.lastErrAt
		s.LastErrorAt = &t
	}
	return s
}

func (in *instance) setStateLocked(s State) {
	in.state = s
	close(in.changed)
	in.changed = make(chan struct{})
}

// setState changes the state and tells OnStatusChange.
func (in *instance) setState(s State, mutate func()) {
	in.m.mu.Lock()
	if mutate != nil {
		mutate()
	}
	in.setStateLocked(s)
	in.m.mu.Unlock()
	in.m.notify(in)
}

func (in *instance) recordErrorLocked(err error) {
	in.lastErr = err.Error()
	in.lastErrAt = time.Now()
}

// process is one running plugin process.
type process struct {
	client  *plugin.Client
	proto   plugin.ClientProtocol
	rpc     *sdk.Client
	cmd     *exec.Cmd
	pid     int
	info    sdk.Info
	started time.Time
}

// errPermanent marks a start failure that no restart can fix.
var errPermanent = errors.New("not retried")

// supervise starts the plugin and keeps it running until ctx ends.
func (in *instance) supervise(ctx context.Context) {
	first := true
	failures := 0 // consecutive
	defer func() {
		if first {
			close(in.firstStart)
		}
		in.m.mu.Lock()
		already := in.state == StateStopped
		in.m.mu.Unlock()
		if !already {
			in.setState(StateStopped, func() { in.rpc, in.pid = nil, 0 })
		}
	}()
	for {
		proc, err := in.start(ctx)
		if ctx.Err() != nil {
			if proc != nil {
				proc.client.Kill()
			}
			return
		}
		if err == nil {
			err = in.install(proc, first)
		}
		// The first start is over once its outcome is in the status: a
		// failure is recorded (state and error) before firstStart closes,
		// so that Manager.Start's caller sees it rather than "starting".
		firstDone := func() {
			if first {
				first = false
				close(in.firstStart)
			}
		}
		if err != nil {
			failures++
			if !in.backoff(ctx, err, failures, firstDone) {
				return
			}
			continue
		}
		firstDone()

		exitErr := in.run(ctx, proc)
		if exitErr == nil { // stopping
			return
		}
		if time.Since(proc.started) >= in.m.cfg.StableAfter {
			failures = 0
		}
		failures++
		if !in.backoff(ctx, exitErr, failures, nil) {
			return
		}
	}
}

// backoff records a failure and waits before the next start. It returns
// false when the plugin must stay down (failed, or stopping). recorded,
// when not nil, runs once the failure is in the status, before the wait.
func (in *instance) backoff(ctx context.Context, cause error, failures int, recorded func()) bool {
	if recorded == nil {
		recorded = func() {}
	}
	cfg := in.m.cfg
	if errors.Is(cause, errPermanent) || (cfg.MaxRestartAttempts > 0 && failures > cfg.MaxRestartAttempts) {
		in.log.Error("plugin failed; it stays down", slog.Any("error", cause), slog.Int("consecutive_failures", failures))
		in.setState(StateFailed, func() { in.recordErrorLocked(cause); in.failures = failures; in.rpc, in.pid = nil, 0 })
		recorded()
		<-ctx.Done()
		return false
	}
	delay := restartDelay(cfg.RestartDelay, cfg.MaxRestartDelay, failures)
	in.log.Error("plugin crashed or failed to start; restarting it",
		slog.Any("error", cause), slog.Int("consecutive_failures", failures), slog.Duration("restart_delay", delay))
	in.setState(StateRestarting, func() { in.recordErrorLocked(cause); in.failures = failures; in.rpc, in.pid = nil, 0 })
	recorded()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// restartDelay is base·2^(n-1), jittered by ±20%, at most max.
func restartDelay(base, maxDelay time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	jitter := time.Duration((rand.Float64()*0.4 - 0.2) * float64(d))
	return max(d+jitter, 0)
}

// start starts a process and reads its Describe.
func (in *instance) start(ctx context.Context) (*process, error) {
	cfg := in.m.cfg
	cmd := exec.Command(in.cand.Path)
	cmd.Env = append(baseEnv(), cfg.Env...)
	setParentDeathSignal(cmd)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          sdk.PluginSet(nil),
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     cfg.StartTimeout,
		Logger:           pluginlog.HCLog(in.log),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(sdk.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(sdk.MaxMessageBytes),
		)},
	})
	fail := func(err error) (*process, error) {
		client.Kill()
		return nil, fmt.Errorf("starting plugin %s: %w", in.cand.Path, err)
	}
	proto, err := client.Client()
	if err != nil {
		return fail(err)
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		return fail(err)
	}
	rpc, ok := raw.(*sdk.Client)
	if !ok {
		return fail(fmt.Errorf("plugin gave a %T, not an *sdk.Client", raw))
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()
	info, err := rpc.Describe(dctx)
	if err != nil {
		return fail(fmt.Errorf("describe: %w", err))
	}
	p := &process{client: client, proto: proto, rpc: rpc, cmd: cmd, info: info, started: time.Now()}
	if cmd.Process != nil {
		p.pid = cmd.Process.Pid
	}
	return p, nil
}

// install makes proc the plugin's running process, unless another plugin
// already uses its name.
func (in *instance) install(proc *process, first bool) error {
	m := in.m
	m.mu.Lock()
	for _, other := range m.plugins {
		if other != in && other.info != nil && other.info.Name == proc.info.Name && other.state != StateFailed {
			m.mu.Unlock()
			proc.client.Kill()
			return fmt.Errorf("plugin name %q is already used by %s: %w", proc.info.Name, other.cand.Path, errPermanent)
		}
	}
	info := proc.info
	info.Tasks = slices.Clone(info.Tasks)
	in.info = &info
	in.rpc, in.pid, in.startedAt = proc.rpc, proc.pid, proc.started
	if !first {
		in.restarts++
	}
	in.setStateLocked(StateRunning)
	m.mu.Unlock()
	in.log.Info("plugin running", slog.String("name", info.Name), slog.String("version", info.Version),
		slog.Int("pid", proc.pid), slog.Int("tasks", len(info.Tasks)), slog.Int("events", len(info.Events)))
	m.notify(in)
	return nil
}

// run waits for the process to exit (its error) or ctx to end (nil, after
// stopping the process), checking its health meanwhile.
func (in *instance) run(ctx context.Context, proc *process) error {
	var tick <-chan time.Time
	if iv := in.m.cfg.HealthCheckInterval; iv > 0 {
		t := time.NewTicker(iv)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			in.setState(StateStopped, func() { in.rpc, in.pid = nil, 0 })
			proc.client.Kill()
			return nil
		case <-proc.rpc.Done():
			proc.client.Kill() // releases go-plugin's resources
			return fmt.Errorf("plugin process exited: %s", exitReason(proc.cmd))
		case <-tick:
			if err := in.ping(ctx, proc); err != nil && ctx.Err() == nil {
				select {
				case <-proc.rpc.Done():
					continue // exited: the case above reports it
				default:
				}
				in.log.Error("plugin failed its health check; killing it", slog.Any("error", err))
				if proc.cmd.Process != nil {
					_ = proc.cmd.Process.Kill()
				}
				<-proc.rpc.Done()
				proc.client.Kill()
				return fmt.Errorf("plugin failed its health check: %w", err)
			}
		}
	}
}

// ping asks go-plugin's health service, bounded by HealthCheckTimeout.
func (in *instance) ping(ctx context.Context, proc *process) error {
	done := make(chan error, 1)
	go func() { done <- proc.proto.Ping() }()
	t := time.NewTimer(in.m.cfg.HealthCheckTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errors.New("no answer to ping within the health check timeout")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func exitReason(cmd *exec.Cmd) string {
	if st := cmd.ProcessState; st != nil {
		return st.String()
	}
	return "exited"
}

// deliverEvents sends queued events to the plugin, one at a time, until
// ctx ends.
func (in *instance) deliverEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-in.events:
			in.deliver(ctx, ev)
		}
	}
}

func (in *instance) deliver(ctx context.Context, ev core.Event) {
	var rpc *sdk.Client
	for {
		in.m.mu.Lock()
		st, changed := in.state, in.changed
		rpc = in.rpc
		in.m.mu.Unlock()
		if st == StateRunning && rpc != nil {
			break
		}
		if st == StateFailed || st == StateStopped {
			in.failed.Add(1)
			return
		}
		select { // starting or restarting: wait for it
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
	ectx, cancel := context.WithTimeout(ctx, in.m.cfg.EventTimeout)
	defer cancel()
	if err := rpc.HandleEvent(ectx, ev); err != nil {
		in.failed.Add(1)
		if ctx.Err() == nil {
			in.log.Warn("plugin did not handle an event", slog.String("event", string(ev.Type)), slog.Any("error", err))
		}
		return
	}
	in.delivered.Add(1)
}
