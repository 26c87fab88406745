package core

import (
	"errors"
	"testing"
)

func TestListQueryNormalize(t *testing.T) {
	tests := []struct {
		name    string
		q       ListQuery
		wantErr bool
		limit   int
	}{
		{"defaults", ListQuery{}, false, DefaultPageSize},
		{"explicit", ListQuery{Limit: 10, Offset: 20}, false, 10},
		{"max", ListQuery{Limit: MaxPageSize}, false, MaxPageSize},
		{"too big", ListQuery{Limit: MaxPageSize + 1}, true, 0},
		{"negative limit", ListQuery{Limit: -1}, true, 0},
		{"negative offset", ListQuery{Offset: -5}, true, 0},
		{"in without values", ListQuery{Filters: []Filter{{Field: "status", Op: OpIn}}}, true, 0},
		{"eq with two values", ListQuery{Filters: []Filter{{Field: "status", Op: OpEq, Values: []string{"a", "b"}}}}, true, 0},
		{"unknown op", ListQuery{Filters: []Filter{{Field: "status", Op: "regex", Values: []string{"a"}}}}, true, 0},
		{"in", ListQuery{Filters: []Filter{{Field: "status", Op: OpIn, Values: []string{"a", "b"}}}}, false, DefaultPageSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			err := q.Normalize()
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidArgument) {
					t.Fatalf("Normalize = %v, want invalid argument", err)
				}
				return
			}
			if err != nil || q.Limit != tt.limit {
				t.Fatalf("Normalize = %v, limit %d", err, q.Limit)
			}
		})
	}
}
