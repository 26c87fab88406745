package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/core"
)

// TestRefineSimpleRest drives the REST API the way @refinedev/simple-rest
// does: getList (pagination, sorting, every filter operator, q), getOne,
// getMany, create, update (PATCH) and deleteOne, checking the list
// headers.
func TestRefineSimpleRest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	later := time.Now().Add(24 * time.Hour).UTC()

	// Jobs that stay queued: process_at is tomorrow.
	specs := []struct {
		task     string
		priority string
		retries  int
		key      string
	}{
		{"addition", "low", 0, ""},
		{"addition", "normal", 1, "k-1"},
		{"order-validation", "high", 2, ""},
		{"order-validation", "urgent", 3, "k-2"},
		{"weather-api", "high", 4, ""},
		{"async-pipeline", "normal", 5, ""},
	}
	var jobs []apitypes.Job
	for _, s := range specs {
		j, err := e.client.CreateJob(ctx, apitypes.CreateJobRequest{
			TaskID: apitypes.TaskRef(s.task), Input: []byte(`{}`), Priority: s.priority,
			ProcessAt: &later, MaxRetries: ptr(s.retries), IdempotencyKey: s.key,
		})
		if err != nil {
			t.Fatalf("CreateJob %+v: %v", s, err)
		}
		jobs = append(jobs, *j)
	}
	id := func(i int) int64 { return jobs[i].ID }

	type listCase struct {
		name, query string
		want        []int64 // ids in order
		total       int
		rng         string
	}
	cases := []listCase{
		{"first page", "_start=0&_end=2&_sort=id&_order=asc", []int64{id(0), id(1)}, 6, "jobs 0-1/6"},
		{"second page", "_start=2&_end=4&_sort=id&_order=asc", []int64{id(2), id(3)}, 6, "jobs 2-3/6"},
		{"last partial page", "_start=4&_end=10&_sort=id&_order=asc", []int64{id(4), id(5)}, 6, "jobs 4-5/6"},
		{"past the end", "_start=10&_end=20", nil, 6, "jobs */6"},
		{"limit and offset", "offset=1&limit=2&_sort=id", []int64{id(1), id(2)}, 6, "jobs 1-2/6"},
		{"sort desc", "_sort=id&_order=desc", []int64{id(5), id(4), id(3), id(2), id(1), id(0)}, 6, "jobs 0-5/6"},
		{"sort by two fields", "_sort=priority,id&_order=desc,asc", []int64{id(3), id(2), id(4), id(1), id(5), id(0)}, 6, "jobs 0-5/6"},
		{"eq", "priority=high&_sort=id", []int64{id(2), id(4)}, 2, "jobs 0-1/2"},
		{"repeated eq is IN", "priority=high&priority=urgent&_sort=id", []int64{id(2), id(3), id(4)}, 3, "jobs 0-2/3"},
		{"getMany", "id=" + strconv.FormatInt(id(1), 10) + "&id=" + strconv.FormatInt(id(3), 10) + "&_sort=id", []int64{id(1), id(3)}, 2, "jobs 0-1/2"},
		{"ne", "priority_ne=normal&_sort=id", []int64{id(0), id(2), id(3), id(4)}, 4, "jobs 0-3/4"},
		{"like", "task_name_like=valid&_sort=id", []int64{id(2), id(3)}, 2, "jobs 0-1/2"},
		{"gte and lte", "max_retries_gte=2&max_retries_lte=4&_sort=id", []int64{id(2), id(3), id(4)}, 3, "jobs 0-2/3"},
		{"q", "q=weather", []int64{id(4)}, 1, "jobs 0-0/1"},
		{"eq on text", "idempotency_key=k-2", []int64{id(3)}, 1, "jobs 0-0/1"},
		{"filters combine", "status=queued&priority=normal&task_name=addition", []int64{id(1)}, 1, "jobs 0-0/1"},
		{"a cache-busting _ is ignored", "_=12345&_sort=id&_start=0&_end=1", []int64{id(0)}, 6, "jobs 0-0/6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(http.MethodGet, "/api/v1/jobs?"+c.query, nil)
			expect(t, r, http.StatusOK, c.query)
			var got []apitypes.Job
			r.decode(t, &got)
			if got == nil {
				t.Fatalf("body %s is not a JSON array", r.Body)
			}
			ids := make([]int64, len(got))
			for i, j := range got {
				ids[i] = j.ID
			}
			if !slices.Equal(ids, c.want) && !(len(ids) == 0 && len(c.want) == 0) {
				t.Errorf("ids %v, want %v", ids, c.want)
			}
			if h := r.Header.Get("X-Total-Count"); h != strconv.Itoa(c.total) {
				t.Errorf("X-Total-Count %q, want %d", h, c.total)
			}
			if h := r.Header.Get("Content-Range"); h != c.rng {
				t.Errorf("Content-Range %q, want %q", h, c.rng)
			}
		})
	}

	t.Run("dates", func(t *testing.T) {
		// process_at is tomorrow for every job: none before today's end.
		r := e.do(http.MethodGet, "/api/v1/jobs?process_at_lte="+time.Now().UTC().Format(time.RFC3339), nil)
		expect(t, r, http.StatusOK, "process_at_lte")
		if r.Header.Get("X-Total-Count") != "0" {
			t.Errorf("process_at_lte now: total %s, want 0", r.Header.Get("X-Total-Count"))
		}
		r = e.do(http.MethodGet, "/api/v1/jobs?created_at_gte="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil)
		if r.Header.Get("X-Total-Count") != "6" {
			t.Errorf("created_at_gte an hour ago: total %s, want 6", r.Header.Get("X-Total-Count"))
		}
	})

	t.Run("client agrees", func(t *testing.T) {
		got, total, err := e.client.ListJobs(ctx, client.ListOptions{
			Start: 0, End: 2, Sort: "priority,id", Order: "desc,asc",
			Filters: map[string][]string{"priority": {"high", "urgent"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != 3 || len(got) != 2 || got[0].ID != id(3) || got[1].ID != id(2) {
			t.Errorf("ListJobs: total %d, %d items %+v", total, len(got), got)
		}
	})

	t.Run("tasks", func(t *testing.T) {
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"_sort=name&_order=desc", []string{"weather-api", "order-validation", "async-pipeline", "addition"}},
			{"enabled=true&_sort=name&_start=1&_end=3", []string{"async-pipeline", "order-validation"}},
			{"name_like=-&_sort=name", []string{"async-pipeline", "order-validation", "weather-api"}},
			{"q=weather", []string{"weather-api"}},
			{"label=Addition", []string{"addition"}},
			{"version_ne=1.0.0", []string{"order-validation"}},
			{"id=1&id=4&_sort=id", []string{"addition", "weather-api"}},
		} {
			r := e.do(http.MethodGet, "/api/v1/tasks?"+c.query, nil)
			expect(t, r, http.StatusOK, c.query)
			var tasks []apitypes.Task
			r.decode(t, &tasks)
			var names []string
			for _, tk := range tasks {
				names = append(names, tk.Name)
			}
			if !slices.Equal(names, c.want) {
				t.Errorf("tasks?%s: %v, want %v", c.query, names, c.want)
			}
		}
	})

	t.Run("workers", func(t *testing.T) {
		for _, c := range []struct {
			query string
			want  []string
			total string
		}{
			{"_sort=id&_order=desc", []string{"node-a-worker-2", "node-a-worker-1"}, "2"},
			{"_sort=id&_start=1&_end=2", []string{"node-a-worker-2"}, "2"},
			{"node=node-a&pid_gte=1&restarts_lte=0&_sort=id", []string{"node-a-worker-1", "node-a-worker-2"}, "2"},
			{"id_ne=node-a-worker-1", []string{"node-a-worker-2"}, "1"},
			{"id_like=WORKER-1", []string{"node-a-worker-1"}, "1"},
			{"q=worker-2", []string{"node-a-worker-2"}, "1"},
			{"status=idle&status=busy&status=starting&_sort=id", []string{"node-a-worker-1", "node-a-worker-2"}, "2"},
			{"status=crashed", nil, "0"},
			{"node=elsewhere", nil, "0"},
			{"started_at_lte=2000-01-01", nil, "0"},
		} {
			r := e.do(http.MethodGet, "/api/v1/workers?"+c.query, nil)
			expect(t, r, http.StatusOK, c.query)
			var ws []apitypes.Worker
			r.decode(t, &ws)
			var ids []string
			for _, w := range ws {
				ids = append(ids, w.ID)
			}
			if !slices.Equal(ids, c.want) || r.Header.Get("X-Total-Count") != c.total {
				t.Errorf("workers?%s: %v (total %s), want %v (total %s)", c.query, ids, r.Header.Get("X-Total-Count"), c.want, c.total)
			}
		}
		w, err := e.client.GetWorker(ctx, "node-a-worker-2")
		if err != nil || w.Node != "node-a" || w.PID <= 0 {
			t.Errorf("GetWorker: %+v %v", w, err)
		}
		st, err := e.client.WorkerStats(ctx)
		if err != nil || st.Total != 2 || st.Nodes != 1 || st.ByNode["node-a"] != 2 {
			t.Errorf("WorkerStats: %+v %v", st, err)
		}
	})

	t.Run("getOne", func(t *testing.T) {
		r := e.do(http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d", id(2)), nil)
		expect(t, r, http.StatusOK, "getOne")
		var j apitypes.Job
		r.decode(t, &j)
		if j.ID != id(2) || j.TaskName != "order-validation" || j.Priority != core.PriorityHigh {
			t.Errorf("getOne: %+v", j)
		}
		// By uuid too.
		r = e.do(http.MethodGet, "/api/v1/jobs/"+j.UUID, nil)
		expect(t, r, http.StatusOK, "get by uuid")
		// Tasks by id, uuid and name.
		task, err := e.client.GetTask(ctx, "weather-api")
		if err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{strconv.FormatInt(task.ID, 10), task.UUID, task.Name} {
			got, err := e.client.GetTask(ctx, ref)
			if err != nil || got.ID != task.ID {
				t.Errorf("GetTask(%q) = %+v, %v", ref, got, err)
			}
		}
	})

	t.Run("create update delete", func(t *testing.T) {
		// Refine's create: POST with the record, 201.
		r := e.do(http.MethodPost, "/api/v1/schedules", map[string]any{
			"task_id": "addition", "name": "every-minute", "cron_expression": "* * * * *", "input": map[string]any{"num1": 1, "num2": 2}, "enabled": false,
		})
		expect(t, r, http.StatusCreated, "create")
		var s apitypes.Schedule
		r.decode(t, &s)
		if loc := r.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/schedules/%d", s.ID) {
			t.Errorf("Location %q", loc)
		}
		if s.Name != "every-minute" || s.Enabled || s.CronExpression != "* * * * *" {
			t.Errorf("created %+v", s)
		}
		// update: PATCH with the changed fields.
		r = e.do(http.MethodPatch, fmt.Sprintf("/api/v1/schedules/%d", s.ID), map[string]any{"name": "hourly", "cron_expression": "@hourly"})
		expect(t, r, http.StatusOK, "update")
		var u apitypes.Schedule
		r.decode(t, &u)
		if u.Name != "hourly" || u.CronExpression != "@hourly" || u.Enabled || string(u.Input) != `{"num1":1,"num2":2}` {
			t.Errorf("updated %+v (input %s)", u, u.Input)
		}
		// The list sees it.
		list, total, err := e.client.ListSchedules(ctx, client.ListOptions{Filters: map[string][]string{"name": {"hourly"}}})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != s.ID {
			t.Errorf("ListSchedules name=hourly: %v, %d, %v", list, total, err)
		}
		// deleteOne: DELETE, 204, then 404.
		r = e.do(http.MethodDelete, fmt.Sprintf("/api/v1/schedules/%d", s.ID), nil)
		expect(t, r, http.StatusNoContent, "delete")
		if len(r.Body) != 0 {
			t.Errorf("204 with a body: %s", r.Body)
		}
		r = e.do(http.MethodGet, fmt.Sprintf("/api/v1/schedules/%d", s.ID), nil)
		expect(t, r, http.StatusNotFound, "get after delete")
	})
}
