package rest

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
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
	id, err := h.jobID(c)
	if err != nil {
		return err
	}
	if err := h.svc.Jobs().Delete(c.Request().Context(), id); err != nil {
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

// getJobStats is GET /jobs/stats.
func (h *handlers) getJobStats(c echo.Context) error {
	st, err := h.svc.Jobs().Stats(c.Request().Context())
	if err != nil {
		return err
	}
	out := apitypes.NewJobStats(nil)
	out.Total = int64(st.Total)
	out.Active = int64(st.Active)
	out.QueueDepth = int64(st.QueueDepth)
	for s, n := range st.ByStatus {
		out.ByStatus[string(s)] = int64(n)
	}
	for p, n := range st.ByPriority {
		out.ByPriority[p] = int64(n)
	}
	out.OldestQueuedAt = st.OldestWaitingAt
	return c.JSON(http.StatusOK, out)
}
