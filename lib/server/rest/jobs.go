package rest

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/service"
)

// createJob is POST /jobs: 201 with the job and its Location; when the
// idempotency_key names an existing job, 200 with that job (and its
// Location), nothing queued.
func (h *handlers) createJob(c echo.Context) error {
	var body apitypes.CreateJobRequest
	if err := bindJSON(c, &body, false); err != nil {
		return err
	}
	req := service.CreateJob{
		TaskRef: string(body.TaskID), Input: body.Input, MaxRetries: body.MaxRetries,
		RetryDelaySeconds: body.RetryDelaySeconds, IdempotencyKey: body.IdempotencyKey,
		OutputDestinations: apitypes.ToDestinations(body.OutputDestinations), Metadata: body.Metadata,
	}
	if body.Priority != "" {
		p, err := body.ParsedPriority()
		if err != nil {
			return err
		}
		req.Priority = &p
	}
	if body.TimeoutSeconds != nil {
		req.TimeoutSeconds = *body.TimeoutSeconds
	}
	if body.ProcessAt != nil {
		req.ProcessAt = *body.ProcessAt
	}
	job, existed, err := h.svc.Jobs().Create(c.Request().Context(), req)
	if err != nil {
		return err
	}
	if existed {
		c.Response().Header().Set(echo.HeaderLocation, h.location("jobs", job.ID))
		return c.JSON(http.StatusOK, apitypes.FromJob(job))
	}
	return h.created(c, "jobs", job.ID, apitypes.FromJob(job))
}

// jobID resolves the {id} of a job route: its number or its uuid.
func (h *handlers) jobID(c echo.Context) (int64, error) {
	return intID(c, func(ctx context.Context, ref string) (int64, error) {
		j, err := h.svc.Jobs().Get(ctx, ref)
		return j.ID, err
	})
}

// getJob is GET /jobs/{id} (id or uuid).
func (h *handlers) getJob(c echo.Context) error {
	j, err := h.svc.Jobs().Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromJob(j))
}

// deleteJob is DELETE /jobs/{id}: 204; 409 for a job not finished
// (queued, retrying or processing: cancel it first).
func (h *handlers) deleteJob(c echo.Context) error {
	ctx := c.Request().Context()
	j, err := h.svc.Jobs().Get(ctx, param(c, "id"))
	if err != nil {
		return err
	}
	if !j.Status.Terminal() {
		return core.Errorf(core.KindConflict, "job %d is %s: only completed, failed or cancelled jobs can be deleted; cancel it first", j.ID, j.Status).
			WithDetail("job_id", j.ID).WithDetail("status", string(j.Status))
	}
	if err := h.svc.Jobs().Delete(ctx, j.ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// cancelJob is POST /jobs/{id}/cancel: 200 with the cancelled job; 409 for
// a finished one.
func (h *handlers) cancelJob(c echo.Context) error {
	id, err := h.jobID(c)
	if err != nil {
		return err
	}
	j, err := h.svc.Jobs().Cancel(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromJob(j))
}

// retryJob is POST /jobs/{id}/retry: 200 with the queued job; 409 unless
// the job failed or was cancelled.
func (h *handlers) retryJob(c echo.Context) error {
	id, err := h.jobID(c)
	if err != nil {
		return err
	}
	j, err := h.svc.Jobs().Retry(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromJob(j))
}

// activeStatuses are the job statuses max_queue_size bounds.
var activeStatuses = []string{string(core.JobQueued), string(core.JobRetrying), string(core.JobProcessing)}

// getJobStats is GET /jobs/stats.
func (h *handlers) getJobStats(c echo.Context) error {
	ctx := c.Request().Context()
	st, err := h.svc.Jobs().Stats(ctx)
	if err != nil {
		return err
	}
	out := apitypes.NewJobStats(nil)
	out.Total = int64(st.Total)
	out.Active = int64(st.Active)
	for s, n := range st.ByStatus {
		out.ByStatus[string(s)] = int64(n)
	}
	out.QueueDepth = out.ByStatus[string(core.JobQueued)] + out.ByStatus[string(core.JobRetrying)]
	// Active jobs per priority: the service's stats count waiting jobs per
	// priority only, so count them through the job list.
	for _, p := range core.Priorities {
		page, err := h.svc.Jobs().List(ctx, core.ListQuery{Limit: 1, Filters: []core.Filter{
			{Field: "status", Op: core.OpIn, Values: activeStatuses},
			{Field: "priority", Op: core.OpEq, Values: []string{p.String()}},
		}})
		if err != nil {
			return err
		}
		out.ByPriority[p.String()] = int64(page.Total)
	}
	if out.QueueDepth > 0 {
		page, err := h.svc.Jobs().List(ctx, core.ListQuery{
			Limit:   1,
			Filters: []core.Filter{{Field: "status", Op: core.OpIn, Values: []string{string(core.JobQueued), string(core.JobRetrying)}}},
			Sort:    []core.SortField{{Field: "process_at"}, {Field: "id"}},
		})
		if err != nil {
			return err
		}
		if len(page.Items) > 0 {
			t := page.Items[0].ProcessAt.UTC()
			out.OldestQueuedAt = &t
		}
	}
	return c.JSON(http.StatusOK, out)
}
