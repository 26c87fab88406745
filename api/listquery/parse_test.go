package listquery

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/core"
)

func mustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return v
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  *Resource
		raw  string
		want core.ListQuery
	}{
		{"empty", Jobs, "", core.ListQuery{Limit: core.DefaultPageSize}},
		{"refine page", Jobs, "_start=10&_end=20", core.ListQuery{Offset: 10, Limit: 10}},
		{"end only", Jobs, "_end=5", core.ListQuery{Limit: 5}},
		{"longest pattern", Jobs, "task_name_like=" + strings.Repeat("é", MaxPatternLength), core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{{Field: "task_name", Op: core.OpLike, Values: []string{strings.Repeat("é", MaxPatternLength)}}},
		}},
		{"start only", Jobs, "_start=50", core.ListQuery{Offset: 50, Limit: core.DefaultPageSize}},
		{"limit offset", Jobs, "limit=7&offset=3", core.ListQuery{Offset: 3, Limit: 7}},
		{"sort", Jobs, "_sort=created_at&_order=desc", core.ListQuery{
			Limit: core.DefaultPageSize, Sort: []core.SortField{{Field: "created_at", Desc: true}},
		}},
		{"sort lists", Tasks, "_sort=name,%20id&_order=ASC", core.ListQuery{
			Limit: core.DefaultPageSize, Sort: []core.SortField{{Field: "name"}, {Field: "id"}},
		}},
		{"eq", Jobs, "status=failed", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{{Field: "status", Op: core.OpEq, Values: []string{"failed"}}},
		}},
		{"in", Tasks, "id=1&id=2&id=3", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{{Field: "id", Op: core.OpIn, Values: []string{"1", "2", "3"}}},
		}},
		{"operators", Executions, "task_name_like=hel&attempt_gte=2&attempt_lte=4&status_ne=failed&status_ne=cancelled", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{
				{Field: "attempt", Op: core.OpGte, Values: []string{"2"}},
				{Field: "attempt", Op: core.OpLte, Values: []string{"4"}},
				{Field: "status", Op: core.OpNe, Values: []string{"failed"}},
				{Field: "status", Op: core.OpNe, Values: []string{"cancelled"}},
				{Field: "task_name", Op: core.OpLike, Values: []string{"hel"}},
			},
		}},
		{"null", Jobs, "schedule_id=null&execution_id_ne=", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{
				{Field: "execution_id", Op: core.OpNe, Values: []string{""}},
				{Field: "schedule_id", Op: core.OpEq, Values: []string{"null"}},
			},
		}},
		{"times and priorities", Jobs, "created_at_gte=2024-01-02T03:04:05Z&priority=high&priority=3", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{
				{Field: "created_at", Op: core.OpGte, Values: []string{"2024-01-02T03:04:05Z"}},
				{Field: "priority", Op: core.OpIn, Values: []string{"high", "3"}},
			},
		}},
		{"q and reserved", Schedules, "q=nightly&_=12345&_embed=x", core.ListQuery{Limit: core.DefaultPageSize, Q: "nightly"}},
		{"deliveries by job", Deliveries, "job_id=9&success=false", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{
				{Field: "job_id", Op: core.OpEq, Values: []string{"9"}},
				{Field: "success", Op: core.OpEq, Values: []string{"false"}},
			},
		}},
		{"worker ids are text", Workers, "id_like=node-1&node=a", core.ListQuery{
			Limit: core.DefaultPageSize, Filters: []core.Filter{
				{Field: "id", Op: core.OpLike, Values: []string{"node-1"}},
				{Field: "node", Op: core.OpEq, Values: []string{"a"}},
			},
		}},
		{"max page", Jobs, "_start=0&_end=1000", core.ListQuery{Limit: core.MaxPageSize}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(mustQuery(t, tt.raw), tt.res)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, param, mention string
	}{
		{"unknown filter", "colour=red", "colour", `"colour"`},
		{"unknown with suffix", "colour_like=red", "colour_like", `"colour_like"`},
		{"unknown sort", "_sort=password", "_sort", `"password"`},
		{"bad start", "_start=abc", "_start", "_start"},
		{"negative end", "_end=-1", "_end", "_end"},
		{"end before start", "_start=10&_end=5", "_end", "_end"},
		{"empty range", "_start=10&_end=10", "_end", "_end"},
		{"too large", "_start=0&_end=1001", "_end", "too large"},
		{"limit too large", "limit=5000", "limit", "too large"},
		{"limit zero", "limit=0", "limit", "limit"},
		{"mixed paging", "_start=0&limit=5", "limit", "either"},
		{"bad order", "_sort=id&_order=up", "_order", "asc or desc"},
		{"order without sort", "_order=desc", "_order", "_sort"},
		{"too many orders", "_sort=id&_order=asc,desc", "_order", "2 values"},
		{"repeated q", "q=a&q=b", "q", "2 times"},
		{"bad integer", "task_id=abc", "task_id", "integer"},
		{"bad integer in list", "id=1&id=x", "id", "integer"},
		{"bad enum", "status=exploded", "status", "queued"},
		{"bad time", "created_at_gte=yesterday", "created_at_gte", "RFC 3339"},
		{"bad bool", "schedule_id=1&enabled=yes", "", ""},
		{"like on number", "attempts_like=1", "attempts_like", "text fields"},
		{"gte on bool", "", "", ""},
		{"bad priority", "priority=9", "priority", "0 to 3"},
		{"null on non-nullable", "task_id=null", "task_id", "integer"},
		{"q too long", "q=" + strings.Repeat("%25", 60000), "q", "at most 1000"},
		{"like too long", "task_name_like=" + strings.Repeat("a", MaxPatternLength+1), "task_name_like", "at most 1000"},
		{"like too long in characters", "task_name_like=" + strings.Repeat("é", MaxPatternLength+1), "task_name_like", "1001 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := tt.raw
			switch tt.name {
			case "bad bool": // jobs have no boolean field: use schedules
				_, err := Parse(mustQuery(t, "enabled=yes"), Schedules)
				assertInvalid(t, err, "enabled", "true or false")
				return
			case "gte on bool":
				_, err := Parse(mustQuery(t, "enabled_gte=true"), Schedules)
				assertInvalid(t, err, "enabled_gte", "boolean")
				return
			}
			_, err := Parse(mustQuery(t, raw), Jobs)
			assertInvalid(t, err, tt.param, tt.mention)
		})
	}
}

func assertInvalid(t *testing.T, err error, param, mention string) {
	t.Helper()
	if err == nil {
		t.Fatal("Parse succeeded, want an error")
	}
	if !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("error %v is not an invalid-argument error", err)
	}
	if got := core.HTTPStatusOf(err); got != http.StatusBadRequest {
		t.Errorf("status %d, want 400", got)
	}
	var ce *core.Error
	errors.As(err, &ce)
	if p, _ := ce.Details["parameter"].(string); param != "" && p != param {
		t.Errorf("details.parameter = %q, want %q (err %v)", p, param, err)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Errorf("error %q does not mention %q", err, mention)
	}
}

func TestUnknownFieldListsAllowed(t *testing.T) {
	t.Parallel()
	_, err := Parse(mustQuery(t, "nope=1"), Tasks)
	if err == nil || !strings.Contains(err.Error(), "name") || !strings.Contains(err.Error(), "tasks") {
		t.Fatalf("error %v should name the resource and its fields", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	raw := "_start=20&_end=40&_sort=status,created_at&_order=asc,desc&status=queued&status=failed&task_name_like=x&created_at_lte=2025-01-01&q=hi"
	q1, err := Parse(mustQuery(t, raw), Jobs)
	if err != nil {
		t.Fatal(err)
	}
	q2, err := Parse(Encode(q1), Jobs)
	if err != nil {
		t.Fatalf("Parse(Encode(q)): %v", err)
	}
	if !reflect.DeepEqual(q1, q2) {
		t.Errorf("round trip changed the query\n got %+v\nwant %+v", q2, q1)
	}
}

func TestContentRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		offset, count, total int
		want                 string
	}{
		{0, 10, 57, "jobs 0-9/57"},
		{50, 7, 57, "jobs 50-56/57"},
		{0, 0, 0, "jobs */0"},
		{100, 0, 57, "jobs */57"},
	}
	for _, tt := range tests {
		got := ContentRange("jobs", tt.offset, tt.count, tt.total)
		if got != tt.want {
			t.Errorf("ContentRange(%d, %d, %d) = %q, want %q", tt.offset, tt.count, tt.total, got, tt.want)
		}
		res, first, last, total, err := ParseContentRange(got)
		if err != nil || res != "jobs" || total != tt.total {
			t.Errorf("ParseContentRange(%q) = %q %d %d %d %v", got, res, first, last, total, err)
		}
		if tt.count > 0 && (first != tt.offset || last != tt.offset+tt.count-1) {
			t.Errorf("ParseContentRange(%q) range %d-%d", got, first, last)
		}
	}
	h := http.Header{}
	SetHeaders(h, "tasks", 0, 2, 2)
	if h.Get("X-Total-Count") != "2" || h.Get("Content-Range") != "tasks 0-1/2" {
		t.Errorf("headers %v", h)
	}
	for _, bad := range []string{"", "jobs", "jobs 1-2", "jobs 3-1/5", "jobs a-b/3", "jobs 0-1/x"} {
		if _, _, _, _, err := ParseContentRange(bad); err == nil {
			t.Errorf("ParseContentRange(%q) succeeded", bad)
		}
	}
}

func TestResourcesAreConsistent(t *testing.T) {
	t.Parallel()
	for _, r := range Resources {
		seen := map[string]bool{}
		for _, f := range r.Fields {
			if seen[f.Name] {
				t.Errorf("%s: field %s listed twice", r.Name, f.Name)
			}
			seen[f.Name] = true
			if f.Type == Enum && len(f.Enum) == 0 {
				t.Errorf("%s.%s: enum without values", r.Name, f.Name)
			}
			for _, s := range suffixes {
				if strings.HasSuffix(f.Name, s.suffix) {
					t.Errorf("%s.%s ends with an operator suffix", r.Name, f.Name)
				}
			}
		}
		for _, s := range r.Search {
			if !seen[s] {
				t.Errorf("%s: search field %s is not a field", r.Name, s)
			}
		}
	}
}
