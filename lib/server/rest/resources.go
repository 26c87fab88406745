package rest

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/service"
)

// List converters (the api's, named for the table).
var (
	convertTasks      = apitypes.FromTasks
	convertJobs       = apitypes.FromJobs
	convertExecutions = apitypes.FromExecutions
	convertSchedules  = apitypes.FromSchedules
	convertDeliveries = apitypes.FromDeliveries
)

// getExecution is GET /executions/{id} (id or uuid).
func (h *handlers) getExecution(c echo.Context) error {
	e, err := h.svc.Executions().Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromExecution(e))
}

// getExecutionLogs is GET /executions/{id}/logs.
func (h *handlers) getExecutionLogs(c echo.Context) error {
	l, err := h.svc.Executions().Logs(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.ExecutionLogs{
		ExecutionID: l.ExecutionID, Logs: apitypes.FromLogEntries(l.Logs), HTTPRequests: apitypes.FromHTTPRequests(l.HTTPRequests),
	})
}

// scheduleID resolves the {id} of a schedule route: its number or uuid.
func (h *handlers) scheduleID(c echo.Context) (int64, error) {
	return intID(c, func(ctx context.Context, ref string) (int64, error) {
		s, err := h.svc.Schedules().Get(ctx, ref)
		return s.ID, err
	})
}

// createSchedule is POST /schedules: 201 with the schedule and its
// Location.
func (h *handlers) createSchedule(c echo.Context) error {
	var body apitypes.CreateScheduleRequest
	if err := bindJSON(c, &body, false); err != nil {
		return err
	}
	ref := string(body.TaskID)
	cron := strings.TrimSpace(body.CronExpression)
	in := service.ScheduleInput{TaskRef: &ref, CronExpression: &cron, Input: body.Input, Enabled: body.Enabled}
	if name := strings.TrimSpace(body.Name); name != "" {
		in.Name = &name
	}
	if tz := strings.TrimSpace(body.Timezone); tz != "" {
		in.Timezone = &tz
	}
	if body.MaxExecutions != nil && *body.MaxExecutions > 0 {
		m := body.MaxExecutions
		in.MaxExecutions = &m
	}
	if body.OutputDestinations != nil {
		ds := apitypes.ToDestinations(body.OutputDestinations)
		in.OutputDestinations = &ds
	}
	s, err := h.svc.Schedules().Create(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return h.created(c, "schedules", s.ID, apitypes.FromSchedule(s))
}

// getSchedule is GET /schedules/{id} (id or uuid).
func (h *handlers) getSchedule(c echo.Context) error {
	s, err := h.svc.Schedules().Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromSchedule(s))
}

// updateSchedule is PATCH /schedules/{id}: absent fields stay;
// max_executions 0 removes the limit; output_destinations [] removes them.
func (h *handlers) updateSchedule(c echo.Context) error {
	var body apitypes.UpdateScheduleRequest
	if err := bindJSON(c, &body, false); err != nil {
		return err
	}
	id, err := h.scheduleID(c)
	if err != nil {
		return err
	}
	in := service.ScheduleInput{Name: body.Name, CronExpression: body.CronExpression, Timezone: body.Timezone, Input: body.Input, Enabled: body.Enabled}
	if body.TaskID != nil {
		ref := string(*body.TaskID)
		in.TaskRef = &ref
	}
	if body.MaxExecutions != nil {
		var m *int
		if *body.MaxExecutions > 0 {
			m = body.MaxExecutions
		}
		in.MaxExecutions = &m
	}
	if body.OutputDestinations != nil {
		ds := apitypes.ToDestinations(*body.OutputDestinations)
		if ds == nil {
			ds = []core.OutputDestination{}
		}
		in.OutputDestinations = &ds
	}
	s, err := h.svc.Schedules().Update(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromSchedule(s))
}

// deleteSchedule is DELETE /schedules/{id}: 204.
func (h *handlers) deleteSchedule(c echo.Context) error {
	id, err := h.scheduleID(c)
	if err != nil {
		return err
	}
	if err := h.svc.Schedules().Delete(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// enableSchedule is POST /schedules/{id}/enable.
func (h *handlers) enableSchedule(c echo.Context) error {
	return h.scheduleAction(c, h.svc.Schedules().Enable)
}

// disableSchedule is POST /schedules/{id}/disable.
func (h *handlers) disableSchedule(c echo.Context) error {
	return h.scheduleAction(c, h.svc.Schedules().Disable)
}

func (h *handlers) scheduleAction(c echo.Context, do func(context.Context, int64) (core.Schedule, error)) error {
	id, err := h.scheduleID(c)
	if err != nil {
		return err
	}
	s, err := do(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apitypes.FromSchedule(s))
}

// triggerSchedule is POST /schedules/{id}/trigger: 202 with the job
// queued and its Location.
func (h *handlers) triggerSchedule(c echo.Context) error {
	id, err := h.scheduleID(c)
	if err != nil {
		return err
	}
	j, err := h.svc.Schedules().Trigger(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, h.location("jobs", j.ID))
	return c.JSON(http.StatusAccepted, apitypes.FromJob(j))
}
