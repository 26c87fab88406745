package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"
	"sync"

	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/api/openapi"
)

//go:embed reference.html.tmpl
var referenceTemplate string

var referenceOnce = sync.OnceValue(func() []byte {
	tmpl := template.Must(template.New("reference").Parse(referenceTemplate))
	var b bytes.Buffer
	if err := tmpl.Execute(&b, newRefPage(Document())); err != nil {
		panic(fmt.Sprintf("api: rendering the API reference: %v", err))
	}
	return b.Bytes()
})

// ReferenceHTML is the API reference page, rendered from the OpenAPI
// document: one self-contained HTML file with its CSS inline, loading
// nothing from anywhere (served at /api/v1/docs). The caller must not
// modify it.
func ReferenceHTML() []byte { return referenceOnce() }

type refPage struct {
	Title, Version string
	Description    template.HTML
	Tags           []refTag
	Schemas        []refSchema
}

type refTag struct {
	Name        string
	Description template.HTML
	Ops         []refOp
}

type refOp struct {
	ID, Method, Path, Summary string
	Description               template.HTML
	Public                    bool
	Params                    []refParam
	List                      *refList
	Bodies                    []refBody
	BodyRequired              bool
	Responses                 []refResponse
}

type refParam struct {
	Name, In    string
	Type        template.HTML
	Required    bool
	Description template.HTML
}

type refList struct {
	Resource string
	Fields   []refField
	Search   string
}

type refField struct {
	Name, Type, Operators string
	Enum                  string
	Nullable              bool
}

type refBody struct {
	ContentType string
	Type        template.HTML
}

type refResponse struct {
	Status      string
	Class       string
	Description template.HTML
	Bodies      []refBody
	Headers     string
}

type refSchema struct {
	Name  string
	Props []refProp
}

type refProp struct {
	Name        string
	Type        template.HTML
	Required    bool
	Description template.HTML
}

func newRefPage(d *openapi.Document) refPage {
	p := refPage{Title: d.Info.Title, Version: d.Info.Version, Description: markdown(d.Info.Description)}
	byTag := map[string]*refTag{}
	for _, t := range d.Tags {
		p.Tags = append(p.Tags, refTag{Name: t.Name, Description: markdown(t.Description)})
	}
	for i := range p.Tags {
		byTag[p.Tags[i].Name] = &p.Tags[i]
	}
	for _, r := range routes {
		item, _ := d.Paths.Get(r.Path)
		op := item.Operation(r.Method)
		ro := refOp{
			ID: r.OperationID, Method: r.Method, Path: r.Path, Summary: r.Summary,
			Description: markdown(op.Description), Public: op.Security != nil && len(op.Security) == 0,
		}
		for _, prm := range op.Parameters {
			if prm.Ref != "" {
				prm, _ = d.Components.Parameters.Get(strings.TrimPrefix(prm.Ref, "#/components/parameters/"))
			} else if r.List != nil && prm.In == "query" {
				continue // field filters are shown in the list table
			}
			ro.Params = append(ro.Params, refParam{Name: prm.Name, In: prm.In, Type: typeHTML(prm.Schema),
				Required: prm.Required, Description: markdown(prm.Description)})
		}
		if r.List != nil {
			ro.List = newRefList(r.List)
		}
		if op.RequestBody != nil {
			ro.BodyRequired = op.RequestBody.Required
			ro.Bodies = bodies(op.RequestBody.Content)
		}
		for _, status := range op.Responses.Keys() {
			resp, _ := op.Responses.Get(status)
			if resp.Ref != "" {
				resp, _ = d.Components.Responses.Get(strings.TrimPrefix(resp.Ref, "#/components/responses/"))
			}
			rr := refResponse{Status: status, Class: "s" + status[:1], Description: markdown(resp.Description),
				Bodies: bodies(resp.Content)}
			var hs []string
			for _, h := range resp.Headers.Keys() {
				if h != "X-Request-ID" {
					hs = append(hs, h)
				}
			}
			rr.Headers = strings.Join(hs, ", ")
			ro.Responses = append(ro.Responses, rr)
		}
		if t, ok := byTag[r.Tag]; ok {
			t.Ops = append(t.Ops, ro)
		}
	}
	for _, name := range d.Components.Schemas.Keys() {
		s, _ := d.Components.Schemas.Get(name)
		rs := refSchema{Name: name}
		req := map[string]bool{}
		for _, r := range s.Required {
			req[r] = true
		}
		for _, pn := range s.Properties.Keys() {
			ps, _ := s.Properties.Get(pn)
			desc := ps.Description
			if len(ps.AllOf) == 1 && desc == "" {
				desc = ps.AllOf[0].Description
			}
			rs.Props = append(rs.Props, refProp{Name: pn, Type: typeHTML(ps), Required: req[pn], Description: markdown(desc)})
		}
		p.Schemas = append(p.Schemas, rs)
	}
	return p
}

func newRefList(res *listquery.Resource) *refList {
	l := &refList{Resource: res.Name, Search: strings.Join(res.Search, ", ")}
	for _, f := range res.Fields {
		ops := []string{"=", "_ne"}
		if f.Type == listquery.String || f.Type == listquery.Enum {
			ops = append(ops, "_like")
		}
		if f.Type != listquery.Boolean {
			ops = append(ops, "_gte", "_lte")
		}
		if f.NoSort {
			ops = append(ops, "(no sort)")
		}
		l.Fields = append(l.Fields, refField{Name: f.Name, Type: string(f.Type), Operators: strings.Join(ops, " "),
			Enum: strings.Join(f.Enum, ", "), Nullable: f.Nullable})
	}
	return l
}

func bodies(c openapi.Map[*openapi.MediaType]) []refBody {
	var out []refBody
	for _, ct := range c.Keys() {
		mt, _ := c.Get(ct)
		out = append(out, refBody{ContentType: ct, Type: typeHTML(mt.Schema)})
	}
	return out
}

// typeHTML renders a schema's type in a line, linking component schemas.
func typeHTML(s *openapi.Schema) template.HTML {
	if s == nil {
		return "any"
	}
	var out string
	switch {
	case s.Ref != "":
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		out = fmt.Sprintf(`<a href="#schema-%s">%s</a>`, html.EscapeString(name), html.EscapeString(name))
	case len(s.AllOf) == 1:
		out = string(typeHTML(s.AllOf[0]))
	case len(s.OneOf) > 0:
		parts := make([]string, len(s.OneOf))
		for i, o := range s.OneOf {
			parts[i] = string(typeHTML(o))
		}
		out = strings.Join(parts, " or ")
	case s.Type == "array":
		out = "array of " + string(typeHTML(s.Items))
	case s.Type == "object" && s.AdditionalProperties != nil:
		out = "map of " + string(typeHTML(s.AdditionalProperties))
	case s.Type == "":
		out = "any"
	default:
		out = html.EscapeString(s.Type)
		if s.Format != "" && s.Format != "int64" && s.Format != "int32" && s.Format != "double" {
			out += " (" + html.EscapeString(s.Format) + ")"
		}
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = "<code>" + html.EscapeString(fmt.Sprint(v)) + "</code>"
		}
		out += ": " + strings.Join(vals, " ")
	}
	if s.Nullable && out != "any" {
		out += " | null"
	}
	return template.HTML(out)
}

var (
	mdCode = regexp.MustCompile("`([^`]+)`")
	mdBold = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// markdown renders the little Markdown the document uses: paragraphs,
// `code` and **bold**, HTML-escaped first.
func markdown(s string) template.HTML {
	if s == "" {
		return ""
	}
	var b strings.Builder
	for i, para := range strings.Split(s, "\n\n") {
		e := html.EscapeString(para)
		e = mdCode.ReplaceAllString(e, "<code>$1</code>")
		e = mdBold.ReplaceAllString(e, "<strong>$1</strong>")
		if i > 0 {
			b.WriteString("</p><p>")
		}
		b.WriteString(e)
	}
	return template.HTML(b.String())
}
