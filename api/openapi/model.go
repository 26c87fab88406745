// Package openapi is a small typed model of an OpenAPI 3.0 document and a
// generator of JSON Schemas from Go types, used to build Ratchet's API
// document in Go so that it is generated from the same route table and
// wire types the server and the client use. It also renders a document as
// YAML.
package openapi

import (
	"bytes"
	"encoding/json"
)

// Version is the OpenAPI version documents are written in.
const Version = "3.0.3"

// Map is a JSON object that keeps its keys in insertion order.
type Map[V any] struct {
	keys []string
	vals map[string]V
}

// Set adds or replaces key.
func (m *Map[V]) Set(key string, v V) {
	if m.vals == nil {
		m.vals = map[string]V{}
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = v
}

// Get returns the value of key.
func (m Map[V]) Get(key string) (V, bool) {
	v, ok := m.vals[key]
	return v, ok
}

// Keys lists the keys in insertion order.
func (m Map[V]) Keys() []string { return m.keys }

// Len is the number of keys.
func (m Map[V]) Len() int { return len(m.keys) }

// MarshalJSON writes the object in insertion order.
func (m Map[V]) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Document is an OpenAPI 3.0 document.
type Document struct {
	OpenAPI    string                `json:"openapi"`
	Info       Info                  `json:"info"`
	Servers    []Server              `json:"servers,omitempty"`
	Tags       []Tag                 `json:"tags,omitempty"`
	Security   []map[string][]string `json:"security,omitempty"`
	Paths      Map[*PathItem]        `json:"paths"`
	Components Components            `json:"components"`
}

// Info describes the API.
type Info struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Version     string   `json:"version"`
	License     *License `json:"license,omitempty"`
}

// License names the API's license.
type License struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Server is a base URL.
type Server struct {
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathItem holds the operations of one path.
type PathItem struct {
	Get    *Operation `json:"get,omitempty"`
	Put    *Operation `json:"put,omitempty"`
	Post   *Operation `json:"post,omitempty"`
	Delete *Operation `json:"delete,omitempty"`
	Patch  *Operation `json:"patch,omitempty"`
}

// Operation returns the operation for an HTTP method, or nil.
func (p *PathItem) Operation(method string) *Operation {
	switch method {
	case "GET":
		return p.Get
	case "PUT":
		return p.Put
	case "POST":
		return p.Post
	case "DELETE":
		return p.Delete
	case "PATCH":
		return p.Patch
	}
	return nil
}

// SetOperation sets the operation for an HTTP method; it reports false for
// a method a path item cannot hold.
func (p *PathItem) SetOperation(method string, op *Operation) bool {
	switch method {
	case "GET":
		p.Get = op
	case "PUT":
		p.Put = op
	case "POST":
		p.Post = op
	case "DELETE":
		p.Delete = op
	case "PATCH":
		p.Patch = op
	default:
		return false
	}
	return true
}

// Operation is one method on one path.
type Operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Parameters  []*Parameter          `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   Map[*Response]        `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
}

// Parameter is a path, query or header parameter, or a reference to one.
type Parameter struct {
	Ref         string  `json:"$ref,omitempty"`
	Name        string  `json:"name,omitempty"`
	In          string  `json:"in,omitempty"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
	Style       string  `json:"style,omitempty"`
	Explode     *bool   `json:"explode,omitempty"`
	Example     any     `json:"example,omitempty"`
}

// RequestBody is an operation's body.
type RequestBody struct {
	Description string          `json:"description,omitempty"`
	Required    bool            `json:"required,omitempty"`
	Content     Map[*MediaType] `json:"content"`
}

// Response is one answer of an operation, or a reference to one.
type Response struct {
	Ref         string          `json:"$ref,omitempty"`
	Description string          `json:"description,omitempty"`
	Headers     Map[*Header]    `json:"headers,omitzero"`
	Content     Map[*MediaType] `json:"content,omitzero"`
}

// Header is a response header, or a reference to one.
type Header struct {
	Ref         string  `json:"$ref,omitempty"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// MediaType is a body in one content type.
type MediaType struct {
	Schema  *Schema `json:"schema,omitempty"`
	Example any     `json:"example,omitempty"`
}

// Components holds reusable parts of the document.
type Components struct {
	Schemas         Map[*Schema]         `json:"schemas"`
	Parameters      Map[*Parameter]      `json:"parameters,omitzero"`
	Responses       Map[*Response]       `json:"responses,omitzero"`
	Headers         Map[*Header]         `json:"headers,omitzero"`
	SecuritySchemes Map[*SecurityScheme] `json:"securitySchemes,omitzero"`
}

// SecurityScheme is an authentication method.
type SecurityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	Description  string `json:"description,omitempty"`
}

// Schema is an OpenAPI 3.0 schema object (the subset Ratchet uses).
type Schema struct {
	Ref                  string       `json:"$ref,omitempty"`
	Type                 string       `json:"type,omitempty"`
	Format               string       `json:"format,omitempty"`
	Description          string       `json:"description,omitempty"`
	Enum                 []any        `json:"enum,omitempty"`
	Nullable             bool         `json:"nullable,omitempty"`
	Properties           Map[*Schema] `json:"properties,omitzero"`
	Required             []string     `json:"required,omitempty"`
	Items                *Schema      `json:"items,omitempty"`
	AdditionalProperties *Schema      `json:"additionalProperties,omitempty"`
	AllOf                []*Schema    `json:"allOf,omitempty"`
	OneOf                []*Schema    `json:"oneOf,omitempty"`
	Minimum              *float64     `json:"minimum,omitempty"`
	Maximum              *float64     `json:"maximum,omitempty"`
	Default              any          `json:"default,omitempty"`
	Example              any          `json:"example,omitempty"`
}

// IsZero lets omitzero drop empty maps.
func (m Map[V]) IsZero() bool { return len(m.keys) == 0 }

// RefTo is a reference to a component schema.
func RefTo(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }
