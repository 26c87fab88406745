package graphql

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

// enum is the GraphQL form of a REST enum value: queued → QUEUED.
func enum[T ~string](v T) string { return strings.ToUpper(string(v)) }

func priorityEnum(p core.Priority) string { return strings.ToUpper(p.String()) }

// parsePriority reads a JobPriority value.
func parsePriority(s *string) (*core.Priority, error) {
	if s == nil {
		return nil, nil
	}
	p, err := core.ParsePriority(strings.ToLower(*s))
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func int32Ptr(v *int) *int32 {
	if v == nil {
		return nil
	}
	n := int32(*v)
	return &n
}

// taskResolver resolves a Task.
type taskResolver struct {
	r *root
	t core.Task
}

func (t *taskResolver) ID() gql.ID            { return idString(t.t.ID) }
func (t *taskResolver) UUID() string          { return t.t.UUID }
func (t *taskResolver) Name() string          { return t.t.Name }
func (t *taskResolver) Label() string         { return t.t.Label }
func (t *taskResolver) Version() string       { return t.t.Version }
func (t *taskResolver) Description() string   { return t.t.Description }
func (t *taskResolver) Author() string        { return t.t.Author }
func (t *taskResolver) Enabled() bool         { return t.t.Enabled }
func (t *taskResolver) TimeoutSeconds() int32 { return int32(t.t.Timeout / time.Second) }
func (t *taskResolver) InputSchema() *JSON    { return jsonOf(t.t.InputSchema) }
func (t *taskResolver) OutputSchema() *JSON   { return jsonOf(t.t.OutputSchema) }
func (t *taskResolver) Metadata() *JSON       { return jsonOf(t.t.Metadata) }
func (t *taskResolver) Source() string        { return t.t.Source }
func (t *taskResolver) LoadError() string     { return t.t.LoadError }
func (t *taskResolver) Checksum() string      { return t.t.Checksum }
func (t *taskResolver) CreatedAt() DateTime   { return dateTime(t.t.CreatedAt) }
func (t *taskResolver) UpdatedAt() DateTime   { return dateTime(t.t.UpdatedAt) }
func (t *taskResolver) Tags() []string {
	if t.t.Tags == nil {
		return []string{}
	}
	return t.t.Tags
}

type taskExecutionsArgs struct {
	Filter *[]filterInput
	Sort   *[]sortInput
	Offset *int32
	Limit  *int32
	Status *[]string
}

// Executions lists the task's executions, newest first by default.
func (t *taskResolver) Executions(ctx context.Context, args taskExecutionsArgs) (*executionListResolver, error) {
	la := listArgs{Filter: args.Filter, Sort: args.Sort, Offset: args.Offset, Limit: args.Limit}
	if la.Sort == nil || len(*la.Sort) == 0 {
		la.Sort = &[]sortInput{{Field: "id", Order: "DESC"}}
	}
	extra := url.Values{"task_id": {strconv.FormatInt(t.t.ID, 10)}}
	addEnums(extra, "status", args.Status)
	q, err := la.query(ctx, listquery.Executions, extra)
	if err != nil {
		return nil, err
	}
	page, err := t.r.svc.Executions().List(ctx, q)
	if err != nil {
		return nil, err
	}
	return t.r.executionList(page), nil
}

// jobResolver resolves a Job.
type jobResolver struct {
	r *root
	j core.Job
}

func (j *jobResolver) ID() gql.ID               { return idString(j.j.ID) }
func (j *jobResolver) UUID() string             { return j.j.UUID }
func (j *jobResolver) TaskID() gql.ID           { return idString(j.j.TaskID) }
func (j *jobResolver) TaskName() string         { return j.j.TaskName }
func (j *jobResolver) Status() string           { return enum(j.j.Status) }
func (j *jobResolver) Priority() string         { return priorityEnum(j.j.Priority) }
func (j *jobResolver) Input() *JSON             { return jsonOf(j.j.Input) }
func (j *jobResolver) Output() *JSON            { return jsonOf(j.j.Output) }
func (j *jobResolver) ErrorType() string        { return j.j.ErrorType }
func (j *jobResolver) ErrorMessage() string     { return j.j.ErrorMessage }
func (j *jobResolver) Attempts() int32          { return int32(j.j.Attempts) }
func (j *jobResolver) MaxRetries() int32        { return int32(j.j.MaxRetries) }
func (j *jobResolver) RetryDelaySeconds() int32 { return int32(j.j.RetryDelaySeconds) }
func (j *jobResolver) TimeoutSeconds() int32    { return int32(j.j.TimeoutSeconds) }
func (j *jobResolver) ProcessAt() DateTime      { return dateTime(j.j.ProcessAt) }
func (j *jobResolver) ScheduleID() *gql.ID      { return idPtr(j.j.ScheduleID) }
func (j *jobResolver) IdempotencyKey() string   { return j.j.IdempotencyKey }
func (j *jobResolver) ExecutionID() *gql.ID     { return idPtr(j.j.ExecutionID) }
func (j *jobResolver) CreatedAt() DateTime      { return dateTime(j.j.CreatedAt) }
func (j *jobResolver) StartedAt() *DateTime     { return dateTimePtr(j.j.StartedAt) }
func (j *jobResolver) CompletedAt() *DateTime   { return dateTimePtr(j.j.CompletedAt) }
func (j *jobResolver) Metadata() *JSON {
	if len(j.j.Metadata) == 0 {
		return nil
	}
	return jsonValue(j.j.Metadata)
}
func (j *jobResolver) OutputDestinations() []*destinationResolver {
	return destinations(j.j.OutputDestinations)
}

// Task looks the job's task up.
func (j *jobResolver) Task(ctx context.Context) (*taskResolver, error) {
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	t, err := j.r.svc.Tasks().Get(ctx, strconv.FormatInt(j.j.TaskID, 10))
	if err != nil {
		if core.KindOf(err) == core.KindNotFound {
			return nil, nil // deleted since
		}
		return nil, err
	}
	return &taskResolver{j.r, t}, nil
}

// Execution looks the job's latest execution up.
func (j *jobResolver) Execution(ctx context.Context) (*executionResolver, error) {
	if j.j.ExecutionID == nil {
		return nil, nil
	}
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	e, err := j.r.svc.Executions().Get(ctx, strconv.FormatInt(*j.j.ExecutionID, 10))
	if err != nil {
		if core.KindOf(err) == core.KindNotFound {
			return nil, nil
		}
		return nil, err
	}
	return &executionResolver{e}, nil
}

// executionResolver resolves an Execution.
type executionResolver struct{ e core.Execution }

func (e *executionResolver) ID() gql.ID             { return idString(e.e.ID) }
func (e *executionResolver) UUID() string           { return e.e.UUID }
func (e *executionResolver) TaskID() gql.ID         { return idString(e.e.TaskID) }
func (e *executionResolver) TaskName() string       { return e.e.TaskName }
func (e *executionResolver) TaskVersion() string    { return e.e.TaskVersion }
func (e *executionResolver) JobID() *gql.ID         { return idPtr(e.e.JobID) }
func (e *executionResolver) Status() string         { return enum(e.e.Status) }
func (e *executionResolver) Input() *JSON           { return jsonOf(e.e.Input) }
func (e *executionResolver) Output() *JSON          { return jsonOf(e.e.Output) }
func (e *executionResolver) ErrorType() string      { return e.e.ErrorType }
func (e *executionResolver) ErrorMessage() string   { return e.e.ErrorMessage }
func (e *executionResolver) ErrorDetails() *JSON    { return jsonOf(e.e.ErrorDetails) }
func (e *executionResolver) WorkerID() string       { return e.e.WorkerID }
func (e *executionResolver) Attempt() int32         { return int32(e.e.Attempt) }
func (e *executionResolver) QueuedAt() DateTime     { return dateTime(e.e.QueuedAt) }
func (e *executionResolver) StartedAt() *DateTime   { return dateTimePtr(e.e.StartedAt) }
func (e *executionResolver) CompletedAt() *DateTime { return dateTimePtr(e.e.CompletedAt) }
func (e *executionResolver) DurationMs() *float64 {
	if e.e.DurationMS == nil {
		return nil
	}
	d := float64(*e.e.DurationMS)
	return &d
}
func (e *executionResolver) Logs() []*logResolver {
	out := make([]*logResolver, len(e.e.Logs))
	for i := range e.e.Logs {
		out[i] = &logResolver{e.e.Logs[i]}
	}
	return out
}
func (e *executionResolver) HTTPRequests() []*httpRequestResolver {
	out := make([]*httpRequestResolver, len(e.e.HTTPRequests))
	for i := range e.e.HTTPRequests {
		out[i] = &httpRequestResolver{e.e.HTTPRequests[i]}
	}
	return out
}

type logResolver struct{ l core.LogEntry }

func (l *logResolver) Time() DateTime  { return dateTime(l.l.Time) }
func (l *logResolver) Level() string   { return l.l.Level }
func (l *logResolver) Message() string { return l.l.Message }

type httpRequestResolver struct{ h core.HTTPRequestLog }

func (h *httpRequestResolver) Method() string      { return h.h.Method }
func (h *httpRequestResolver) URL() string         { return h.h.URL }
func (h *httpRequestResolver) Status() int32       { return int32(h.h.Status) }
func (h *httpRequestResolver) DurationMs() float64 { return h.h.DurationMS }
func (h *httpRequestResolver) Error() string       { return h.h.Error }
func (h *httpRequestResolver) Mocked() bool        { return h.h.Mocked }
func (h *httpRequestResolver) StartedAt() DateTime { return dateTime(h.h.StartedAt) }

// scheduleResolver resolves a Schedule.
type scheduleResolver struct{ s core.Schedule }

func (s *scheduleResolver) ID() gql.ID             { return idString(s.s.ID) }
func (s *scheduleResolver) UUID() string           { return s.s.UUID }
func (s *scheduleResolver) TaskID() gql.ID         { return idString(s.s.TaskID) }
func (s *scheduleResolver) Name() string           { return s.s.Name }
func (s *scheduleResolver) CronExpression() string { return s.s.CronExpression }
func (s *scheduleResolver) Timezone() string       { return s.s.Timezone }
func (s *scheduleResolver) Input() *JSON           { return jsonOf(s.s.Input) }
func (s *scheduleResolver) Enabled() bool          { return s.s.Enabled }
func (s *scheduleResolver) MaxExecutions() *int32  { return int32Ptr(s.s.MaxExecutions) }
func (s *scheduleResolver) ExecutionCount() int32  { return int32(s.s.ExecutionCount) }
func (s *scheduleResolver) NextRunAt() *DateTime   { return dateTimePtr(s.s.NextRunAt) }
func (s *scheduleResolver) LastRunAt() *DateTime   { return dateTimePtr(s.s.LastRunAt) }
func (s *scheduleResolver) CreatedAt() DateTime    { return dateTime(s.s.CreatedAt) }
func (s *scheduleResolver) UpdatedAt() DateTime    { return dateTime(s.s.UpdatedAt) }
func (s *scheduleResolver) OutputDestinations() []*destinationResolver {
	return destinations(s.s.OutputDestinations)
}

// workerResolver resolves a Worker.
type workerResolver struct{ w core.Worker }

func (w *workerResolver) ID() string                  { return w.w.ID }
func (w *workerResolver) Node() string                { return w.w.Node }
func (w *workerResolver) Pid() int32                  { return int32(w.w.PID) }
func (w *workerResolver) Status() string              { return enum(w.w.Status) }
func (w *workerResolver) CurrentExecutionID() *gql.ID { return idPtr(w.w.CurrentExecutionID) }
func (w *workerResolver) ExecutionsTotal() float64    { return float64(w.w.ExecutionsTotal) }
func (w *workerResolver) FailuresTotal() float64      { return float64(w.w.FailuresTotal) }
func (w *workerResolver) Restarts() int32             { return int32(w.w.Restarts) }
func (w *workerResolver) MemoryBytes() float64        { return float64(w.w.MemoryBytes) }
func (w *workerResolver) StartedAt() DateTime         { return dateTime(w.w.StartedAt) }
func (w *workerResolver) LastHeartbeatAt() *DateTime  { return dateTimePtr(w.w.LastHeartbeatAt) }

type destinationResolver struct{ d core.OutputDestination }

func (d *destinationResolver) Type() string { return d.d.Type }
func (d *destinationResolver) Config() *JSON {
	if len(d.d.Config) == 0 {
		return nil
	}
	return jsonValue(d.d.Config)
}

func destinations(ds []core.OutputDestination) []*destinationResolver {
	out := make([]*destinationResolver, len(ds))
	for i := range ds {
		out[i] = &destinationResolver{ds[i]}
	}
	return out
}

// List types.

type taskListResolver struct {
	items []*taskResolver
	total int
}

func (l *taskListResolver) Items() []*taskResolver { return l.items }
func (l *taskListResolver) Total() int32           { return int32(l.total) }

type jobListResolver struct {
	items []*jobResolver
	total int
}

func (l *jobListResolver) Items() []*jobResolver { return l.items }
func (l *jobListResolver) Total() int32          { return int32(l.total) }

type executionListResolver struct {
	items []*executionResolver
	total int
}

func (l *executionListResolver) Items() []*executionResolver { return l.items }
func (l *executionListResolver) Total() int32                { return int32(l.total) }

type scheduleListResolver struct {
	items []*scheduleResolver
	total int
}

func (l *scheduleListResolver) Items() []*scheduleResolver { return l.items }
func (l *scheduleListResolver) Total() int32               { return int32(l.total) }

type workerListResolver struct {
	items []*workerResolver
	total int
}

func (l *workerListResolver) Items() []*workerResolver { return l.items }
func (l *workerListResolver) Total() int32             { return int32(l.total) }

func (r *root) executionList(p core.Page[core.Execution]) *executionListResolver {
	out := &executionListResolver{items: make([]*executionResolver, len(p.Items)), total: p.Total}
	for i := range p.Items {
		out.items[i] = &executionResolver{p.Items[i]}
	}
	return out
}
