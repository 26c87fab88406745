package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// Pool is what the dispatcher needs of the worker pool; *pool.Pool
// implements it.
type Pool interface {
	Execute(ctx context.Context, req worker.Request) (worker.Result, error)
	Cancel(executionID string) bool
	Size() int
	Workers() []core.Worker
}

// Deliverer sends a completed job's output to its destinations;
// *delivery.Deliverer implements it.
type Deliverer interface {
	Deliver(ctx context.Context, job *core.Job, exec *core.Execution, taskName string, dests []core.OutputDestination) []core.DeliveryResult
}

// Defaults of Config.
const (
	DefaultBatchSize     = 10
	DefaultLeaseDuration = 60 * time.Second
	DefaultPollInterval  = 5 * time.Second
	DefaultReclaimEvery  = 30 * time.Second
	DefaultMaxRetryDelay = time.Hour
	DefaultRetryJitter   = 0.1
	// DefaultRecordDelay is how long the completer waits for more
	// results while short attempts run.
	DefaultRecordDelay = 2 * time.Millisecond
	// DefaultShortJob is the mean attempt duration under which the
	// dispatcher claims ahead of free workers.
	DefaultShortJob = 20 * time.Millisecond
)

// Config configures a Dispatcher. Zero fields take the defaults above.
type Config struct {
	// Node names this process in leases (lease_owner). It must be stable
	// across restarts of the same node so that Start can take back what a
	// dead process held. Required.
	Node string
	// BatchSize bounds one claim (server.job_queue.max_dequeue_batch_size).
	BatchSize int
	// Prefetch is how many jobs may be claimed beyond the free workers
	// while attempts are short (see ShortJob); 0 means 2·BatchSize,
	// negative means none.
	Prefetch int
	// ShortJob: while the mean attempt takes less, the dispatcher claims
	// ahead (Prefetch). 0 means DefaultShortJob.
	ShortJob time.Duration
	// RecordDelay: while short attempts (see ShortJob) are running, the
	// completer waits this long for more results before it records what
	// it has, so that one transaction records many. An idle dispatcher
	// records a result at once. 0 means DefaultRecordDelay, negative
	// means no wait.
	RecordDelay time.Duration
	// LeaseDuration is the lease of a claimed job, extended every third of
	// it while the job runs.
	LeaseDuration time.Duration
	// PollInterval is the safety poll for work this process was not told
	// about (other nodes); negative disables it.
	PollInterval time.Duration
	// ReclaimEvery is how often expired leases of any node are reclaimed;
	// negative disables it (Start still reclaims once).
	ReclaimEvery time.Duration
	// MaxRetryDelay caps the backoff between attempts of a job.
	MaxRetryDelay time.Duration
	// RetryJitter spreads retry delays by ±RetryJitter; negative means none.
	RetryJitter float64
	// Limits bound every execution (execution.* config); a job's
	// timeout_seconds sets Limits.Timeout.
	Limits worker.Limits
	// Publisher receives job and execution events; nil publishes nothing.
	Publisher core.Publisher
	// Subscriber, when set, wakes the dispatcher for job.queued events
	// published by others (the scheduler, other nodes).
	Subscriber core.Subscriber
	// Deliverer receives completed jobs' outputs; nil delivers nothing.
	Deliverer Deliverer
	// ShouldDeliver decides whether a completed job goes to the
	// Deliverer; nil means when the job has output destinations.
	ShouldDeliver func(*core.Job) bool
	// Contents loads task code; nil means an uncached loader over the store.
	Contents *Contents
	// Plugins runs the tasks whose source is "plugin:<name>"; nil fails
	// them with ServiceUnavailableError.
	Plugins Plugins
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Node == "" {
		return c, errors.New("dispatcher: Config.Node is required: pass the node name leases are held under (config or host name)")
	}
	if c.BatchSize < 0 || c.LeaseDuration < 0 || c.MaxRetryDelay < 0 {
		return c, fmt.Errorf("dispatcher: BatchSize, LeaseDuration and MaxRetryDelay must not be negative")
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	switch {
	case c.Prefetch == 0:
		c.Prefetch = 2 * c.BatchSize
	case c.Prefetch < 0:
		c.Prefetch = 0
	}
	if c.ShortJob == 0 {
		c.ShortJob = DefaultShortJob
	}
	switch {
	case c.RecordDelay == 0:
		c.RecordDelay = DefaultRecordDelay
	case c.RecordDelay < 0:
		c.RecordDelay = 0
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = DefaultLeaseDuration
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ReclaimEvery == 0 {
		c.ReclaimEvery = DefaultReclaimEvery
	}
	if c.MaxRetryDelay == 0 {
		c.MaxRetryDelay = DefaultMaxRetryDelay
	}
	switch {
	case c.RetryJitter == 0:
		c.RetryJitter = DefaultRetryJitter
	case c.RetryJitter < 0:
		c.RetryJitter = 0
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
