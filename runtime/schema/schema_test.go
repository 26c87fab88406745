package schema

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	s, err := Compile("input.schema.json", []byte(`{
		"type": "object",
		"required": ["a", "b"],
		"properties": {
			"a": {"type": "number"},
			"b": {"type": "number", "minimum": 0},
			"email": {"type": "string", "format": "email"},
			"tags": {"type": "array", "items": {"type": "string"}}
		},
		"additionalProperties": false
	}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		want []string // problems, in order
	}{
		{"valid", `{"a": 1, "b": 2.5}`, nil},
		{"missing", `{"a": 1}`, []string{"(root): missing property 'b'"}},
		{"wrong types sorted", `{"b": "x", "a": "y"}`, []string{"/a: got string, want number", "/b: got string, want number"}},
		{"minimum", `{"a": 1, "b": -1}`, []string{"/b: minimum: got -1, want 0"}},
		{"format asserted", `{"a": 1, "b": 1, "email": "nope"}`, []string{"/email: 'nope' is not valid email: missing @"}},
		{"nested item", `{"a": 1, "b": 1, "tags": ["x", 2]}`, []string{"/tags/1: got number, want string"}},
		{"additional", `{"a": 1, "b": 1, "c": 1}`, []string{"(root): additional properties 'c' not allowed"}},
		{"root type", `[1]`, []string{"(root): got array, want object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.Validate([]byte(tt.doc))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want *ValidationError", err)
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if err := s.Validate([]byte(`{`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

func TestDraftsAndErrors(t *testing.T) {
	t.Parallel()
	// draft-07 by default: "dependencies" applies.
	s, err := Compile("s.json", []byte(`{"dependencies": {"a": ["b"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Validate([]byte(`{"a": 1}`)) == nil {
		t.Error("draft-07 dependencies not applied")
	}
	// 2020-12 when $schema says so: prefixItems applies.
	s, err = Compile("s.json", []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "prefixItems": [{"type": "string"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Validate([]byte(`[1]`)) == nil {
		t.Error("2020-12 prefixItems not applied")
	}
	for name, doc := range map[string]string{
		"not json":      `{"type": `,
		"not an object": `42`,
		"bad type":      `{"type": "nope"}`,
		"file ref":      `{"$ref": "file:///etc/passwd"}`,
		"relative ref":  `{"$ref": "other.json"}`,
		"http ref":      `{"$ref": "http://127.0.0.1:1/x.json"}`,
	} {
		_, err := Compile("input.schema.json", []byte(doc))
		var ce *CompileError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "input.schema.json") {
			t.Errorf("%s: Compile = %v, want a CompileError naming the file", name, err)
		}
	}
	if _, err := Compile("b.json", []byte(`true`)); err != nil {
		t.Errorf("boolean schema refused: %v", err)
	}
}

func BenchmarkValidate(b *testing.B) {
	s, err := Compile("input.schema.json", []byte(`{"type":"object","required":["a","b"],"properties":{"a":{"type":"number"},"b":{"type":"number"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	doc := []byte(`{"a": 1, "b": 2}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
