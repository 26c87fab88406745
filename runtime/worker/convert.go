package worker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/worker/workerpb"
)

// This file is the one place that maps between the Go types and the wire.

func taskRefToPB(t *Task) *workerpb.TaskRef {
	return &workerpb.TaskRef{Hash: t.Hash, Name: t.Name, Version: t.Version, TaskId: t.ID}
}

func taskContentToPB(t *Task) *workerpb.TaskContent {
	return &workerpb.TaskContent{
		Code:         t.Code,
		InputSchema:  t.InputSchema,
		OutputSchema: t.OutputSchema,
		TimeoutMs:    t.Timeout.Milliseconds(),
	}
}

func taskFromPB(ref *workerpb.TaskRef, c *workerpb.TaskContent) Task {
	t := Task{
		Hash:    ref.GetHash(),
		ID:      ref.GetTaskId(),
		Name:    ref.GetName(),
		Version: ref.GetVersion(),
	}
	if c != nil {
		t.Code = c.GetCode()
		t.InputSchema = rawJSON(c.GetInputSchema())
		t.OutputSchema = rawJSON(c.GetOutputSchema())
		t.Timeout = ms(c.GetTimeoutMs())
	}
	return t
}

func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

func requestToPB(r *Request, withContent bool) (*workerpb.ExecuteRequest, error) {
	l := &r.Limits
	pb := &workerpb.ExecuteRequest{
		Task:  taskRefToPB(&r.Task),
		Input: r.Input,
		Context: &workerpb.ExecutionContext{
			ExecutionId: r.Context.ExecutionID,
			JobId:       r.Context.JobID,
			TaskId:      r.Context.TaskID,
			TaskName:    r.Context.TaskName,
			TaskVersion: r.Context.TaskVersion,
			Attempt:     int32(r.Context.Attempt),
		},
		Limits: &workerpb.Limits{
			TimeoutMs:            l.Timeout.Milliseconds(),
			MaxDurationMs:        l.MaxDuration.Milliseconds(),
			MaxInputBytes:        l.MaxInputBytes,
			MaxOutputBytes:       l.MaxOutputBytes,
			SkipSchemaValidation: l.SkipSchemaValidation,
			MaxLogEntries:        int32(l.MaxLogEntries),
			Http: &workerpb.HTTPSettings{
				TimeoutMs:          l.HTTP.Timeout.Milliseconds(),
				UserAgent:          l.HTTP.UserAgent,
				AllowedHosts:       l.HTTP.AllowedHosts,
				DeniedHosts:        l.HTTP.DeniedHosts,
				InsecureSkipVerify: l.HTTP.InsecureSkipVerify,
				MaxRedirects:       int32(l.HTTP.MaxRedirects),
				MaxResponseBytes:   l.HTTP.MaxResponseBytes,
				MaxRequestBytes:    l.HTTP.MaxRequestBytes,
			},
		},
		NetworkDisabled: r.NetworkDisabled,
	}
	if len(r.Mocks) > 0 {
		b, err := json.Marshal(r.Mocks)
		if err != nil {
			return nil, fmt.Errorf("encoding fetch mocks: %w", err)
		}
		pb.Mocks = b
	}
	if withContent {
		pb.Content = taskContentToPB(&r.Task)
	}
	return pb, nil
}

// requestFromPB builds the request a worker runs; task is the resolved task
// (from the request's content or the worker's cache).
func requestFromPB(pb *workerpb.ExecuteRequest, task Task) (Request, error) {
	c := pb.GetContext()
	l := pb.GetLimits()
	h := l.GetHttp()
	r := Request{
		Task:  task,
		Input: rawJSON(pb.GetInput()),
		Context: ExecContext{
			ExecutionID: c.GetExecutionId(),
			JobID:       c.JobId,
			TaskID:      c.GetTaskId(),
			TaskName:    c.GetTaskName(),
			TaskVersion: c.GetTaskVersion(),
			Attempt:     int(c.GetAttempt()),
		},
		Limits: Limits{
			Timeout:              ms(l.GetTimeoutMs()),
			MaxDuration:          ms(l.GetMaxDurationMs()),
			MaxInputBytes:        l.GetMaxInputBytes(),
			MaxOutputBytes:       l.GetMaxOutputBytes(),
			SkipSchemaValidation: l.GetSkipSchemaValidation(),
			MaxLogEntries:        int(l.GetMaxLogEntries()),
			HTTP: HTTPSettings{
				Timeout:            ms(h.GetTimeoutMs()),
				UserAgent:          h.GetUserAgent(),
				AllowedHosts:       h.GetAllowedHosts(),
				DeniedHosts:        h.GetDeniedHosts(),
				InsecureSkipVerify: h.GetInsecureSkipVerify(),
				MaxRedirects:       int(h.GetMaxRedirects()),
				MaxResponseBytes:   h.GetMaxResponseBytes(),
				MaxRequestBytes:    h.GetMaxRequestBytes(),
			},
		},
		NetworkDisabled: pb.GetNetworkDisabled(),
	}
	if len(pb.GetMocks()) > 0 {
		if err := json.Unmarshal(pb.GetMocks(), &r.Mocks); err != nil {
			return r, fmt.Errorf("decoding fetch mocks: %w", err)
		}
	}
	return r, nil
}

func ms(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

func resultToPB(r *Result) *workerpb.ExecuteResponse {
	pb := &workerpb.ExecuteResponse{
		DurationNs: int64(r.Duration),
		Stats:      statsToPB(&r.Stats),
	}
	if r.Err != nil {
		pb.Outcome = workerpb.Outcome_OUTCOME_FAILED
		pb.Failure = errorToPB(r.Err)
	} else {
		pb.Outcome = workerpb.Outcome_OUTCOME_SUCCEEDED
		pb.Output = r.Output
	}
	if len(r.Logs) > 0 {
		pb.Logs = make([]*workerpb.LogEntry, len(r.Logs))
		for i, l := range r.Logs {
			pb.Logs[i] = &workerpb.LogEntry{TimeUnixNano: unixNano(l.Time), Level: l.Level, Message: l.Message}
		}
	}
	if len(r.HTTPRequests) > 0 {
		pb.HttpRequests = make([]*workerpb.HTTPRequestLog, len(r.HTTPRequests))
		for i, h := range r.HTTPRequests {
			pb.HttpRequests[i] = &workerpb.HTTPRequestLog{
				Method:            h.Method,
				Url:               h.URL,
				Status:            int32(h.Status),
				DurationMs:        h.DurationMS,
				Error:             h.Error,
				Mocked:            h.Mocked,
				StartedAtUnixNano: unixNano(h.StartedAt),
			}
		}
	}
	return pb
}

func resultFromPB(pb *workerpb.ExecuteResponse) Result {
	r := Result{
		Duration: time.Duration(pb.GetDurationNs()),
		Stats:    statsFromPB(pb.GetStats()),
	}
	switch pb.GetOutcome() {
	case workerpb.Outcome_OUTCOME_SUCCEEDED:
		r.Output = rawJSON(pb.GetOutput())
	case workerpb.Outcome_OUTCOME_FAILED:
		r.Err = errorFromPB(pb.GetFailure())
	default:
		r.Err = core.Errorf(core.KindInternal, "worker answered outcome %s", pb.GetOutcome())
	}
	if n := len(pb.GetLogs()); n > 0 {
		r.Logs = make([]core.LogEntry, n)
		for i, l := range pb.GetLogs() {
			r.Logs[i] = core.LogEntry{Time: fromUnixNano(l.GetTimeUnixNano()), Level: l.GetLevel(), Message: l.GetMessage()}
		}
	}
	if n := len(pb.GetHttpRequests()); n > 0 {
		r.HTTPRequests = make([]core.HTTPRequestLog, n)
		for i, h := range pb.GetHttpRequests() {
			r.HTTPRequests[i] = core.HTTPRequestLog{
				Method:     h.GetMethod(),
				URL:        h.GetUrl(),
				Status:     int(h.GetStatus()),
				DurationMS: h.GetDurationMs(),
				Error:      h.GetError(),
				Mocked:     h.GetMocked(),
				StartedAt:  fromUnixNano(h.GetStartedAtUnixNano()),
			}
		}
	}
	return r
}

func errorToPB(e *core.Error) *workerpb.Failure {
	f := &workerpb.Failure{Kind: string(e.Kind), Message: e.Message, Status: int32(e.Status)}
	if len(e.Details) > 0 {
		if b, err := json.Marshal(e.Details); err == nil {
			f.Details = b
		}
	}
	return f
}

func errorFromPB(f *workerpb.Failure) *core.Error {
	kind := core.ErrorKind(f.GetKind())
	if kind == "" {
		kind = core.KindInternal
	}
	e := &core.Error{Kind: kind, Message: f.GetMessage(), Status: int(f.GetStatus())}
	if len(f.GetDetails()) > 0 {
		var d map[string]any
		if err := json.Unmarshal(f.GetDetails(), &d); err == nil && len(d) > 0 {
			e.Details = d
		}
	}
	return e
}

func statsToPB(s *Stats) *workerpb.WorkerStats {
	return &workerpb.WorkerStats{
		Pid:                  int32(s.PID),
		StartedAtUnixNano:    unixNano(s.StartedAt),
		UptimeNs:             int64(s.Uptime),
		ExecutionsTotal:      s.ExecutionsTotal,
		FailuresTotal:        s.FailuresTotal,
		RssBytes:             s.RSSBytes,
		HeapBytes:            s.HeapBytes,
		CurrentExecutionId:   s.CurrentExecutionID,
		CachedTasks:          int32(s.CachedTasks),
		TaskContentsReceived: s.TaskContentsReceived,
		MemoryLimitBytes:     s.MemoryLimitBytes,
	}
}

func statsFromPB(pb *workerpb.WorkerStats) Stats {
	if pb == nil {
		return Stats{}
	}
	return Stats{
		PID:                  int(pb.GetPid()),
		StartedAt:            fromUnixNano(pb.GetStartedAtUnixNano()),
		Uptime:               time.Duration(pb.GetUptimeNs()),
		ExecutionsTotal:      pb.GetExecutionsTotal(),
		FailuresTotal:        pb.GetFailuresTotal(),
		RSSBytes:             pb.GetRssBytes(),
		HeapBytes:            pb.GetHeapBytes(),
		CurrentExecutionID:   pb.GetCurrentExecutionId(),
		CachedTasks:          int(pb.GetCachedTasks()),
		TaskContentsReceived: pb.GetTaskContentsReceived(),
		MemoryLimitBytes:     pb.GetMemoryLimitBytes(),
	}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
