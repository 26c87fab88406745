package graphql

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/service"
)

// root is the root resolver: Query, Mutation and Subscription fields.
type root struct {
	svc *service.Service
	sub core.Subscriber
}

// taskRef resolves a task reference (id, uuid or name) to its numeric id.
func (r *root) taskRef(ctx context.Context, ref gql.ID) (int64, error) {
	if id, err := strconv.ParseInt(string(ref), 10, 64); err == nil {
		return id, nil
	}
	t, err := r.svc.Tasks().Get(ctx, string(ref))
	if err != nil {
		return 0, err
	}
	return t.ID, nil
}

type tasksArgs struct {
	Filter  *[]filterInput
	Sort    *[]sortInput
	Q       *string
	Offset  *int32
	Limit   *int32
	Enabled *bool
}

func (r *root) Tasks(ctx context.Context, args tasksArgs) (*taskListResolver, error) {
	extra := url.Values{}
	addBool(extra, "enabled", args.Enabled)
	q, err := listArgs{args.Filter, args.Sort, args.Q, args.Offset, args.Limit}.query(ctx, listquery.Tasks, extra)
	if err != nil {
		return nil, err
	}
	page, err := r.svc.Tasks().List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &taskListResolver{items: make([]*taskResolver, len(page.Items)), total: page.Total}
	for i := range page.Items {
		out.items[i] = &taskResolver{r, page.Items[i]}
	}
	return out, nil
}

type taskArgs struct {
	ID   *gql.ID
	UUID *string
	Name *string
}

func (r *root) Task(ctx context.Context, args taskArgs) (*taskResolver, error) {
	var refs []string
	if args.ID != nil {
		refs = append(refs, string(*args.ID))
	}
	if args.UUID != nil {
		refs = append(refs, *args.UUID)
	}
	if args.Name != nil {
		refs = append(refs, *args.Name)
	}
	if len(refs) != 1 {
		return nil, core.Errorf(core.KindInvalidArgument, "give exactly one of id, uuid or name")
	}
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	t, err := r.svc.Tasks().Get(ctx, refs[0])
	if err != nil {
		return nil, err
	}
	return &taskResolver{r, t}, nil
}

type jobsArgs struct {
	Filter *[]filterInput
	Sort   *[]sortInput
	Q      *string
	Offset *int32
	Limit  *int32
	Status *[]string
	TaskID *gql.ID
}

func (r *root) Jobs(ctx context.Context, args jobsArgs) (*jobListResolver, error) {
	extra := url.Values{}
	addEnums(extra, "status", args.Status)
	if args.TaskID != nil {
		id, err := r.taskRef(ctx, *args.TaskID)
		if err != nil {
			return nil, err
		}
		extra.Set("task_id", strconv.FormatInt(id, 10))
	}
	q, err := listArgs{args.Filter, args.Sort, args.Q, args.Offset, args.Limit}.query(ctx, listquery.Jobs, extra)
	if err != nil {
		return nil, err
	}
	page, err := r.svc.Jobs().List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &jobListResolver{items: make([]*jobResolver, len(page.Items)), total: page.Total}
	for i := range page.Items {
		out.items[i] = &jobResolver{r, page.Items[i]}
	}
	return out, nil
}

type refArgs struct{ ID gql.ID }

func (r *root) Job(ctx context.Context, args refArgs) (*jobResolver, error) {
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	j, err := r.svc.Jobs().Get(ctx, string(args.ID))
	if err != nil {
		return nil, err
	}
	return &jobResolver{r, j}, nil
}

type executionsArgs struct {
	Filter *[]filterInput
	Sort   *[]sortInput
	Q      *string
	Offset *int32
	Limit  *int32
	Status *[]string
	TaskID *gql.ID
	JobID  *gql.ID
}

func (r *root) Executions(ctx context.Context, args executionsArgs) (*executionListResolver, error) {
	extra := url.Values{}
	addEnums(extra, "status", args.Status)
	if args.TaskID != nil {
		id, err := r.taskRef(ctx, *args.TaskID)
		if err != nil {
			return nil, err
		}
		extra.Set("task_id", strconv.FormatInt(id, 10))
	}
	if args.JobID != nil {
		j, err := r.svc.Jobs().Get(ctx, string(*args.JobID))
		if err != nil {
			return nil, err
		}
		extra.Set("job_id", strconv.FormatInt(j.ID, 10))
	}
	q, err := listArgs{args.Filter, args.Sort, args.Q, args.Offset, args.Limit}.query(ctx, listquery.Executions, extra)
	if err != nil {
		return nil, err
	}
	page, err := r.svc.Executions().List(ctx, q)
	if err != nil {
		return nil, err
	}
	return r.executionList(page), nil
}

func (r *root) Execution(ctx context.Context, args refArgs) (*executionResolver, error) {
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	e, err := r.svc.Executions().Get(ctx, string(args.ID))
	if err != nil {
		return nil, err
	}
	return &executionResolver{e}, nil
}

type schedulesArgs struct {
	Filter  *[]filterInput
	Sort    *[]sortInput
	Q       *string
	Offset  *int32
	Limit   *int32
	TaskID  *gql.ID
	Enabled *bool
}

func (r *root) Schedules(ctx context.Context, args schedulesArgs) (*scheduleListResolver, error) {
	extra := url.Values{}
	addBool(extra, "enabled", args.Enabled)
	if args.TaskID != nil {
		id, err := r.taskRef(ctx, *args.TaskID)
		if err != nil {
			return nil, err
		}
		extra.Set("task_id", strconv.FormatInt(id, 10))
	}
	q, err := listArgs{args.Filter, args.Sort, args.Q, args.Offset, args.Limit}.query(ctx, listquery.Schedules, extra)
	if err != nil {
		return nil, err
	}
	page, err := r.svc.Schedules().List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &scheduleListResolver{items: make([]*scheduleResolver, len(page.Items)), total: page.Total}
	for i := range page.Items {
		out.items[i] = &scheduleResolver{page.Items[i]}
	}
	return out, nil
}

func (r *root) Schedule(ctx context.Context, args refArgs) (*scheduleResolver, error) {
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	s, err := r.svc.Schedules().Get(ctx, string(args.ID))
	if err != nil {
		return nil, err
	}
	return &scheduleResolver{s}, nil
}

type workersArgs struct {
	Filter *[]filterInput
	Sort   *[]sortInput
	Q      *string
	Offset *int32
	Limit  *int32
	Status *[]string
}

// Workers lists the workers of every node; this node's as the pool has
// them now.
func (r *root) Workers(ctx context.Context, args workersArgs) (*workerListResolver, error) {
	extra := url.Values{}
	addEnums(extra, "status", args.Status)
	q, err := listArgs{args.Filter, args.Sort, args.Q, args.Offset, args.Limit}.query(ctx, listquery.Workers, extra)
	if err != nil {
		return nil, err
	}
	page, err := r.svc.Workers().List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &workerListResolver{items: make([]*workerResolver, len(page.Items)), total: page.Total}
	for i := range page.Items {
		out.items[i] = &workerResolver{page.Items[i]}
	}
	return out, nil
}

func (r *root) Worker(ctx context.Context, args struct{ ID string }) (*workerResolver, error) {
	if err := charge(ctx, 1); err != nil {
		return nil, err
	}
	w, err := r.svc.Workers().Get(ctx, args.ID)
	if err != nil {
		return nil, err
	}
	return &workerResolver{w}, nil
}

// Stats.

type statusCount struct {
	status string
	count  int
}

func (s statusCount) Status() string   { return s.status }
func (s statusCount) Priority() string { return s.status }
func (s statusCount) Count() int32     { return int32(s.count) }

type jobStatsResolver struct{ s service.JobStats }

func (j *jobStatsResolver) Total() int32        { return int32(j.s.Total) }
func (j *jobStatsResolver) Active() int32       { return int32(j.s.Active) }
func (j *jobStatsResolver) MaxQueueSize() int32 { return int32(j.s.MaxQueueSize) }
func (j *jobStatsResolver) ByStatus() []statusCount {
	out := make([]statusCount, len(core.JobStatuses))
	for i, s := range core.JobStatuses {
		out[i] = statusCount{enum(s), j.s.ByStatus[s]}
	}
	return out
}
func (j *jobStatsResolver) ByPriority() []statusCount       { return byPriority(j.s.ByPriority) }
func (j *jobStatsResolver) QueuedByPriority() []statusCount { return byPriority(j.s.Queued) }

func byPriority(m map[string]int) []statusCount {
	out := make([]statusCount, len(core.Priorities))
	for i, p := range core.Priorities {
		out[i] = statusCount{priorityEnum(p), m[p.String()]}
	}
	return out
}

func (r *root) JobStats(ctx context.Context) (*jobStatsResolver, error) {
	st, err := r.svc.Jobs().Stats(ctx)
	if err != nil {
		return nil, err
	}
	return &jobStatsResolver{st}, nil
}

type workerStatsResolver struct{ s service.WorkerStats }

func (w *workerStatsResolver) Total() int32             { return int32(w.s.Total) }
func (w *workerStatsResolver) ExecutionsTotal() float64 { return float64(w.s.ExecutionsTotal) }
func (w *workerStatsResolver) FailuresTotal() float64   { return float64(w.s.FailuresTotal) }
func (w *workerStatsResolver) Restarts() int32          { return int32(w.s.Restarts) }
func (w *workerStatsResolver) MemoryBytes() float64     { return float64(w.s.MemoryBytes) }
func (w *workerStatsResolver) Dispatcher() *JSON        { return jsonValue(w.s.Dispatcher) }
func (w *workerStatsResolver) At() DateTime             { return dateTime(w.s.At) }
func (w *workerStatsResolver) ByStatus() []statusCount {
	out := make([]statusCount, len(core.WorkerStatuses))
	for i, s := range core.WorkerStatuses {
		out[i] = statusCount{enum(s), w.s.ByStatus[s]}
	}
	return out
}

func (r *root) WorkerStats(ctx context.Context) (*workerStatsResolver, error) {
	st, err := r.svc.Workers().Stats(ctx)
	if err != nil {
		return nil, err
	}
	return &workerStatsResolver{st}, nil
}

// Health.

type healthCheck struct{ name, status, message string }

func (h healthCheck) Name() string    { return h.name }
func (h healthCheck) Status() string  { return strings.ToUpper(h.status) }
func (h healthCheck) Message() string { return h.message }

type healthResolver struct {
	checks []healthCheck
	at     time.Time
}

func (h *healthResolver) Checks() []healthCheck { return h.checks }
func (h *healthResolver) At() DateTime          { return dateTime(h.at) }
func (h *healthResolver) Status() string {
	m := map[string]apitypes.HealthCheck{}
	for _, c := range h.checks {
		m[c.name] = apitypes.HealthCheck{Status: c.status}
	}
	return strings.ToUpper(apitypes.WorstHealth(m))
}

// Health checks the database, the workers and the queue.
func (r *root) Health(ctx context.Context) (*healthResolver, error) {
	h := &healthResolver{at: time.Now().UTC()}
	if err := r.svc.Ping(ctx); err != nil {
		h.checks = append(h.checks, healthCheck{"database", apitypes.HealthUnhealthy, "the database does not answer"})
	} else {
		h.checks = append(h.checks, healthCheck{"database", apitypes.HealthOK, "ok"})
	}
	ws, err := r.svc.Workers().Stats(ctx)
	switch {
	case err != nil:
		h.checks = append(h.checks, healthCheck{"workers", apitypes.HealthUnhealthy, "the worker pool does not answer"})
	default:
		serving := ws.ByStatus[core.WorkerIdle] + ws.ByStatus[core.WorkerBusy]
		st := apitypes.HealthOK
		switch {
		case ws.Total == 0 || serving == 0:
			st = apitypes.HealthUnhealthy
		case serving < ws.Total:
			st = apitypes.HealthDegraded
		}
		h.checks = append(h.checks, healthCheck{"workers", st, strconv.Itoa(serving) + " of " + strconv.Itoa(ws.Total) + " workers serving"})
	}
	js, err := r.svc.Jobs().Stats(ctx)
	if err != nil {
		h.checks = append(h.checks, healthCheck{"queue", apitypes.HealthUnhealthy, "the queue cannot be counted"})
	} else {
		h.checks = append(h.checks, healthCheck{"queue", apitypes.HealthOK,
			strconv.Itoa(js.ByStatus[core.JobQueued]) + " queued, " + strconv.Itoa(js.ByStatus[core.JobProcessing]) + " processing"})
	}
	return h, nil
}
