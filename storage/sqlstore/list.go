package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/ratchet-go/ratchet/core"
)

// fieldKind says how a list field's filter values are parsed and which
// operators apply.
type fieldKind int

const (
	kindInt fieldKind = iota
	kindString
	kindBool
	kindTime
	// kindEnum is a string column whose values are parsed (job status...).
	kindEnum
	// kindPriority is a number shown by name: "high" or "2".
	kindPriority
)

// field is one allow-listed list field. Its column is a constant of this
// package, never user input.
type field struct {
	column   string
	kind     fieldKind
	nullable bool
	// parse validates and canonicalises an enum value.
	parse func(string) (string, error)
}

// resource describes how one table is listed.
type resource struct {
	name   string
	fields map[string]field
	// search lists the text columns q looks in.
	search []string
	// defaultSort applies when the query names no sort; id breaks ties.
	defaultSort []core.SortField
}

func (r *resource) fieldNames() string {
	names := make([]string, 0, len(r.fields))
	for n := range r.fields {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// applyList adds q's filters and search to sel. Values are passed to bun as
// arguments (quoted by the dialect), never spliced into SQL text.
func (s *Store) applyFilters(sel *bun.SelectQuery, res *resource, q core.ListQuery) error {
	if strings.ContainsRune(q.Q, 0) {
		return core.Errorf(core.KindInvalidArgument, "q must not contain a NUL character").WithDetail("field", "q")
	}
	for _, f := range q.Filters {
		for _, v := range f.Values {
			if strings.ContainsRune(v, 0) {
				return core.Errorf(core.KindInvalidArgument, "filter %s: value must not contain a NUL character", f.Field).WithDetail("field", f.Field)
			}
		}
		fd, ok := res.fields[f.Field]
		if !ok {
			return core.Errorf(core.KindInvalidArgument, "unknown filter field %q for %s: use one of %s", f.Field, res.name, res.fieldNames()).
				WithDetail("field", f.Field)
		}
		if err := s.applyFilter(sel, res, f, fd); err != nil {
			return err
		}
	}
	if text := strings.TrimSpace(q.Q); text != "" && len(res.search) > 0 {
		pattern := likePattern(text)
		op := s.likeOp()
		sel.WhereGroup(" AND ", func(g *bun.SelectQuery) *bun.SelectQuery {
			for _, col := range res.search {
				g.WhereOr("? "+op+" ? ESCAPE '!'", bun.Ident(col), pattern)
			}
			return g
		})
	}
	return nil
}

func (s *Store) likeOp() string {
	if s.db.dialect == DialectPostgres {
		return "ILIKE"
	}
	return "LIKE" // case-insensitive for ASCII in SQLite
}

// likePattern matches value as a substring, with LIKE's wildcards escaped.
func likePattern(v string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(v) + "%"
}

func (s *Store) applyFilter(sel *bun.SelectQuery, res *resource, f core.Filter, fd field) error {
	col := bun.Ident(fd.column)
	invalid := func(format string, args ...any) error {
		return core.Errorf(core.KindInvalidArgument, "filter %s: "+format, append([]any{f.Field}, args...)...).
			WithDetail("field", f.Field)
	}
	switch f.Op {
	case core.OpLike:
		if fd.kind != kindString && fd.kind != kindEnum {
			return invalid("%s_like applies to text fields only", f.Field)
		}
		if len(f.Values) != 1 {
			return invalid("takes one value")
		}
		sel.Where("? "+s.likeOp()+" ? ESCAPE '!'", col, likePattern(f.Values[0]))
		return nil
	case core.OpGte, core.OpLte:
		if fd.kind == kindBool {
			return invalid("%s_%s does not apply to a boolean", f.Field, f.Op)
		}
		if len(f.Values) != 1 {
			return invalid("takes one value")
		}
		v, err := parseValue(fd, f.Values[0])
		if err != nil {
			return invalid("%v", err)
		}
		op := ">="
		if f.Op == core.OpLte {
			op = "<="
		}
		sel.Where("? "+op+" ?", col, v)
		return nil
	case core.OpEq, core.OpNe:
		if len(f.Values) != 1 {
			return invalid("takes one value")
		}
		raw := f.Values[0]
		if fd.nullable && (raw == "null" || raw == "") {
			if f.Op == core.OpEq {
				sel.Where("? IS NULL", col)
			} else {
				sel.Where("? IS NOT NULL", col)
			}
			return nil
		}
		v, err := parseValue(fd, raw)
		if err != nil {
			return invalid("%v", err)
		}
		if f.Op == core.OpEq {
			sel.Where("? = ?", col, v)
		} else if fd.nullable {
			sel.Where("(? <> ? OR ? IS NULL)", col, v, col)
		} else {
			sel.Where("? <> ?", col, v)
		}
		return nil
	case core.OpIn:
		if len(f.Values) == 0 {
			return invalid("takes at least one value")
		}
		vals := make([]any, 0, len(f.Values))
		for _, raw := range f.Values {
			v, err := parseValue(fd, raw)
			if err != nil {
				return invalid("%v", err)
			}
			vals = append(vals, v)
		}
		sel.Where("? IN (?)", col, bun.List(vals))
		return nil
	default:
		return invalid("unknown operator %q", f.Op)
	}
}

// timeLayouts are the forms a time filter value may take.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func parseValue(fd field, raw string) (any, error) {
	raw = strings.TrimSpace(raw)
	switch fd.kind {
	case kindInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid value %q: want an integer", raw)
		}
		return n, nil
	case kindBool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid value %q: want true or false", raw)
		}
		return b, nil
	case kindTime:
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, raw); err == nil {
				return t.UTC(), nil
			}
		}
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), nil
		}
		return nil, fmt.Errorf("invalid value %q: want an RFC 3339 time", raw)
	case kindPriority:
		if n, err := strconv.Atoi(raw); err == nil {
			if !core.Priority(n).Valid() {
				return nil, fmt.Errorf("invalid priority %d: must be 0 to 3", n)
			}
			return n, nil
		}
		p, err := core.ParsePriority(raw)
		if err != nil || raw == "" {
			return nil, fmt.Errorf("invalid priority %q: must be one of low, normal, high, urgent", raw)
		}
		return int(p), nil
	case kindEnum:
		v, err := fd.parse(raw)
		if err != nil {
			return nil, err
		}
		return v, nil
	default:
		return raw, nil
	}
}

// applySort orders sel by q's sort fields (or the resource's default), then
// by id so that pages are stable.
func applySort(sel *bun.SelectQuery, res *resource, q core.ListQuery, idColumn string) error {
	sorts := q.Sort
	if len(sorts) == 0 {
		sorts = res.defaultSort
	}
	hasID := false
	for _, sf := range sorts {
		fd, ok := res.fields[sf.Field]
		if !ok {
			return core.Errorf(core.KindInvalidArgument, "unknown sort field %q for %s: use one of %s", sf.Field, res.name, res.fieldNames()).
				WithDetail("field", sf.Field)
		}
		if fd.column == idColumn {
			hasID = true
		}
		// NULLs sort as the smallest value on both databases.
		if sf.Desc {
			sel.OrderExpr("? DESC NULLS LAST", bun.Ident(fd.column))
		} else {
			sel.OrderExpr("? ASC NULLS FIRST", bun.Ident(fd.column))
		}
	}
	if !hasID && idColumn != "" {
		desc := len(sorts) > 0 && sorts[0].Desc
		if desc {
			sel.OrderExpr("? DESC", bun.Ident(idColumn))
		} else {
			sel.OrderExpr("? ASC", bun.Ident(idColumn))
		}
	}
	return nil
}

// list runs a paged list query: filters, sort, offset/limit and the total.
// dest is a pointer to a slice of models.
func list[M any](ctx context.Context, s *Store, res *resource, q core.ListQuery, idColumn string) ([]M, int, error) {
	if err := q.Normalize(); err != nil {
		return nil, 0, err
	}
	var rows []M
	sel := s.r.NewSelect().Model(&rows)
	if err := s.applyFilters(sel, res, q); err != nil {
		return nil, 0, err
	}
	if err := applySort(sel, res, q, idColumn); err != nil {
		return nil, 0, err
	}
	sel.Offset(int64(q.Offset)).Limit(int64(q.Limit))
	if err := sel.Scan(ctx); err != nil {
		return nil, 0, mapError(err)
	}
	if len(rows) > 0 && len(rows) < q.Limit {
		// The last page: the total is known without counting.
		return rows, q.Offset + len(rows), nil
	}
	if q.Offset == 0 && len(rows) == 0 {
		return rows, 0, nil
	}
	var probe []M
	cnt := s.r.NewSelect().Model(&probe)
	if err := s.applyFilters(cnt, res, q); err != nil {
		return nil, 0, err
	}
	total, err := cnt.Count(ctx)
	if err != nil {
		return nil, 0, mapError(err)
	}
	return rows, int(total), nil
}

// Shared field sets.
func idField(col string) field      { return field{column: col, kind: kindInt} }
func refField(col string) field     { return field{column: col, kind: kindInt, nullable: true} }
func textField(col string) field    { return field{column: col, kind: kindString} }
func boolField(col string) field    { return field{column: col, kind: kindBool} }
func timeField(col string) field    { return field{column: col, kind: kindTime} }
func optTimeField(col string) field { return field{column: col, kind: kindTime, nullable: true} }

func enumField[T ~string](col string, parse func(string) (T, error)) field {
	return field{column: col, kind: kindEnum, parse: func(s string) (string, error) {
		v, err := parse(s)
		return string(v), err
	}}
}
