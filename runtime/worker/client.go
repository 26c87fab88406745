package worker

import (
	"context"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker/workerpb"
)

// ErrGone is the error (KindWorkerCrash) of a call on a worker whose
// process has exited or whose connection broke: errors.Is(err, ErrGone).
var ErrGone = &core.Error{Kind: core.KindWorkerCrash}

// errBusy is answered by a worker asked to run a second execution at once.
var errBusy = status.Error(codes.FailedPrecondition, "worker is busy with another execution")

// maxSentHashes bounds the set of task hashes a Client remembers having
// sent; past it the set starts over, which costs at most one resend each.
const maxSentHashes = 4096

// Client is the host's side of one worker process. It sends a task's
// content only the first time that worker runs the task (and again if the
// worker evicted it). A Client is safe for concurrent use, but a worker runs
// one execution at a time.
type Client struct {
	rpc workerpb.WorkerClient
	// life ends when the worker process exits.
	life context.Context

	mu   sync.Mutex
	sent map[string]struct{}

	contentSends atomic.Int64
}

func newClient(rpc workerpb.WorkerClient, life context.Context) *Client {
	if life == nil {
		life = context.Background()
	}
	return &Client{rpc: rpc, life: life, sent: make(map[string]struct{})}
}

// NewClient wraps a gRPC client of the worker service (for tests and for
// callers that dial a worker themselves). life, when not nil, ends when the
// worker process exits; calls then fail with ErrGone.
func NewClient(rpc workerpb.WorkerClient, life context.Context) *Client {
	return newClient(rpc, life)
}

// Done is closed when the worker process has exited.
func (c *Client) Done() <-chan struct{} { return c.life.Done() }

// ContentSends counts the requests that carried a task's content.
func (c *Client) ContentSends() int64 { return c.contentSends.Load() }

// Execute runs req on the worker. The error is for executions that did not
// complete on the worker: ErrGone (KindWorkerCrash) when the process died or
// the connection broke, the context's cause when ctx ended first, an
// internal error otherwise. A task that failed is a Result with Err set and
// a nil error.
//
// Cancelling ctx abandons the call, it does not stop the task: use Cancel
// to interrupt a running execution.
func (c *Client) Execute(ctx context.Context, req Request) (Result, error) {
	if c.gone() {
		return Result{}, goneError(nil)
	}
	if req.Task.Hash == "" {
		req.Task.Hash = ContentHash(req.Task.Code, string(req.Task.InputSchema), string(req.Task.OutputSchema), req.Task.Timeout.String())
	}
	// A call ends as soon as the process does.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(c.life, func() { cancel(goneError(nil)) })
	defer stop()
	withContent := !c.hasSent(req.Task.Hash)
	for attempt := 0; ; attempt++ {
		if withContent {
			c.contentSends.Add(1)
		}
		pb, err := requestToPB(&req, withContent)
		if err != nil {
			return Result{}, core.WrapError(core.KindInvalidArgument, err, "")
		}
		resp, err := c.rpc.Execute(ctx, pb)
		if err != nil {
			return Result{}, c.callError(ctx, err)
		}
		if resp.GetOutcome() == workerpb.Outcome_OUTCOME_UNKNOWN_TASK {
			c.forget(req.Task.Hash)
			if withContent || attempt > 0 {
				return Result{}, core.Errorf(core.KindInternal, "worker does not accept the content of task %s (hash %s)", req.Task.Name, req.Task.Hash)
			}
			withContent = true
			continue
		}
		c.remember(req.Task.Hash)
		return resultFromPB(resp), nil
	}
}

// Cancel asks the worker to interrupt the execution with that id; reason is
// "cancelled", "timeout" or "shutdown". found tells whether it was running.
func (c *Client) Cancel(ctx context.Context, executionID, reason string) (found bool, err error) {
	resp, err := c.rpc.Cancel(ctx, &workerpb.CancelRequest{ExecutionId: executionID, Reason: reason})
	if err != nil {
		return false, c.callError(ctx, err)
	}
	return resp.GetFound(), nil
}

// Health asks the worker for its stats.
func (c *Client) Health(ctx context.Context) (Stats, error) {
	resp, err := c.rpc.Health(ctx, &workerpb.HealthRequest{})
	if err != nil {
		return Stats{}, c.callError(ctx, err)
	}
	return statsFromPB(resp), nil
}

func (c *Client) gone() bool { return c.life.Err() != nil }

// callError maps a gRPC failure to Ratchet's errors: this is the one place
// the host side turns gRPC codes into kinds.
func (c *Client) callError(ctx context.Context, err error) error {
	if ctx.Err() != nil && status.Code(err) == codes.Canceled || status.Code(err) == codes.DeadlineExceeded {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled:
		return goneError(err)
	case codes.FailedPrecondition:
		return core.WrapError(core.KindInternal, err, "worker refused the execution")
	}
	if c.gone() {
		return goneError(err)
	}
	return core.WrapError(core.KindInternal, err, "worker call failed")
}

func goneError(err error) error {
	return &core.Error{Kind: core.KindWorkerCrash, Message: "worker process exited or its connection broke", Err: err}
}

func (c *Client) hasSent(hash string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.sent[hash]
	return ok
}

func (c *Client) remember(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.sent[hash]; ok {
		return
	}
	if len(c.sent) >= maxSentHashes {
		clear(c.sent)
	}
	c.sent[hash] = struct{}{}
}

func (c *Client) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.sent, hash)
}
