package graphql

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	gql "github.com/graph-gophers/graphql-go"

	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

// budget is an operation's complexity allowance.
type budget struct {
	max  int64
	used atomic.Int64
}

type budgetKey struct{}

func withBudget(ctx context.Context, max int) context.Context {
	return context.WithValue(ctx, budgetKey{}, &budget{max: int64(max)})
}

// charge spends n units of the operation's budget, or fails with an
// InvalidArgumentError once it is spent.
func charge(ctx context.Context, n int) error {
	b, ok := ctx.Value(budgetKey{}).(*budget)
	if !ok {
		return nil
	}
	if used := b.used.Add(int64(n)); used > b.max {
		return core.Errorf(core.KindInvalidArgument,
			"the query is too complex: it would list more than %d items (each list counts its limit); ask for smaller pages or fewer nested lists", b.max).
			WithDetail("max_complexity", b.max)
	}
	return nil
}

// filterInput is one FilterInput.
type filterInput struct {
	Field  string
	Op     string
	Values []*string
}

// sortInput is one SortInput.
type sortInput struct {
	Field string
	Order string
}

// listArgs are the arguments every list takes.
type listArgs struct {
	Filter *[]filterInput
	Sort   *[]sortInput
	Q      *string
	Offset *int32
	Limit  *int32
}

var opSuffix = map[string]string{"EQ": "", "IN": "", "NE": "_ne", "LIKE": "_like", "GTE": "_gte", "LTE": "_lte"}

// values turns the arguments into the REST API's list parameters, so that
// listquery.Parse checks fields and values exactly as REST does.
func (a listArgs) values(res *listquery.Resource) (url.Values, error) {
	v := url.Values{}
	if a.Filter != nil {
		for _, f := range *a.Filter {
			fd, ok := res.Field(f.Field)
			if !ok {
				return nil, core.Errorf(core.KindInvalidArgument, "unknown filter field %q for %s: use one of %s",
					f.Field, res.Name, strings.Join(res.FieldNames(), ", ")).WithDetail("field", f.Field)
			}
			op := f.Op
			if op == "" {
				op = "EQ"
			}
			if len(f.Values) == 0 {
				return nil, core.Errorf(core.KindInvalidArgument, "filter on %s has no values", f.Field).WithDetail("field", f.Field)
			}
			key := f.Field + opSuffix[op]
			for _, val := range f.Values {
				s := "null"
				if val != nil {
					s = *val
				}
				v.Add(key, fieldValue(fd, s))
			}
		}
	}
	if a.Sort != nil && len(*a.Sort) > 0 {
		var fields, orders []string
		for _, s := range *a.Sort {
			if strings.Contains(s.Field, ",") {
				return nil, core.Errorf(core.KindInvalidArgument, "invalid sort field %q", s.Field).WithDetail("field", s.Field)
			}
			order := "asc"
			if s.Order != "" {
				order = strings.ToLower(s.Order)
			}
			fields, orders = append(fields, s.Field), append(orders, order)
		}
		v.Set(listquery.ParamSort, strings.Join(fields, ","))
		v.Set(listquery.ParamOrder, strings.Join(orders, ","))
	}
	if a.Q != nil && *a.Q != "" {
		v.Set(listquery.ParamQ, *a.Q)
	}
	if a.Offset != nil {
		v.Set(listquery.ParamOffset, strconv.Itoa(int(*a.Offset)))
	}
	if a.Limit != nil {
		v.Set(listquery.ParamLimit, strconv.Itoa(int(*a.Limit)))
	}
	return v, nil
}

// fieldValue lowers enum values (GraphQL's QUEUED is REST's queued).
func fieldValue(fd listquery.Field, s string) string {
	if fd.Type == listquery.Enum || fd.Type == listquery.PriorityName {
		return strings.ToLower(s)
	}
	return s
}

// query parses the arguments with extra filters into a ListQuery and
// charges its page size.
func (a listArgs) query(ctx context.Context, res *listquery.Resource, extra url.Values) (core.ListQuery, error) {
	v, err := a.values(res)
	if err != nil {
		return core.ListQuery{}, err
	}
	for k, vals := range extra {
		for _, x := range vals {
			v.Add(k, x)
		}
	}
	q, err := listquery.Parse(v, res)
	if err != nil {
		return core.ListQuery{}, err
	}
	if err := charge(ctx, q.Limit); err != nil {
		return core.ListQuery{}, err
	}
	return q, nil
}

// addEnums adds a filter on an enum field from a list of enum values.
func addEnums(v url.Values, field string, vals *[]string) {
	if vals == nil {
		return
	}
	for _, s := range *vals {
		v.Add(field, strings.ToLower(s))
	}
}

func addBool(v url.Values, field string, b *bool) {
	if b != nil {
		v.Set(field, strconv.FormatBool(*b))
	}
}

func idString(id int64) gql.ID { return gql.ID(strconv.FormatInt(id, 10)) }

func idPtr(id *int64) *gql.ID {
	if id == nil {
		return nil
	}
	s := idString(*id)
	return &s
}
