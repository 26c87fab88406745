package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Render formats c for printing (`ratchet config show`, /debug/config) as "yaml" or "json",
// always with secrets redacted. Keys are the snake_case YAML keys in declaration order;
// durations are Go duration strings ("30s", "5m") and file modes octal strings ("0644"), so
// the YAML output loads back.
func Render(c *Config, format string) ([]byte, error) {
	return render(c.Redacted(), format)
}

func render(c *Config, format string) ([]byte, error) {
	if c == nil {
		return nil, errors.New("rendering config: nil *Config")
	}
	tree := toTree(reflect.ValueOf(c).Elem())
	switch strings.ToLower(format) {
	case "yaml", "yml", "":
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(toYAMLNode(tree)); err != nil {
			return nil, fmt.Errorf("encoding config as YAML: %w", err)
		}
		if err := enc.Close(); err != nil {
			return nil, fmt.Errorf("encoding config as YAML: %w", err)
		}
		return buf.Bytes(), nil
	case "json":
		var compact, out bytes.Buffer
		if err := writeJSON(&compact, tree); err != nil {
			return nil, fmt.Errorf("encoding config as JSON: %w", err)
		}
		if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
			return nil, fmt.Errorf("encoding config as JSON: %w", err)
		}
		out.WriteByte('\n')
		return out.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown config format %q: use yaml or json", format)
}

// object is a mapping that keeps its key order; encoding/json and yaml.v3 sort map keys.
type object []member

type member struct {
	key string
	val any
}

func toTree(v reflect.Value) any {
	switch v.Type() {
	case durationType:
		return formatDuration(time.Duration(v.Int()))
	case fileModeType:
		return fmt.Sprintf("%04o", uint32(v.Uint()))
	}
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		obj := object{}
		for i := range t.NumField() {
			f := t.Field(i)
			name := tagName(f)
			if name == "" || !f.IsExported() {
				continue
			}
			if skipField(v, f, v.Field(i)) {
				continue
			}
			obj = append(obj, member{name, toTree(v.Field(i))})
		}
		return obj
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return toTree(v.Elem())
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = toTree(v.Index(i))
		}
		return out
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		obj := object{}
		for _, k := range keys {
			obj = append(obj, member{k.String(), toTree(v.MapIndex(k))})
		}
		return obj
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return fmt.Sprint(v.Interface())
}

// skipField leaves out empty omitempty fields, and fields tagged only:"T" of a struct whose
// Type is another known type (a webhook's file permissions mean nothing).
func skipField(parent reflect.Value, f reflect.StructField, v reflect.Value) bool {
	if only := f.Tag.Get("only"); only != "" {
		switch typ := parent.FieldByName("Type").String(); typ {
		case DestinationFilesystem, DestinationWebhook:
			if typ != only {
				return true
			}
		default:
			return v.IsZero()
		}
	}
	return strings.Contains(f.Tag.Get("yaml"), ",omitempty") && v.IsZero()
}

// formatDuration prints a duration the way people write one: "5m", not "5m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func toYAMLNode(v any) *yaml.Node {
	scalar := func(tag, val string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val}
	}
	switch x := v.(type) {
	case object:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, m := range x {
			n.Content = append(n.Content, scalar("!!str", m.key), toYAMLNode(m.val))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if len(x) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, e := range x {
			n.Content = append(n.Content, toYAMLNode(e))
		}
		return n
	case string:
		return scalar("!!str", x)
	case bool:
		return scalar("!!bool", strconv.FormatBool(x))
	case int64:
		return scalar("!!int", strconv.FormatInt(x, 10))
	case uint64:
		return scalar("!!int", strconv.FormatUint(x, 10))
	case float64:
		return scalar("!!float", formatFloat(x))
	}
	return scalar("!!null", "null")
}

func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

func writeJSON(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case object:
		buf.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, m.key); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeJSON(buf, m.val); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// JSON has no NaN or Inf; a string keeps the output valid.
			return writeJSON(buf, formatFloat(x))
		}
	}
	// Config text is printed, not embedded in HTML: keep < > & readable.
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
	return nil
}

// fileModeString is the rendered form of a file mode, for messages.
func fileModeString(m os.FileMode) string { return fmt.Sprintf("%04o", uint32(m)) }
