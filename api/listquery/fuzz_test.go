package listquery

import (
	"errors"
	"net/url"
	"reflect"
	"testing"

	"github.com/ratchet-go/ratchet/core"
)

// FuzzParse checks that any query string gives either a normalized query
// using only allowed fields, or an invalid-argument error; and that a parsed
// query survives Encode and Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "_start=0&_end=10", "_sort=id,name&_order=desc,asc", "status=queued&status=failed",
		"id_ne=3&created_at_gte=2024-01-01&q=x", "limit=5&offset=10", "schedule_id=null",
		"name_like=%25_%21", "_start=9223372036854775807&_end=1", "priority=critical", "_=1",
		"enabled=true&max_executions_lte=4", "status_like=fail&job_id=1&job_id=2",
	} {
		for i := range Resources {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		res := Resources[int(which)%len(Resources)]
		vals, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := Parse(vals, res)
		if err != nil {
			if !errors.Is(err, core.ErrInvalidArgument) {
				t.Fatalf("Parse(%q) error %v is not an invalid argument", raw, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > core.MaxPageSize || q.Offset < 0 {
			t.Fatalf("Parse(%q) page offset %d limit %d out of bounds", raw, q.Offset, q.Limit)
		}
		for _, fl := range q.Filters {
			if _, ok := res.Field(fl.Field); !ok {
				t.Fatalf("Parse(%q) let through field %q", raw, fl.Field)
			}
		}
		for _, s := range q.Sort {
			if _, ok := res.Field(s.Field); !ok {
				t.Fatalf("Parse(%q) let through sort field %q", raw, s.Field)
			}
		}
		again, err := Parse(Encode(q), res)
		if err != nil {
			t.Fatalf("Parse(Encode(Parse(%q))): %v", raw, err)
		}
		if !reflect.DeepEqual(q, again) {
			t.Fatalf("round trip of %q changed\n%+v\n%+v", raw, q, again)
		}
	})
}
