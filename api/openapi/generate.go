package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Generator derives JSON Schemas from Go types, registering every struct
// type as a component schema named after the type. Struct fields follow
// their json tags; a field without omitempty is required; a pointer is
// nullable. Tags `doc:"..."` give a field's description and `enum:"a,b"`
// its values.
type Generator struct {
	schemas Map[*Schema]
	names   map[reflect.Type]string
	defined map[reflect.Type]*Schema
}

// NewGenerator returns an empty generator.
func NewGenerator() *Generator {
	return &Generator{names: map[reflect.Type]string{}, defined: map[reflect.Type]*Schema{}}
}

// Define gives the schema of a type that reflection cannot see, such as a
// string enum or a type with its own JSON encoding. It is used inline.
func (g *Generator) Define(t reflect.Type, s *Schema) { g.defined[t] = s }

// Ref registers v's struct type (and every struct it uses) as components
// and returns a reference to it.
func (g *Generator) Ref(v any) *Schema { return g.Schema(reflect.TypeOf(v)) }

// Schemas are the component schemas registered so far.
func (g *Generator) Schemas() Map[*Schema] { return g.schemas }

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// Schema is the schema of t: a reference for a struct, inline otherwise.
func (g *Generator) Schema(t reflect.Type) *Schema {
	if s, ok := g.defined[t]; ok {
		c := *s
		return &c
	}
	switch t {
	case timeType:
		return &Schema{Type: "string", Format: "date-time"}
	case rawType:
		return &Schema{Description: "Any JSON value.", Nullable: true}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := g.Schema(t.Elem())
		return nullable(s)
	case reflect.Struct:
		return g.structRef(t)
	}
	if t.Implements(textMarshaler) {
		return &Schema{Type: "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number", Format: "double"}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: "string", Format: "byte"}
		}
		return &Schema{Type: "array", Items: g.Schema(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("openapi: map key of %s is not a string", t))
		}
		return &Schema{Type: "object", AdditionalProperties: g.Schema(t.Elem())}
	case reflect.Interface:
		return &Schema{Nullable: true}
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// nullable marks s as nullable. A reference becomes "the referenced schema
// or null" (oneOf with a null-only schema): OpenAPI 3.0 ignores the
// siblings of $ref, and nullable beside allOf does not let null through
// the referenced object schema in validators.
func nullable(s *Schema) *Schema {
	if s.Ref != "" {
		return &Schema{OneOf: []*Schema{s, {Type: "object", Nullable: true, Enum: []any{nil}}}}
	}
	if s.Type == "" {
		return s // any value, null included
	}
	s.Nullable = true
	return s
}

func (g *Generator) structRef(t reflect.Type) *Schema {
	name := t.Name()
	if name == "" {
		panic("openapi: anonymous struct types need a name")
	}
	if prev, ok := g.names[t]; ok {
		return RefTo(prev)
	}
	for other, n := range g.names {
		if n == name && other != t {
			panic(fmt.Sprintf("openapi: two types named %s (%s and %s)", name, other, t))
		}
	}
	g.names[t] = name
	s := &Schema{Type: "object"}
	g.schemas.Set(name, s) // before the fields, for recursive types
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		jname, opts, _ := strings.Cut(tag, ",")
		if jname == "" {
			jname = f.Name
		}
		fs := g.Schema(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			fs = describe(fs, doc)
		}
		if e := f.Tag.Get("enum"); e != "" {
			for _, v := range strings.Split(e, ",") {
				fs.Enum = append(fs.Enum, v)
			}
		}
		if format := f.Tag.Get("format"); format != "" {
			fs.Format = format
		}
		s.Properties.Set(jname, fs)
		if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
			s.Required = append(s.Required, jname)
		}
	}
	return RefTo(name)
}

// describe sets a description, wrapping a bare reference in allOf.
func describe(s *Schema, doc string) *Schema {
	if s.Ref != "" {
		s = &Schema{AllOf: []*Schema{s}}
	}
	s.Description = doc
	return s
}
