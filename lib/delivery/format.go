package delivery

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDepth bounds the nesting of outputs decoded for yaml and csv.
const maxDepth = 1000

// EncodeOutput encodes a job's output (JSON; empty means null) in format:
//
//   - json: indented with two spaces, then a newline;
//   - json_compact: one line, then a newline;
//   - yaml: block style, object keys in the output's order;
//   - csv: an array of objects gives a header (the keys, in order of first
//     appearance) and a row per object; an object gives the header and one
//     row; an array of arrays gives its rows with no header; an array of
//     scalars or a scalar gives a "value" column. Nested objects and arrays
//     in cells are compact JSON, null is an empty cell. An array mixing
//     objects with other values is an error;
//   - raw: a string output as is, anything else as compact JSON, with no
//     newline added.
func EncodeOutput(output []byte, format Format) ([]byte, error) {
	if len(bytes.TrimSpace(output)) == 0 {
		output = []byte("null")
	}
	if !json.Valid(output) {
		return nil, errors.New("the output is not valid JSON")
	}
	switch format {
	case FormatJSON, "":
		var b bytes.Buffer
		if err := json.Indent(&b, output, "", "  "); err != nil {
			return nil, err
		}
		b.WriteByte('\n')
		return b.Bytes(), nil
	case FormatJSONCompact:
		var b bytes.Buffer
		if err := json.Compact(&b, output); err != nil {
			return nil, err
		}
		b.WriteByte('\n')
		return b.Bytes(), nil
	case FormatRaw:
		var s string
		if err := json.Unmarshal(output, &s); err == nil {
			return []byte(s), nil
		}
		var b bytes.Buffer
		if err := json.Compact(&b, output); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	case FormatYAML:
		v, err := decodeOrdered(output)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(v.yamlNode()); err != nil {
			return nil, fmt.Errorf("encoding yaml: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encoding yaml: %w", err)
		}
		return b.Bytes(), nil
	case FormatCSV:
		v, err := decodeOrdered(output)
		if err != nil {
			return nil, err
		}
		return encodeCSV(v)
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// jvalue is a decoded JSON value that keeps object key order and number
// literals.
type jvalue struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []string
	vals []*jvalue // object values (parallel to keys) or array items
	str  string    // string value or number literal
	b    bool
}

func decodeOrdered(data []byte) (*jvalue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, fmt.Errorf("decoding the output: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decoding the output: data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (*jvalue, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &jvalue{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				val, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.keys = append(v.keys, key)
				v.vals = append(v.vals, val)
			}
			_, err := dec.Token() // '}'
			return v, err
		case '[':
			v := &jvalue{kind: 'a'}
			for dec.More() {
				val, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				v.vals = append(v.vals, val)
			}
			_, err := dec.Token() // ']'
			return v, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &jvalue{kind: 's', str: t}, nil
	case json.Number:
		return &jvalue{kind: 'n', str: t.String()}, nil
	case bool:
		return &jvalue{kind: 'b', b: t}, nil
	case nil:
		return &jvalue{kind: 'z'}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// yamlNode builds a block-style YAML node; tags make the encoder quote
// strings that would read as another type ("true", "1").
func (v *jvalue) yamlNode() *yaml.Node {
	switch v.kind {
	case 'o':
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for i, k := range v.keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v.vals[i].yamlNode())
		}
		return n
	case 'a':
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, it := range v.vals {
			n.Content = append(n.Content, it.yamlNode())
		}
		return n
	case 's':
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.str}
		switch {
		case strings.Contains(v.str, "\n"):
			n.Style = yaml.LiteralStyle
		case yaml11Bools[v.str]:
			// Plain in YAML 1.2, but YAML 1.1 readers (PyYAML) take them for
			// booleans.
			n.Style = yaml.DoubleQuotedStyle
		}
		return n
	case 'n':
		tag := "!!int"
		if strings.ContainsAny(v.str, ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.str}
	case 'b':
		val := "false"
		if v.b {
			val = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: val}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

var yaml11Bools = map[string]bool{}

func init() {
	for _, w := range []string{"y", "yes", "n", "no", "on", "off", "true", "false"} {
		yaml11Bools[w] = true
		yaml11Bools[strings.ToUpper(w)] = true
		yaml11Bools[strings.ToUpper(w[:1])+w[1:]] = true
	}
}

// compact writes v as compact JSON.
func (v *jvalue) compact(b *strings.Builder) {
	switch v.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			v.vals[i].compact(b)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, it := range v.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			it.compact(b)
		}
		b.WriteByte(']')
	case 's':
		writeJSONString(b, v.str)
	case 'n':
		b.WriteString(v.str)
	case 'b':
		if v.b {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *strings.Builder, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// cell is v as one CSV cell.
func (v *jvalue) cell() string {
	switch v.kind {
	case 's', 'n':
		return v.str
	case 'b':
		if v.b {
			return "true"
		}
		return "false"
	case 'z':
		return ""
	}
	var b strings.Builder
	v.compact(&b)
	return b.String()
}

func encodeCSV(v *jvalue) ([]byte, error) {
	var rows [][]string
	switch {
	case v.kind == 'o':
		rows = objectRows([]*jvalue{v})
	case v.kind == 'a' && len(v.vals) == 0:
	case v.kind == 'a':
		objects, arrays := 0, 0
		for _, it := range v.vals {
			switch it.kind {
			case 'o':
				objects++
			case 'a':
				arrays++
			}
		}
		switch {
		case objects == len(v.vals):
			rows = objectRows(v.vals)
		case arrays == len(v.vals):
			for _, it := range v.vals {
				row := make([]string, len(it.vals))
				for i, c := range it.vals {
					row[i] = c.cell()
				}
				rows = append(rows, row)
			}
		case objects > 0 || arrays > 0:
			return nil, errors.New("csv needs an array of objects, of arrays or of scalars, not a mix")
		default:
			rows = append(rows, []string{"value"})
			for _, it := range v.vals {
				rows = append(rows, []string{it.cell()})
			}
		}
	default:
		rows = [][]string{{"value"}, {v.cell()}}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, row := range rows {
		if len(row) == 1 && row[0] == "" {
			// csv.Writer writes a lone empty field as an empty line, which
			// readers skip: quote it.
			w.Flush()
			b.WriteString("\"\"\n")
			continue
		}
		if err := w.Write(row); err != nil {
			return nil, fmt.Errorf("encoding csv: %w", err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("encoding csv: %w", err)
	}
	return b.Bytes(), nil
}

// objectRows is a header (keys in order of first appearance) and one row per
// object.
func objectRows(objs []*jvalue) [][]string {
	var header []string
	col := map[string]int{}
	for _, o := range objs {
		for _, k := range o.keys {
			if _, ok := col[k]; !ok {
				col[k] = len(header)
				header = append(header, k)
			}
		}
	}
	if len(header) == 0 {
		return nil // empty objects: an empty file
	}
	rows := [][]string{header}
	for _, o := range objs {
		row := make([]string, len(header))
		for i, k := range o.keys {
			row[col[k]] = o.vals[i].cell()
		}
		rows = append(rows, row)
	}
	return rows
}
