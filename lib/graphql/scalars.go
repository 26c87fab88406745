package graphql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// JSON is the JSON scalar: any JSON value, kept as its encoding.
type JSON json.RawMessage

// ImplementsGraphQLType maps JSON to the schema's JSON scalar.
func (JSON) ImplementsGraphQLType(name string) bool { return name == "JSON" }

// UnmarshalGraphQL takes a value from a variable (decoded JSON) or a
// literal (maps, lists, strings, numbers, booleans).
func (j *JSON) UnmarshalGraphQL(input any) error {
	b, err := json.Marshal(input)
	if err != nil {
		return fmt.Errorf("invalid JSON value: %w", err)
	}
	*j = b
	return nil
}

// MarshalJSON writes the value as it is (null when empty).
func (j JSON) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// raw is j as a json.RawMessage (nil for a missing value).
func (j *JSON) raw() json.RawMessage {
	if j == nil {
		return nil
	}
	return json.RawMessage(*j)
}

// jsonOf is the JSON scalar of a stored value; nil (null) when empty.
func jsonOf(b json.RawMessage) *JSON {
	if len(b) == 0 {
		return nil
	}
	j := JSON(b)
	return &j
}

// jsonValue encodes any Go value as the JSON scalar.
func jsonValue(v any) *JSON {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	j := JSON(b)
	return &j
}

// DateTime is the DateTime scalar: an RFC 3339 time in UTC.
type DateTime struct{ time.Time }

// ImplementsGraphQLType maps DateTime to the schema's DateTime scalar.
func (DateTime) ImplementsGraphQLType(name string) bool { return name == "DateTime" }

// UnmarshalGraphQL reads an RFC 3339 string.
func (t *DateTime) UnmarshalGraphQL(input any) error {
	s, ok := input.(string)
	if !ok {
		return fmt.Errorf("invalid DateTime %v: want an RFC 3339 string", input)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("invalid DateTime %q: want RFC 3339, such as 2006-01-02T15:04:05Z", s)
	}
	t.Time = v.UTC()
	return nil
}

// MarshalJSON writes RFC 3339 in UTC.
func (t DateTime) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(t.UTC().Format(time.RFC3339Nano))), nil
}

func dateTime(t time.Time) DateTime { return DateTime{t.UTC()} }

func dateTimePtr(t *time.Time) *DateTime {
	if t == nil {
		return nil
	}
	d := dateTime(*t)
	return &d
}
