package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func eq(field string, v ...string) core.Filter {
	op := core.OpEq
	if len(v) > 1 {
		op = core.OpIn
	}
	return core.Filter{Field: field, Op: op, Values: v}
}

func flt(field string, op core.FilterOp, v ...string) core.Filter {
	return core.Filter{Field: field, Op: op, Values: v}
}

// listFixture makes 20 jobs over two tasks: job i has priority i%4, task
// alpha for even i, created one minute apart from base; jobs 0-4 are
// completed, 5-7 failed (error "boom i"), the rest queued.
func listFixture(t *testing.T, st *sqlstore.Store) (base time.Time, ids []int64, alpha, beta core.Task) {
	ctx := t.Context()
	alpha = seedTask(t, st, "alpha")
	beta = seedTask(t, st, "beta_task")
	base = time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC)
	clock := base
	st.SetClock(func() time.Time { return clock })
	for i := range 20 {
		clock = base.Add(time.Duration(i) * time.Minute)
		task := alpha
		if i%2 == 1 {
			task = beta
		}
		j := enqueue(t, st, core.Job{TaskID: task.ID, Priority: core.Priority(i % 4), MaxRetries: i})
		ids = append(ids, j.ID)
	}
	clock = base.Add(time.Hour)
	jobs := st.Jobs()
	// Claim all, then settle: 0-4 completed, 5-7 failed, the rest queued.
	claimed := must[[]core.Job](t)(jobs.Claim(ctx, "fixture", 100, time.Minute))
	if len(claimed) != 20 {
		t.Fatalf("fixture claimed %d", len(claimed))
	}
	for i, id := range ids {
		switch {
		case i < 5:
			must[core.Job](t)(jobs.Complete(ctx, id, sqlstore.Outcome{}))
		case i < 8:
			must[core.Job](t)(jobs.Fail(ctx, id, sqlstore.Outcome{ErrorType: "DataError", ErrorMessage: fmt.Sprintf("boom %d", i)}))
		default:
			must[core.Job](t)(jobs.Requeue(ctx, id, sqlstore.RequeueOptions{ProcessAt: base.Add(time.Duration(i) * time.Minute)}))
		}
	}
	return base, ids, alpha, beta
}

func jobIDs(p core.Page[core.Job]) []int64 {
	out := make([]int64, len(p.Items))
	for i, j := range p.Items {
		out[i] = j.ID
	}
	return out
}

func pick(ids []int64, idx ...int) []int64 {
	out := make([]int64, len(idx))
	for i, k := range idx {
		out[i] = ids[k]
	}
	return out
}

func rangeIdx(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func testListOperators(t *testing.T, open Opener) {
	st := Migrated(t, open)
	base, ids, alpha, _ := listFixture(t, st)
	asc := []core.SortField{{Field: "id"}}

	cases := []struct {
		name    string
		filters []core.Filter
		q       string
		want    []int64
	}{
		{"eq status", []core.Filter{eq("status", "completed")}, "", pick(ids, 0, 1, 2, 3, 4)},
		{"eq status case-insensitive", []core.Filter{eq("status", "FAILED")}, "", pick(ids, 5, 6, 7)},
		{"in status", []core.Filter{eq("status", "failed", "completed")}, "", pick(ids, rangeIdx(0, 8)...)},
		{"ne status", []core.Filter{flt("status", core.OpNe, "queued")}, "", pick(ids, rangeIdx(0, 8)...)},
		{"eq priority by name", []core.Filter{eq("priority", "high")}, "", pick(ids, 2, 6, 10, 14, 18)},
		{"eq priority critical", []core.Filter{eq("priority", "critical")}, "", pick(ids, 3, 7, 11, 15, 19)},
		{"eq priority number", []core.Filter{eq("priority", "0")}, "", pick(ids, 0, 4, 8, 12, 16)},
		{"gte priority", []core.Filter{flt("priority", core.OpGte, "high"), eq("status", "completed")}, "", pick(ids, 2, 3)},
		{"in priority", []core.Filter{eq("priority", "low", "urgent"), flt("max_retries", core.OpLte, "4")}, "", pick(ids, 0, 3, 4)},
		{"eq task_id", []core.Filter{eq("task_id", fmt.Sprint(alpha.ID)), eq("status", "completed")}, "", pick(ids, 0, 2, 4)},
		{"like task_name", []core.Filter{flt("task_name", core.OpLike, "TA_K")}, "", nil},
		{"like task_name underscore literal", []core.Filter{flt("task_name", core.OpLike, "a_t")}, "", pick(ids, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)},
		{"like error_message", []core.Filter{flt("error_message", core.OpLike, "oom 6")}, "", pick(ids, 6)},
		{"like percent literal", []core.Filter{flt("error_message", core.OpLike, "%")}, "", nil},
		{"gte lte created_at", []core.Filter{
			flt("created_at", core.OpGte, base.Add(3*time.Minute).Format(time.RFC3339)),
			flt("created_at", core.OpLte, base.Add(5*time.Minute).Format(time.RFC3339Nano)),
		}, "", pick(ids, 3, 4, 5)},
		{"gte max_retries", []core.Filter{flt("max_retries", core.OpGte, "18")}, "", pick(ids, 18, 19)},
		{"lte id", []core.Filter{flt("id", core.OpLte, fmt.Sprint(ids[1]))}, "", pick(ids, 0, 1)},
		{"in id", []core.Filter{eq("id", fmt.Sprint(ids[3]), fmt.Sprint(ids[9]))}, "", pick(ids, 3, 9)},
		{"null completed_at", []core.Filter{eq("completed_at", "null")}, "", pick(ids, rangeIdx(8, 20)...)},
		{"not null completed_at", []core.Filter{flt("completed_at", core.OpNe, "null")}, "", pick(ids, rangeIdx(0, 8)...)},
		{"date-only time", []core.Filter{flt("created_at", core.OpGte, "2031-03-02")}, "", nil},
		{"q task name", nil, "BETA", pick(ids, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)},
		{"q error", []core.Filter{eq("status", "failed")}, "boom 7", pick(ids, 7)},
		{"q nothing", nil, "zzz", nil},
		{"sql in a value is a literal", []core.Filter{eq("task_name", "alpha' OR '1'='1")}, "", nil},
		{"sql in like is a literal", []core.Filter{flt("task_name", core.OpLike, "'; DROP TABLE jobs; --")}, "", nil},
		{"sql in q is a literal", nil, "') OR 1=1 --", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			page := must[core.Page[core.Job]](t)(st.Jobs().List(t.Context(), core.ListQuery{Filters: tc.filters, Q: tc.q, Sort: asc}))
			got := jobIDs(page)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if page.Total != len(tc.want) {
				t.Fatalf("total %d, want %d", page.Total, len(tc.want))
			}
		})
	}
	// The table survived the injection attempts.
	if p := must[core.Page[core.Job]](t)(st.Jobs().List(t.Context(), core.ListQuery{})); p.Total != 20 {
		t.Fatalf("%d jobs after injection attempts, want 20", p.Total)
	}
}

func testListSortAndPage(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	_, ids, _, _ := listFixture(t, st)
	jobs := st.Jobs()

	// Default: newest first.
	page := must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Limit: 3}))
	if !slices.Equal(jobIDs(page), pick(ids, 19, 18, 17)) || page.Total != 20 {
		t.Fatalf("default order = %v total %d", jobIDs(page), page.Total)
	}
	// Priority descending, then created_at ascending.
	page = must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{
		Sort: []core.SortField{{Field: "priority", Desc: true}, {Field: "created_at"}}, Limit: 7,
	}))
	if !slices.Equal(jobIDs(page), pick(ids, 3, 7, 11, 15, 19, 2, 6)) {
		t.Fatalf("priority desc, created_at = %v", jobIDs(page))
	}
	// Paging walks every row once, with the total on each page.
	var all []int64
	for off := 0; ; off += 6 {
		p := must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Sort: []core.SortField{{Field: "task_name"}, {Field: "id", Desc: true}}, Offset: off, Limit: 6}))
		if p.Total != 20 {
			t.Fatalf("page at %d: total %d", off, p.Total)
		}
		all = append(all, jobIDs(p)...)
		if len(p.Items) < 6 {
			break
		}
	}
	want := append(pick(ids, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0), pick(ids, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1)...)
	if !slices.Equal(all, want) {
		t.Fatalf("paged = %v, want %v", all, want)
	}
	// Past the end: an empty page that still carries the total.
	p := must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Offset: 40, Limit: 10}))
	if len(p.Items) != 0 || p.Total != 20 {
		t.Fatalf("past the end: %d items, total %d", len(p.Items), p.Total)
	}
	// Sort on a nullable time: NULLs first ascending.
	p = must[core.Page[core.Job]](t)(jobs.List(ctx, core.ListQuery{Sort: []core.SortField{{Field: "completed_at"}}, Limit: 20}))
	if p.Items[0].CompletedAt != nil || p.Items[19].CompletedAt == nil {
		t.Fatalf("completed_at asc: first %v last %v", p.Items[0].CompletedAt, p.Items[19].CompletedAt)
	}
}

func testListBadInput(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	seedTask(t, st, "bad")
	bad := []struct {
		name  string
		q     core.ListQuery
		field string
	}{
		{"unknown sort", core.ListQuery{Sort: []core.SortField{{Field: "nope"}}}, "nope"},
		{"sort injection", core.ListQuery{Sort: []core.SortField{{Field: "id; DROP TABLE jobs"}}}, "id; DROP TABLE jobs"},
		{"unknown filter", core.ListQuery{Filters: []core.Filter{eq("password", "x")}}, "password"},
		{"json field not filterable", core.ListQuery{Filters: []core.Filter{eq("input", "x")}}, "input"},
		{"bad status", core.ListQuery{Filters: []core.Filter{eq("status", "sleeping")}}, "status"},
		{"bad priority", core.ListQuery{Filters: []core.Filter{eq("priority", "9")}}, "priority"},
		{"bad priority name", core.ListQuery{Filters: []core.Filter{eq("priority", "meh")}}, "priority"},
		{"bad int", core.ListQuery{Filters: []core.Filter{eq("id", "1 OR 1=1")}}, "id"},
		{"bad time", core.ListQuery{Filters: []core.Filter{flt("created_at", core.OpGte, "yesterday")}}, "created_at"},
		{"like on a number", core.ListQuery{Filters: []core.Filter{flt("attempts", core.OpLike, "1")}}, "attempts"},
		{"bad operator", core.ListQuery{Filters: []core.Filter{flt("id", "regex", "1")}}, ""},
		{"eq with two values", core.ListQuery{Filters: []core.Filter{flt("id", core.OpEq, "1", "2")}}, ""},
		{"negative offset", core.ListQuery{Offset: -1}, ""},
		{"page too large", core.ListQuery{Limit: core.MaxPageSize + 1}, ""},
		{"negative limit", core.ListQuery{Limit: -5}, ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := st.Jobs().List(ctx, tc.q)
			wantKind(t, err, core.KindInvalidArgument)
			if tc.field != "" {
				ce := err.(*core.Error)
				if ce.Details["field"] != tc.field {
					t.Fatalf("error %v names field %v, want %q", err, ce.Details["field"], tc.field)
				}
			}
		})
	}
	_, err := st.Tasks().List(ctx, core.ListQuery{Sort: []core.SortField{{Field: "priority"}}})
	wantKind(t, err, core.KindInvalidArgument)
}

func testListOtherResources(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)
	a := seedTask(t, st, "list-a")
	b := seedTask(t, st, "list-b")
	must[core.Task](t)(st.Tasks().Update(ctx, core.Task{ID: b.ID, Name: "list-b", Label: "Bee", Description: "second task", Enabled: false}))

	tp := must[core.Page[core.Task]](t)(st.Tasks().List(ctx, core.ListQuery{Filters: []core.Filter{eq("enabled", "false")}}))
	if tp.Total != 1 || tp.Items[0].ID != b.ID {
		t.Fatalf("enabled=false tasks = %+v", tp)
	}
	tp = must[core.Page[core.Task]](t)(st.Tasks().List(ctx, core.ListQuery{Q: "SECOND"}))
	if tp.Total != 1 || tp.Items[0].ID != b.ID {
		t.Fatalf("q=SECOND tasks = %+v", tp)
	}
	tp = must[core.Page[core.Task]](t)(st.Tasks().List(ctx, core.ListQuery{Sort: []core.SortField{{Field: "name", Desc: true}}}))
	if tp.Total != 2 || tp.Items[0].ID != b.ID || tp.Items[1].ID != a.ID {
		t.Fatalf("tasks by name desc = %+v", tp)
	}
	_, err := st.Tasks().List(ctx, core.ListQuery{Filters: []core.Filter{eq("enabled", "maybe")}})
	wantKind(t, err, core.KindInvalidArgument)

	for i := range 3 {
		must[core.Schedule](t)(st.Schedules().Create(ctx, core.Schedule{TaskID: a.ID, Name: fmt.Sprintf("nightly-%d", i), CronExpression: "0 0 * * *", Enabled: i != 1}))
	}
	sp := must[core.Page[core.Schedule]](t)(st.Schedules().List(ctx, core.ListQuery{Filters: []core.Filter{eq("enabled", "true"), flt("name", core.OpLike, "nightly")}}))
	if sp.Total != 2 {
		t.Fatalf("enabled schedules = %d", sp.Total)
	}
	_, err = st.Schedules().List(ctx, core.ListQuery{Sort: []core.SortField{{Field: "status"}}})
	wantKind(t, err, core.KindInvalidArgument)

	e := must[core.Execution](t)(st.Executions().Create(ctx, core.Execution{TaskID: a.ID, Status: core.ExecutionFailed, ErrorType: "TimeoutError"}))
	must[core.Execution](t)(st.Executions().Create(ctx, core.Execution{TaskID: b.ID}))
	ep := must[core.Page[core.Execution]](t)(st.Executions().List(ctx, core.ListQuery{Filters: []core.Filter{eq("status", "failed")}}))
	if ep.Total != 1 || ep.Items[0].ID != e.ID {
		t.Fatalf("failed executions = %+v", ep)
	}
	ep = must[core.Page[core.Execution]](t)(st.Executions().List(ctx, core.ListQuery{Filters: []core.Filter{eq("job_id", "null")}, Q: "timeout"}))
	if ep.Total != 1 || ep.Items[0].ID != e.ID {
		t.Fatalf("q=timeout executions = %+v", ep)
	}
	_, err = st.Executions().List(ctx, core.ListQuery{Filters: []core.Filter{eq("status", "queued")}})
	wantKind(t, err, core.KindInvalidArgument)
}
