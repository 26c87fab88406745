package listquery

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ratchet-go/ratchet/core"
)

// Query parameters of the Refine simple-rest convention.
const (
	ParamStart  = "_start"
	ParamEnd    = "_end"
	ParamSort   = "_sort"
	ParamOrder  = "_order"
	ParamLimit  = "limit"
	ParamOffset = "offset"
	ParamQ      = "q"
)

// Filter operator suffixes: field_ne=v, field_like=v, field_gte=v,
// field_lte=v. A bare field=v is equality, and repeating it is IN.
var suffixes = []struct {
	suffix string
	op     core.FilterOp
}{
	{"_ne", core.OpNe}, {"_like", core.OpLike}, {"_gte", core.OpGte}, {"_lte", core.OpLte},
}

// MaxOffset bounds _start, _end, offset and limit.
const MaxOffset = math.MaxInt32

// MaxPatternLength bounds, in characters, a q search and a field_like
// pattern: far below SQLite's LIKE pattern limit (50,000 bytes, with room
// for escaping and 4-byte characters) and longer than any useful search.
const MaxPatternLength = 1000

// Parse reads a list request's query into a normalized core.ListQuery for
// res (SPEC §4.1):
//
//   - _start and _end (end exclusive) or offset and limit select the page;
//     the default page size is core.DefaultPageSize, the largest
//     core.MaxPageSize;
//   - _sort and _order are comma lists of fields and asc|desc (an order
//     missing for a field is asc);
//   - field=v filters by equality, repeated field=v&field=w is IN;
//     field_ne, field_like (text fields), field_gte and field_lte compare;
//     field= or field=null matches null on nullable fields;
//   - q is a free-text search;
//   - q and field_like values are at most MaxPatternLength characters;
//   - any other parameter starting with "_" (such as a cache-busting "_")
//     is reserved and ignored.
//
// Unknown filter or sort fields, values of the wrong type, bad numbers and
// repeated scalar parameters are core.KindInvalidArgument errors (400)
// whose details name the parameter.
func Parse(values url.Values, res *Resource) (core.ListQuery, error) {
	var q core.ListQuery
	scalar := func(key string) (string, bool, error) {
		vs, ok := values[key]
		if !ok {
			return "", false, nil
		}
		if len(vs) != 1 {
			return "", false, badParam(key, "parameter %s is given %d times: give it once", key, len(vs))
		}
		return vs[0], true, nil
	}
	number := func(key string) (int, bool, error) {
		s, ok, err := scalar(key)
		if err != nil || !ok {
			return 0, ok, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > MaxOffset {
			return 0, false, badParam(key, "invalid %s %q: want a whole number from 0 to %d", key, s, MaxOffset)
		}
		return n, true, nil
	}

	start, hasStart, err := number(ParamStart)
	if err != nil {
		return q, err
	}
	end, hasEnd, err := number(ParamEnd)
	if err != nil {
		return q, err
	}
	offset, hasOffset, err := number(ParamOffset)
	if err != nil {
		return q, err
	}
	limit, hasLimit, err := number(ParamLimit)
	if err != nil {
		return q, err
	}
	switch {
	case (hasStart || hasEnd) && (hasOffset || hasLimit):
		key := ParamOffset
		if hasLimit {
			key = ParamLimit
		}
		return q, badParam(key, "use either _start/_end or offset/limit, not both")
	case hasStart || hasEnd:
		q.Offset = start
		if hasEnd {
			if end <= start {
				return q, badParam(ParamEnd, "invalid _end %d: must be greater than _start (%d)", end, start)
			}
			q.Limit = end - start
		}
	default:
		q.Offset = offset
		if hasLimit {
			if limit == 0 {
				return q, badParam(ParamLimit, "invalid limit 0: must be between 1 and %d", core.MaxPageSize)
			}
			q.Limit = limit
		}
	}
	if q.Limit > core.MaxPageSize {
		key := ParamLimit
		if hasEnd {
			key = ParamEnd
		}
		return q, badParam(key, "page of %d items is too large: at most %d", q.Limit, core.MaxPageSize)
	}

	if q.Sort, err = parseSort(values, res, scalar); err != nil {
		return q, err
	}
	if s, ok, err := scalar(ParamQ); err != nil {
		return q, err
	} else if ok {
		if err := checkPattern(ParamQ, s); err != nil {
			return q, err
		}
		q.Q = s
	}

	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		switch key {
		case ParamStart, ParamEnd, ParamSort, ParamOrder, ParamLimit, ParamOffset, ParamQ:
			continue
		}
		if strings.HasPrefix(key, "_") {
			continue // reserved
		}
		fs, err := parseFilter(res, key, values[key])
		if err != nil {
			return q, err
		}
		q.Filters = append(q.Filters, fs...)
	}
	if err := q.Normalize(); err != nil {
		return q, err
	}
	return q, nil
}

func parseSort(values url.Values, res *Resource, scalar func(string) (string, bool, error)) ([]core.SortField, error) {
	sortRaw, _, err := scalar(ParamSort)
	if err != nil {
		return nil, err
	}
	orderRaw, hasOrder, err := scalar(ParamOrder)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(sortRaw) == "" {
		if hasOrder && strings.TrimSpace(orderRaw) != "" {
			return nil, badParam(ParamOrder, "_order needs _sort")
		}
		return nil, nil
	}
	names := strings.Split(sortRaw, ",")
	var orders []string
	if strings.TrimSpace(orderRaw) != "" {
		orders = strings.Split(orderRaw, ",")
	}
	if len(orders) > len(names) {
		return nil, badParam(ParamOrder, "_order has %d values for %d _sort fields", len(orders), len(names))
	}
	out := make([]core.SortField, 0, len(names))
	for i, n := range names {
		n = strings.TrimSpace(n)
		fd, ok := res.Field(n)
		if !ok || fd.NoSort {
			return nil, core.Errorf(core.KindInvalidArgument, "unknown sort field %q for %s: use one of %s",
				n, res.Name, strings.Join(res.SortNames(), ", ")).
				WithDetail("parameter", ParamSort).WithDetail("field", n)
		}
		sf := core.SortField{Field: n}
		if i < len(orders) {
			switch strings.ToLower(strings.TrimSpace(orders[i])) {
			case "asc":
			case "desc":
				sf.Desc = true
			default:
				return nil, badParam(ParamOrder, "invalid _order %q: want asc or desc", orders[i])
			}
		}
		out = append(out, sf)
	}
	return out, nil
}

// parseFilter turns one query parameter into filters.
func parseFilter(res *Resource, key string, vals []string) ([]core.Filter, error) {
	name, op := key, core.OpEq
	fd, ok := res.Field(key)
	if !ok {
		for _, s := range suffixes {
			if base, cut := strings.CutSuffix(key, s.suffix); cut {
				if fd, ok = res.Field(base); ok {
					name, op = base, s.op
				}
				break
			}
		}
	}
	if !ok {
		return nil, core.Errorf(core.KindInvalidArgument, "unknown filter field %q for %s: use one of %s (with _ne, _like, _gte or _lte), q, _start, _end, _sort or _order",
			key, res.Name, strings.Join(res.FieldNames(), ", ")).
			WithDetail("parameter", key).WithDetail("field", key)
	}
	switch op {
	case core.OpLike:
		if fd.Type != String && fd.Type != Enum {
			return nil, badParam(key, "%s applies to text fields only; %s is %s", key, name, fd.Type)
		}
	case core.OpGte, core.OpLte:
		if fd.Type == Boolean {
			return nil, badParam(key, "%s does not apply to the boolean field %s", key, name)
		}
	}
	isNull := func(v string) bool { return fd.Nullable && (v == "" || v == "null") }
	check := func(v string, nullOK bool) error {
		if nullOK && isNull(v) {
			return nil
		}
		if op == core.OpLike {
			return checkPattern(key, v)
		}
		if why := checkValue(fd, v); why != "" {
			return badParam(key, "invalid value %q for %s: %s", v, key, why)
		}
		return nil
	}
	if op == core.OpEq && len(vals) > 1 {
		for _, v := range vals {
			if err := check(v, false); err != nil {
				return nil, err
			}
		}
		return []core.Filter{{Field: name, Op: core.OpIn, Values: slices.Clone(vals)}}, nil
	}
	out := make([]core.Filter, 0, len(vals))
	for _, v := range vals {
		if err := check(v, op == core.OpEq || op == core.OpNe); err != nil {
			return nil, err
		}
		out = append(out, core.Filter{Field: name, Op: op, Values: []string{v}})
	}
	return out, nil
}

// checkPattern refuses a search pattern longer than MaxPatternLength.
func checkPattern(key, v string) error {
	if n := utf8.RuneCountInString(v); n > MaxPatternLength {
		return core.Errorf(core.KindInvalidArgument, "%s is too long (%d characters): at most %d", key, n, MaxPatternLength).
			WithDetail("parameter", key).WithDetail("max_length", MaxPatternLength)
	}
	return nil
}

func badParam(key, format string, args ...any) error {
	return core.Errorf(core.KindInvalidArgument, format, args...).WithDetail("parameter", key)
}

// Encode is the inverse of Parse: the query parameters that select q.
func Encode(q core.ListQuery) url.Values {
	v := url.Values{}
	if q.Offset > 0 || q.Limit > 0 {
		v.Set(ParamStart, strconv.Itoa(q.Offset))
	}
	if q.Limit > 0 {
		v.Set(ParamEnd, strconv.Itoa(q.Offset+q.Limit))
	}
	if len(q.Sort) > 0 {
		names := make([]string, len(q.Sort))
		orders := make([]string, len(q.Sort))
		for i, s := range q.Sort {
			names[i] = s.Field
			orders[i] = "asc"
			if s.Desc {
				orders[i] = "desc"
			}
		}
		v.Set(ParamSort, strings.Join(names, ","))
		v.Set(ParamOrder, strings.Join(orders, ","))
	}
	if q.Q != "" {
		v.Set(ParamQ, q.Q)
	}
	for _, f := range q.Filters {
		key := f.Field
		switch f.Op {
		case core.OpEq, core.OpIn:
		default:
			key += "_" + string(f.Op)
		}
		for _, val := range f.Values {
			v.Add(key, val)
		}
	}
	return v
}

// Response headers of a list.
const (
	HeaderTotalCount   = "X-Total-Count"
	HeaderContentRange = "Content-Range"
)

// ExposedHeaders are the list headers CORS must expose to browsers.
var ExposedHeaders = []string{HeaderTotalCount, HeaderContentRange}

// ContentRange is the Content-Range of a page: "<resource> <first>-<last>/<total>"
// with inclusive item indexes, or "<resource> */<total>" for an empty page.
func ContentRange(resource string, offset, count, total int) string {
	if count <= 0 {
		return fmt.Sprintf("%s */%d", resource, total)
	}
	return fmt.Sprintf("%s %d-%d/%d", resource, offset, offset+count-1, total)
}

// SetHeaders sets X-Total-Count and Content-Range for a page of count items
// starting at offset, out of total.
func SetHeaders(h http.Header, resource string, offset, count, total int) {
	h.Set(HeaderTotalCount, strconv.Itoa(total))
	h.Set(HeaderContentRange, ContentRange(resource, offset, count, total))
}

// ParseContentRange reads a Content-Range written by ContentRange. first
// and last are -1 for an empty page.
func ParseContentRange(s string) (resource string, first, last, total int, err error) {
	fail := func() (string, int, int, int, error) {
		return "", 0, 0, 0, fmt.Errorf("invalid Content-Range %q", s)
	}
	resource, rest, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return fail()
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return fail()
	}
	if total, err = strconv.Atoi(tot); err != nil || total < 0 {
		return fail()
	}
	if rng == "*" {
		return resource, -1, -1, total, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return fail()
	}
	if first, err = strconv.Atoi(a); err != nil || first < 0 {
		return fail()
	}
	if last, err = strconv.Atoi(b); err != nil || last < first {
		return fail()
	}
	return resource, first, last, total, nil
}
