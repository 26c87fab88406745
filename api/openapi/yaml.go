package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// YAML renders a JSON document as block-style YAML, keeping the order of
// object keys. Strings that could be read as anything but themselves are
// double-quoted with JSON escapes, which YAML reads the same way.
func YAML(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	v, err := readValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("yaml: trailing data after the JSON document")
	}
	var b bytes.Buffer
	writeYAML(&b, v, 0, false)
	if b.Len() == 0 || b.Bytes()[b.Len()-1] != '\n' {
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

type kv struct {
	key string
	val any
}

// readValue reads one JSON value: []kv for objects, []any for arrays,
// json.Number, string, bool or nil.
func readValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := []kv{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, kv{k, v})
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := readValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
		return nil, fmt.Errorf("yaml: unexpected %v", t)
	default:
		return tok, nil
	}
}

func writeYAML(b *bytes.Buffer, v any, indent int, inline bool) {
	pad := strings.Repeat(" ", indent)
	switch t := v.(type) {
	case []kv:
		if len(t) == 0 {
			b.WriteString("{}\n")
			return
		}
		for i, e := range t {
			if i > 0 || !inline {
				b.WriteString(pad)
			}
			b.WriteString(scalar(e.key))
			b.WriteByte(':')
			writeChild(b, e.val, indent)
		}
	case []any:
		if len(t) == 0 {
			b.WriteString("[]\n")
			return
		}
		for i, e := range t {
			if i > 0 || !inline {
				b.WriteString(pad)
			}
			b.WriteString("- ")
			switch c := e.(type) {
			case []kv:
				if len(c) > 0 {
					writeYAML(b, c, indent+2, true)
					continue
				}
			case []any:
				if len(c) > 0 {
					writeYAML(b, c, indent+2, true)
					continue
				}
			}
			writeYAML(b, e, indent+2, true)
		}
	default:
		b.WriteString(scalarValue(t))
		b.WriteByte('\n')
	}
}

// writeChild writes the value of a mapping key.
func writeChild(b *bytes.Buffer, v any, indent int) {
	switch c := v.(type) {
	case []kv:
		if len(c) > 0 {
			b.WriteByte('\n')
			writeYAML(b, c, indent+2, false)
			return
		}
	case []any:
		if len(c) > 0 {
			b.WriteByte('\n')
			writeYAML(b, c, indent, false) // sequences under a key need no extra indent
			return
		}
	}
	b.WriteByte(' ')
	writeYAML(b, v, indent+2, true)
}

func scalarValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		if t {
			return "true"
		}
		return "false"
	case json.Number:
		return t.String()
	case string:
		return scalar(t)
	}
	return scalar(fmt.Sprint(v))
}

var yamlWords = map[string]bool{
	"true": true, "false": true, "null": true, "yes": true, "no": true, "on": true, "off": true,
	"y": true, "n": true, "~": true,
}

// scalar writes s plain when YAML reads it back as the same string, else
// double-quoted.
func scalar(s string) string {
	if plainSafe(s) {
		return s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func plainSafe(s string) bool {
	if s == "" || yamlWords[strings.ToLower(s)] || s[len(s)-1] == ' ' {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case i > 0 && (r >= '0' && r <= '9' || r == ' ' || r == '.' || r == '/' || r == '-' || r == '(' || r == ')' || r == ','):
		default:
			return false
		}
	}
	return true
}
