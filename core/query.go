package core

import (
	"fmt"
	"strings"
)

// FilterOp is a comparison in a list filter. The REST layer parses Refine's
// query conventions (field, field_ne, field_like, ...) into these, and the
// storage layer turns them into SQL against an allow-list of fields.
type FilterOp string

const (
	OpEq   FilterOp = "eq"
	OpNe   FilterOp = "ne"
	OpLike FilterOp = "like"
	OpGte  FilterOp = "gte"
	OpLte  FilterOp = "lte"
	OpIn   FilterOp = "in"
)

// Filter compares one field. Values has one element except for OpIn.
type Filter struct {
	Field  string   `json:"field"`
	Op     FilterOp `json:"op"`
	Values []string `json:"values"`
}

// SortField orders a list by one field.
type SortField struct {
	Field string `json:"field"`
	Desc  bool   `json:"desc"`
}

// ListQuery selects one page of a resource list.
type ListQuery struct {
	Filters []Filter    `json:"filters,omitempty"`
	Sort    []SortField `json:"sort,omitempty"`
	// Q is a free-text search over the resource's text fields.
	Q      string `json:"q,omitempty"`
	Offset int    `json:"offset"`
	// Limit is the page size; 0 means the default page size.
	Limit int `json:"limit"`
}

// Page size bounds shared by every list.
const (
	DefaultPageSize = 25
	MaxPageSize     = 1000
)

// Normalize fills the default page size and checks the bounds, returning an
// invalid-argument error naming the offending parameter.
func (q *ListQuery) Normalize() error {
	if q.Offset < 0 {
		return Errorf(KindInvalidArgument, "invalid offset %d: must be 0 or more", q.Offset)
	}
	if q.Limit < 0 {
		return Errorf(KindInvalidArgument, "invalid limit %d: must be between 1 and %d", q.Limit, MaxPageSize)
	}
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if q.Limit > MaxPageSize {
		return Errorf(KindInvalidArgument, "invalid limit %d: must be between 1 and %d", q.Limit, MaxPageSize)
	}
	for _, f := range q.Filters {
		switch f.Op {
		case OpEq, OpNe, OpLike, OpGte, OpLte:
			if len(f.Values) != 1 {
				return Errorf(KindInvalidArgument, "filter %s_%s takes one value, got %d", f.Field, f.Op, len(f.Values))
			}
		case OpIn:
			if len(f.Values) == 0 {
				return Errorf(KindInvalidArgument, "filter %s takes at least one value", f.Field)
			}
		default:
			return Errorf(KindInvalidArgument, "unknown filter operator %q on %s", f.Op, f.Field)
		}
	}
	return nil
}

// Page is one page of a list with the total count of matching rows.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

func (f Filter) String() string {
	return fmt.Sprintf("%s %s %s", f.Field, f.Op, strings.Join(f.Values, ","))
}
