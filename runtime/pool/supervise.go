package pool

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// watch waits for proc to exit, then replaces it.
func (p *Pool) watch(s *slot, proc *process) {
	<-proc.exited()
	defer proc.close()

	p.mu.Lock()
	defer p.mu.Unlock()
	if s.proc != proc {
		return
	}
	s.proc = nil
	p.removeIdleLocked(s)
	if p.state != stateStarted {
		p.setStatusLocked(s, core.WorkerStopped)
		return
	}
	if s.current != "" && p.running[s.current] != nil && p.running[s.current].proc == proc {
		// The execution's own goroutine reports the failure; the slot is
		// free for the replacement.
		s.current = ""
	}
	crash := proc.killedFor == killNone || proc.killedFor == killUnhealthy
	if !crash {
		p.log.Info("worker killed; replacing it",
			slog.String("worker_id", s.id), slog.Int("pid", proc.pid), slog.String("reason", proc.killedFor))
		p.setStatusLocked(s, core.WorkerStarting)
		p.scheduleStartLocked(s, 0)
		return
	}
	p.setStatusLocked(s, core.WorkerCrashed)
	if !p.cfg.RestartOnCrash {
		p.log.Error("worker crashed; restart_on_crash is off, so it stays down",
			slog.String("worker_id", s.id), slog.Int("pid", proc.pid), slog.String("reason", crashReason(proc)))
		s.down = true
		if !p.hasCapacityLocked() {
			p.failWaitersLocked(core.NewError(core.KindServiceUnavailable, "no worker is running: every worker crashed and restart_on_crash is off"))
		}
		return
	}
	delay := p.restartDelayLocked(s)
	p.log.Error("worker crashed; replacing it",
		slog.String("worker_id", s.id), slog.Int("pid", proc.pid),
		slog.String("reason", crashReason(proc)), slog.Duration("restart_delay", delay))
	p.scheduleStartLocked(s, delay)
}

func crashReason(proc *process) string {
	if proc.killedFor == killUnhealthy {
		return "stopped answering"
	}
	if st := proc.cmd.ProcessState; st != nil {
		return st.String()
	}
	return "exited"
}

// restartDelayLocked is how long to wait before the next crash restart of
// s: none for the first within the window, exponential backoff after, and
// when MaxRestartAttempts restarts already happened within the window, until
// the oldest leaves it.
func (p *Pool) restartDelayLocked(s *slot) time.Duration {
	now := time.Now()
	window := p.cfg.RestartWindow
	kept := s.recent[:0]
	for _, t := range s.recent {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	s.recent = kept
	n := len(s.recent)
	var delay time.Duration
	switch limit := p.cfg.MaxRestartAttempts; {
	case limit > 0 && n >= limit:
		delay = s.recent[n-limit].Add(window).Sub(now)
		p.log.Error("worker keeps crashing: restart limit reached",
			slog.String("worker_id", s.id), slog.Int("max_restart_attempts", limit),
			slog.Duration("window", window), slog.Duration("next_attempt_in", delay))
	case n > 0:
		delay = p.backoff.Delay(n)
	}
	s.recent = append(s.recent, now.Add(delay))
	return delay
}

// scheduleStartLocked starts a new process for s after delay.
func (p *Pool) scheduleStartLocked(s *slot, delay time.Duration) {
	p.bg.Go(func() {
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-p.superviseCtx.Done():
				return
			}
		}
		p.restart(s)
	})
}

func (p *Pool) restart(s *slot) {
	p.mu.Lock()
	if p.state != stateStarted {
		p.mu.Unlock()
		return
	}
	p.setStatusLocked(s, core.WorkerStarting)
	p.mu.Unlock()

	proc, err := p.spawn(s)

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != stateStarted {
		if proc != nil {
			proc.signalKill()
			p.bg.Go(proc.close)
		}
		return
	}
	if err != nil {
		p.setStatusLocked(s, core.WorkerCrashed)
		delay := p.restartDelayLocked(s)
		p.log.Error("worker failed to start; retrying",
			slog.String("worker_id", s.id), slog.Any("error", err), slog.Duration("retry_in", delay))
		p.scheduleStartLocked(s, delay)
		return
	}
	s.restarts++
	p.installLocked(s, proc)
}

// healthLoop checks every worker each HealthCheckInterval.
func (p *Pool) healthLoop() {
	t := time.NewTicker(p.cfg.HealthCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-p.superviseCtx.Done():
			return
		case <-t.C:
			p.checkHealth(p.superviseCtx)
		}
	}
}

// checkHealth asks every live worker for its stats; one that does not
// answer is killed and replaced.
func (p *Pool) checkHealth(ctx context.Context) {
	type target struct {
		s    *slot
		proc *process
	}
	p.mu.Lock()
	var targets []target
	for _, s := range p.slots {
		if s.proc != nil && s.proc.killedFor == killNone {
			targets = append(targets, target{s, s.proc})
		}
	}
	p.mu.Unlock()

	var wg sync.WaitGroup
	for _, tg := range targets {
		wg.Go(func() {
			hctx, cancel := context.WithTimeout(ctx, p.cfg.HealthCheckTimeout)
			defer cancel()
			st, err := tg.proc.wc.Health(hctx)
			if ctx.Err() != nil || tg.proc.isExited() {
				return // stopping, or the exit watcher has it
			}
			p.mu.Lock()
			if tg.s.proc != tg.proc {
				p.mu.Unlock()
				return
			}
			if err == nil {
				tg.s.lastHeartbeat = time.Now()
				tg.s.rss = st.RSSBytes
				p.mu.Unlock()
				return
			}
			p.setStatusLocked(tg.s, core.WorkerUnhealthy)
			p.mu.Unlock()
			p.log.Error("worker failed its health check; replacing it",
				slog.String("worker_id", tg.s.id), slog.Int("pid", tg.proc.pid), slog.Any("error", err))
			p.killProcess(tg.proc, killUnhealthy)
		})
	}
	wg.Wait()
}
