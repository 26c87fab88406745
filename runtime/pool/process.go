package pool

import (
	"fmt"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/ratchet-go/ratchet/plugin/pluginlog"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// Why a process was killed on purpose.
const (
	killNone      = ""
	killUnhealthy = "unhealthy" // counts as a crash
	killTimeout   = worker.ReasonTimeout
	killCancelled = worker.ReasonCancelled
	killShutdown  = worker.ReasonShutdown
)

// process is one worker process of a slot. Its fields after startedAt are
// guarded by the pool's mutex.
type process struct {
	client    *plugin.Client
	wc        *worker.Client
	cmd       *exec.Cmd
	pid       int
	startedAt time.Time

	killedFor string

	closeOnce sync.Once
}

// exited is closed when the process has exited.
func (p *process) exited() <-chan struct{} { return p.wc.Done() }

func (p *process) isExited() bool {
	select {
	case <-p.exited():
		return true
	default:
		return false
	}
}

// signalKill kills the process at once (SIGKILL).
func (p *process) signalKill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

// close ends the process gracefully when it still runs (go-plugin asks it
// to shut down, then kills it after 2 s), and releases go-plugin's
// resources. It blocks until the process has exited.
func (p *process) close() {
	p.closeOnce.Do(p.client.Kill)
}

// spawn starts a worker process for slot s.
func (pl *Pool) spawn(s *slot) (*process, error) {
	cmd := pl.cfg.Command(pl.procCtx)
	if cmd == nil {
		return nil, fmt.Errorf("starting worker %s: Config.Command returned nil", s.id)
	}
	env := worker.BaseEnv()
	env = append(env, worker.Settings{
		ID:            s.id,
		MemoryLimitMB: pl.cfg.MemoryLimitMB,
		TaskCacheSize: pl.cfg.TaskCacheSize,
		LogLevel:      pl.cfg.WorkerLogLevel,
	}.Environ()...)
	cmd.Env = append(env, cmd.Env...)
	setParentDeathSignal(cmd)

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  worker.Handshake,
		Plugins:          worker.PluginSet(),
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     pl.cfg.StartTimeout,
		Logger:           pluginlog.HCLog(pl.log.With("worker_id", s.id)),
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(worker.MaxMessageBytes),
			grpc.MaxCallSendMsgSize(worker.MaxMessageBytes),
		)},
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("starting worker %s: %w", s.id, err)
	}
	raw, err := rpc.Dispense(worker.PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("starting worker %s: %w", s.id, err)
	}
	wc, ok := raw.(*worker.Client)
	if !ok {
		client.Kill()
		return nil, fmt.Errorf("starting worker %s: plugin gave a %T, not a *worker.Client", s.id, raw)
	}
	pid := 0
	if cmd.Process != nil {
		pid = cmd.Process.Pid
	}
	return &process{client: client, wc: wc, cmd: cmd, pid: pid, startedAt: time.Now()}, nil
}
