package graphql

import (
	"context"
	"strconv"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/lib/service"
)

// mayMutate is checked by every mutation: the principal must have the
// operator role (a viewer may only query), and the operation must not have
// come by GET. Without a principal in the context (the handler mounted
// outside lib/server's authentication) mutations are refused.
func mayMutate(ctx context.Context, what string) error {
	p, ok := apikey.PrincipalFrom(ctx)
	if !ok {
		return core.Errorf(core.KindUnauthorized, "%s needs an authenticated request", what)
	}
	if !p.Role.Allows(apikey.RoleOperator) {
		return forbidden(what, string(p.Role))
	}
	if ro, _ := ctx.Value(readOnlyKey{}).(bool); ro {
		return core.Errorf(core.KindInvalidArgument, "%s is a mutation: send it with POST, not GET", what)
	}
	return nil
}

type executeArgs struct {
	TaskID         gql.ID
	Input          *JSON
	Priority       *string
	Async          bool
	TimeoutSeconds *int32
	IdempotencyKey *string
}

type executeResultResolver struct {
	r   *root
	res service.ExecuteResult
}

func (e *executeResultResolver) Execution() *executionResolver {
	if e.res.Execution == nil {
		return nil
	}
	return &executionResolver{*e.res.Execution}
}

func (e *executeResultResolver) Job() *jobResolver {
	if e.res.Job == nil {
		return nil
	}
	return &jobResolver{e.r, *e.res.Job}
}

// ExecuteTask runs a task (synchronously unless async).
func (r *root) ExecuteTask(ctx context.Context, args executeArgs) (*executeResultResolver, error) {
	if err := mayMutate(ctx, "executeTask"); err != nil {
		return nil, err
	}
	prio, err := parsePriority(args.Priority)
	if err != nil {
		return nil, err
	}
	req := service.ExecuteTask{Input: args.Input.raw(), Priority: prio, Async: args.Async}
	if args.TimeoutSeconds != nil {
		req.TimeoutSeconds = int(*args.TimeoutSeconds)
	}
	if args.IdempotencyKey != nil {
		req.IdempotencyKey = *args.IdempotencyKey
	}
	res, err := r.svc.Tasks().Execute(ctx, string(args.TaskID), req)
	if err != nil {
		return nil, err
	}
	return &executeResultResolver{r, res}, nil
}

type destinationInput struct {
	Type   string
	Config *JSON
}

func toDestinations(in *[]destinationInput) ([]core.OutputDestination, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]core.OutputDestination, len(*in))
	for i, d := range *in {
		out[i] = core.OutputDestination{Type: d.Type}
		if d.Config != nil {
			var cfg map[string]any
			if err := jsonUnmarshal(d.Config.raw(), &cfg); err != nil {
				return nil, core.Errorf(core.KindInvalidArgument, "outputDestinations[%d].config must be a JSON object", i).
					WithDetail("field", "output_destinations")
			}
			out[i].Config = cfg
		}
	}
	return out, nil
}

type createJobInput struct {
	TaskID             gql.ID
	Input              *JSON
	Priority           *string
	MaxRetries         *int32
	RetryDelaySeconds  *int32
	TimeoutSeconds     *int32
	ProcessAt          *DateTime
	IdempotencyKey     *string
	OutputDestinations *[]destinationInput
	Metadata           *JSON
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

// CreateJob queues a job.
func (r *root) CreateJob(ctx context.Context, args struct{ Input createJobInput }) (*jobResolver, error) {
	if err := mayMutate(ctx, "createJob"); err != nil {
		return nil, err
	}
	in := args.Input
	prio, err := parsePriority(in.Priority)
	if err != nil {
		return nil, err
	}
	dests, err := toDestinations(in.OutputDestinations)
	if err != nil {
		return nil, err
	}
	req := service.CreateJob{
		TaskRef: string(in.TaskID), Input: in.Input.raw(), Priority: prio,
		MaxRetries: intPtr(in.MaxRetries), RetryDelaySeconds: intPtr(in.RetryDelaySeconds),
		OutputDestinations: dests,
	}
	if in.TimeoutSeconds != nil {
		req.TimeoutSeconds = int(*in.TimeoutSeconds)
	}
	if in.ProcessAt != nil {
		req.ProcessAt = in.ProcessAt.Time
	}
	if in.IdempotencyKey != nil {
		req.IdempotencyKey = *in.IdempotencyKey
	}
	if in.Metadata != nil {
		if err := jsonUnmarshal(in.Metadata.raw(), &req.Metadata); err != nil {
			return nil, core.Errorf(core.KindInvalidArgument, "metadata must be a JSON object").WithDetail("field", "metadata")
		}
	}
	job, _, err := r.svc.Jobs().Create(ctx, req)
	if err != nil {
		return nil, err
	}
	return &jobResolver{r, job}, nil
}

// jobID resolves a job reference (id or uuid).
func (r *root) jobID(ctx context.Context, ref gql.ID) (int64, error) {
	if id, err := strconv.ParseInt(string(ref), 10, 64); err == nil {
		return id, nil
	}
	j, err := r.svc.Jobs().Get(ctx, string(ref))
	if err != nil {
		return 0, err
	}
	return j.ID, nil
}

// CancelJob cancels a job.
func (r *root) CancelJob(ctx context.Context, args refArgs) (*jobResolver, error) {
	if err := mayMutate(ctx, "cancelJob"); err != nil {
		return nil, err
	}
	id, err := r.jobID(ctx, args.ID)
	if err != nil {
		return nil, err
	}
	j, err := r.svc.Jobs().Cancel(ctx, id)
	if err != nil {
		return nil, err
	}
	return &jobResolver{r, j}, nil
}

// RetryJob queues a failed or cancelled job again.
func (r *root) RetryJob(ctx context.Context, args refArgs) (*jobResolver, error) {
	if err := mayMutate(ctx, "retryJob"); err != nil {
		return nil, err
	}
	id, err := r.jobID(ctx, args.ID)
	if err != nil {
		return nil, err
	}
	j, err := r.svc.Jobs().Retry(ctx, id)
	if err != nil {
		return nil, err
	}
	return &jobResolver{r, j}, nil
}

type scheduleInput struct {
	TaskID             *gql.ID
	Name               *string
	CronExpression     *string
	Timezone           *string
	Input              *JSON
	Enabled            *bool
	MaxExecutions      *int32
	ClearMaxExecutions *bool
	OutputDestinations *[]destinationInput
}

func (in scheduleInput) service() (service.ScheduleInput, error) {
	out := service.ScheduleInput{
		Name: in.Name, CronExpression: in.CronExpression, Timezone: in.Timezone,
		Input: in.Input.raw(), Enabled: in.Enabled,
	}
	if in.TaskID != nil {
		ref := string(*in.TaskID)
		out.TaskRef = &ref
	}
	switch {
	case in.ClearMaxExecutions != nil && *in.ClearMaxExecutions:
		var none *int
		out.MaxExecutions = &none
	case in.MaxExecutions != nil:
		m := intPtr(in.MaxExecutions)
		out.MaxExecutions = &m
	}
	if in.OutputDestinations != nil {
		ds, err := toDestinations(in.OutputDestinations)
		if err != nil {
			return out, err
		}
		out.OutputDestinations = &ds
	}
	return out, nil
}

type createScheduleInput struct {
	TaskID             gql.ID
	Name               *string
	CronExpression     string
	Timezone           *string
	Input              *JSON
	Enabled            *bool
	MaxExecutions      *int32
	OutputDestinations *[]destinationInput
}

func (in createScheduleInput) update() scheduleInput {
	return scheduleInput{
		TaskID: &in.TaskID, Name: in.Name, CronExpression: &in.CronExpression, Timezone: in.Timezone,
		Input: in.Input, Enabled: in.Enabled, MaxExecutions: in.MaxExecutions, OutputDestinations: in.OutputDestinations,
	}
}

// scheduleID resolves a schedule reference (id or uuid).
func (r *root) scheduleID(ctx context.Context, ref gql.ID) (int64, error) {
	if id, err := strconv.ParseInt(string(ref), 10, 64); err == nil {
		return id, nil
	}
	s, err := r.svc.Schedules().Get(ctx, string(ref))
	if err != nil {
		return 0, err
	}
	return s.ID, nil
}

// CreateSchedule creates a schedule.
func (r *root) CreateSchedule(ctx context.Context, args struct{ Input createScheduleInput }) (*scheduleResolver, error) {
	if err := mayMutate(ctx, "createSchedule"); err != nil {
		return nil, err
	}
	in, err := args.Input.update().service()
	if err != nil {
		return nil, err
	}
	s, err := r.svc.Schedules().Create(ctx, in)
	if err != nil {
		return nil, err
	}
	return &scheduleResolver{s}, nil
}

// UpdateSchedule changes a schedule.
func (r *root) UpdateSchedule(ctx context.Context, args struct {
	ID    gql.ID
	Input scheduleInput
}) (*scheduleResolver, error) {
	if err := mayMutate(ctx, "updateSchedule"); err != nil {
		return nil, err
	}
	id, err := r.scheduleID(ctx, args.ID)
	if err != nil {
		return nil, err
	}
	in, err := args.Input.service()
	if err != nil {
		return nil, err
	}
	s, err := r.svc.Schedules().Update(ctx, id, in)
	if err != nil {
		return nil, err
	}
	return &scheduleResolver{s}, nil
}

// DeleteSchedule deletes a schedule.
func (r *root) DeleteSchedule(ctx context.Context, args refArgs) (bool, error) {
	if err := mayMutate(ctx, "deleteSchedule"); err != nil {
		return false, err
	}
	id, err := r.scheduleID(ctx, args.ID)
	if err != nil {
		return false, err
	}
	if err := r.svc.Schedules().Delete(ctx, id); err != nil {
		return false, err
	}
	return true, nil
}

// scheduleOp runs an operation on a schedule by reference.
func (r *root) scheduleOp(ctx context.Context, what string, ref gql.ID, op func(context.Context, int64) (core.Schedule, error)) (*scheduleResolver, error) {
	if err := mayMutate(ctx, what); err != nil {
		return nil, err
	}
	id, err := r.scheduleID(ctx, ref)
	if err != nil {
		return nil, err
	}
	s, err := op(ctx, id)
	if err != nil {
		return nil, err
	}
	return &scheduleResolver{s}, nil
}

// EnableSchedule enables a schedule.
func (r *root) EnableSchedule(ctx context.Context, args refArgs) (*scheduleResolver, error) {
	return r.scheduleOp(ctx, "enableSchedule", args.ID, r.svc.Schedules().Enable)
}

// DisableSchedule disables a schedule.
func (r *root) DisableSchedule(ctx context.Context, args refArgs) (*scheduleResolver, error) {
	return r.scheduleOp(ctx, "disableSchedule", args.ID, r.svc.Schedules().Disable)
}

// TriggerSchedule queues one job of the schedule now.
func (r *root) TriggerSchedule(ctx context.Context, args refArgs) (*jobResolver, error) {
	if err := mayMutate(ctx, "triggerSchedule"); err != nil {
		return nil, err
	}
	id, err := r.scheduleID(ctx, args.ID)
	if err != nil {
		return nil, err
	}
	j, err := r.svc.Schedules().Trigger(ctx, id)
	if err != nil {
		return nil, err
	}
	return &jobResolver{r, j}, nil
}
