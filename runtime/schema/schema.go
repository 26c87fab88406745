// Package schema compiles the JSON Schemas of a task and validates JSON
// documents against them with messages a task author can act on.
//
// Schemas are draft-07 unless their $schema says otherwise. References to
// other documents ($ref to a file or URL) are refused: a schema never makes
// the host read a file or reach the network. Formats (email, date-time, ...)
// are asserted, not only annotations.
package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled JSON Schema. It is safe for concurrent use.
type Schema struct {
	name string
	raw  json.RawMessage
	s    *jsonschema.Schema
}

// Problem is one reason a document does not match a schema.
type Problem struct {
	// Location is the JSON pointer of the offending value ("" for the root).
	Location string `json:"location"`
	Message  string `json:"message"`
}

func (p Problem) String() string {
	loc := p.Location
	if loc == "" {
		loc = "(root)"
	}
	return loc + ": " + p.Message
}

// ValidationError lists every problem found, sorted by location then message.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// CompileError says why a schema could not be compiled.
type CompileError struct {
	Name string
	Err  error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s is not a valid JSON Schema: %v", e.Name, e.Err)
}

func (e *CompileError) Unwrap() error { return e.Err }

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schemas cannot reference other documents (%s): put every definition in the schema itself", url)
}

// Compile compiles raw, named name (such as "input.schema.json") in messages.
func Compile(name string, raw []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, &CompileError{Name: name, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	switch doc.(type) {
	case map[string]any, bool:
	default:
		return nil, &CompileError{Name: name, Err: errors.New("a schema must be a JSON object or a boolean")}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	url := "file:///ratchet/" + name
	if err := c.AddResource(url, doc); err != nil {
		return nil, &CompileError{Name: name, Err: err}
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, &CompileError{Name: name, Err: simplify(err)}
	}
	return &Schema{name: name, raw: append(json.RawMessage(nil), raw...), s: s}, nil
}

// simplify trims the compiler's file URLs from an error message.
func simplify(err error) error {
	msg := strings.ReplaceAll(err.Error(), "file:///ratchet/", "")
	return errors.New(msg)
}

// Name is the name the schema was compiled with.
func (s *Schema) Name() string { return s.name }

// Raw is the schema document as given.
func (s *Schema) Raw() json.RawMessage { return s.raw }

// Validate checks the JSON document doc. It returns a *ValidationError when
// doc does not match, or an error when doc is not JSON.
func (s *Schema) Validate(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return s.ValidateValue(v)
}

// ValidateValue checks a decoded document (numbers as json.Number or float64).
func (s *Schema) ValidateValue(v any) error {
	err := s.s.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	var problems []Problem
	collect(ve, &problems)
	sort.Slice(problems, func(i, j int) bool {
		if problems[i].Location != problems[j].Location {
			return problems[i].Location < problems[j].Location
		}
		return problems[i].Message < problems[j].Message
	})
	problems = dedup(problems)
	return &ValidationError{Problems: problems}
}

func collect(e *jsonschema.ValidationError, out *[]Problem) {
	if len(e.Causes) == 0 {
		*out = append(*out, Problem{Location: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)})
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

func dedup(ps []Problem) []Problem {
	out := ps[:0]
	for i, p := range ps {
		if i > 0 && p == ps[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}
