package dispatcher

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/plugin/host"
	"github.com/ratchet-go/ratchet/plugin/sdk"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// ExecuteRequest is one synchronous execution.
type ExecuteRequest struct {
	Task  core.Task
	Input json.RawMessage
	// Timeout bounds the execution (the request's timeout_seconds); the
	// task's own timeout and execution.max_execution_duration still apply.
	Timeout time.Duration
}

// ExecuteResult is a finished synchronous execution; Err is the task's
// failure (nil on success), with the HTTP status of an HttpError kept.
type ExecuteResult struct {
	Execution core.Execution
	Err       *core.Error
}

// Execute runs a task now, outside any job: an execution record is created
// running, the task runs on the next free worker of the pool, and the
// record is finished with the result. A task failure is not an error: the
// returned execution is failed (or cancelled) with its error type and
// message. The error is set only when no execution record could be made
// or the task has no code.
func (d *Dispatcher) Execute(ctx context.Context, req ExecuteRequest) (ExecuteResult, error) {
	d.mu.Lock()
	if d.state != stateStarted {
		d.mu.Unlock()
		return ExecuteResult{}, core.NewError(core.KindServiceUnavailable, "the dispatcher is not running")
	}
	d.syncRuns.Add(1)
	d.mu.Unlock()
	defer d.syncRuns.Done()

	plugin, isPlugin := pluginOf(req.Task)
	var content worker.Task
	if !isPlugin {
		var err error
		if content, err = d.contents.Load(ctx, req.Task); err != nil {
			return ExecuteResult{}, err
		}
	}
	started := d.cfg.Now().UTC()
	exec, err := d.store.Executions().Create(ctx, core.Execution{
		TaskID: req.Task.ID, TaskName: req.Task.Name, TaskVersion: req.Task.Version,
		Status: core.ExecutionRunning, Input: req.Input, Attempt: 1,
		QueuedAt: started, StartedAt: &started,
	})
	if err != nil {
		return ExecuteResult{}, err
	}
	var (
		res     worker.Result
		execErr error
	)
	if isPlugin {
		res = d.runPlugin(ctx, pluginCall{
			plugin: plugin, task: req.Task, input: req.Input, timeout: req.Timeout,
			ec: sdk.ExecContext{
				ExecutionID: exec.ID, ExecutionUUID: exec.UUID,
				TaskID: req.Task.ID, TaskName: req.Task.Name, Attempt: 1,
			},
		})
		exec.WorkerID = host.SourcePrefix + plugin
	} else {
		limits := d.cfg.Limits
		limits.Timeout = req.Timeout
		res, execErr = d.pool.Execute(ctx, worker.Request{
			Task:  content,
			Input: req.Input,
			Context: worker.ExecContext{
				ExecutionID: execIDString(exec.ID),
				TaskID:      req.Task.ID,
				TaskName:    req.Task.Name,
				TaskVersion: req.Task.Version,
				Attempt:     1,
			},
			Limits: limits,
		})
		exec.WorkerID = d.workerOf(res)
	}
	end := d.cfg.Now().UTC()
	ms := end.Sub(started).Milliseconds()
	exec.CompletedAt, exec.DurationMS = &end, &ms
	exec.Logs, exec.HTTPRequests = res.Logs, res.HTTPRequests
	fail := res.Err
	if execErr != nil {
		fail = asCoreError(execErr)
	}
	if fail == nil {
		exec.Status, exec.Output = core.ExecutionCompleted, res.Output
	} else {
		exec.Status = core.ExecutionFailed
		if fail.Kind == core.KindCancelled {
			exec.Status = core.ExecutionCancelled
		}
		exec.ErrorType, exec.ErrorMessage = string(fail.Kind), fail.Message
		if len(fail.Details) > 0 {
			if b, err := json.Marshal(fail.Details); err == nil {
				exec.ErrorDetails = b
			}
		}
	}
	// Record the end even when the caller went away.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	fin, err := d.store.Executions().Finish(fctx, exec)
	if err != nil {
		return ExecuteResult{Execution: exec, Err: fail}, err
	}
	d.publish(ctx, core.Event{Type: core.EventExecutionFinished, Execution: &fin})
	return ExecuteResult{Execution: fin, Err: fail}, nil
}
