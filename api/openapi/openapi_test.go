package openapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v4"
)

func TestYAMLReadsBackAsJSON(t *testing.T) {
	t.Parallel()
	docs := []string{
		`{"a":1,"b":"two","c":[1,"x",{"d":null,"e":true}],"f":{},"g":[],"h":[[1,2],[]]}`,
		`{"yes":"no","on":"off","null":"~","200":"404","$ref":"#/x","k: v":"a # b","lead":" space","trail":"space ",
		  "multi":"line\nbreak\ttab","quote":"\"q\" 'q'","uni":"é ✓ \u2028","num":"1e5","dash":"-","star":"*a","pct":"%x",
		  "big":12345678901234567890,"float":1.5e-7,"neg":-3,"empty":"","colon":"a:b","brace":"{x}","amp":"<&>"}`,
		`[{"a":[{"b":[]}]},[[{}]],"s"]`,
		`"scalar"`,
	}
	for _, d := range docs {
		y, err := YAML([]byte(d))
		if err != nil {
			t.Fatalf("YAML(%s): %v", d, err)
		}
		var fromYAML, fromJSON any
		if err := yaml.Unmarshal(y, &fromYAML); err != nil {
			t.Fatalf("YAML of %s does not parse: %v\n%s", d, err, y)
		}
		if err := json.Unmarshal([]byte(d), &fromJSON); err != nil {
			t.Fatal(err)
		}
		if !equalLoose(fromYAML, fromJSON) {
			t.Errorf("YAML of %s reads back as %#v\n%s", d, fromYAML, y)
		}
	}
	if _, err := YAML([]byte(`{"a":1} x`)); err == nil {
		t.Error("trailing data accepted")
	}
}

// equalLoose compares decoded YAML with decoded JSON, numbers by value.
func equalLoose(a, b any) bool {
	switch bv := b.(type) {
	case float64:
		switch av := a.(type) {
		case int:
			return float64(av) == bv
		case uint64:
			return float64(av) == bv
		case float64:
			return av == bv
		}
		return false
	case map[string]any:
		am, ok := a.(map[string]any)
		if !ok || len(am) != len(bv) {
			return false
		}
		for k, v := range bv {
			if !equalLoose(am[k], v) {
				return false
			}
		}
		return true
	case []any:
		as, ok := a.([]any)
		if !ok || len(as) != len(bv) {
			return false
		}
		for i := range bv {
			if !equalLoose(as[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func TestMapKeepsOrder(t *testing.T) {
	t.Parallel()
	var m Map[int]
	m.Set("z", 1)
	m.Set("a", 2)
	m.Set("z", 3)
	b, err := json.Marshal(m)
	if err != nil || string(b) != `{"z":3,"a":2}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if !(Map[int]{}).IsZero() || m.IsZero() || m.Len() != 2 {
		t.Error("IsZero/Len")
	}
}

type inner struct {
	N int `json:"n"`
}

type sample struct {
	Name     string            `json:"name" doc:"The name."`
	Opt      string            `json:"opt,omitempty"`
	When     time.Time         `json:"when"`
	Maybe    *time.Time        `json:"maybe"`
	Raw      json.RawMessage   `json:"raw"`
	Kind     string            `json:"kind" enum:"a,b"`
	Inner    inner             `json:"inner"`
	InnerPtr *inner            `json:"inner_ptr" doc:"Optional."`
	List     []inner           `json:"list"`
	Labels   map[string]string `json:"labels"`
	Any      any               `json:"any"`
	Skip     int               `json:"-"`
	hidden   int
}

func TestGenerator(t *testing.T) {
	t.Parallel()
	g := NewGenerator()
	ref := g.Ref(sample{})
	if ref.Ref != "#/components/schemas/sample" {
		t.Fatalf("Ref = %+v", ref)
	}
	s, ok := g.Schemas().Get("sample")
	if !ok {
		t.Fatal("sample not registered")
	}
	if _, ok := g.Schemas().Get("inner"); !ok {
		t.Error("inner not registered")
	}
	want := []string{"name", "opt", "when", "maybe", "raw", "kind", "inner", "inner_ptr", "list", "labels", "any"}
	if got := s.Properties.Keys(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("properties %v, want %v", got, want)
	}
	if strings.Contains(strings.Join(s.Required, ","), "opt") || len(s.Required) != len(want)-1 {
		t.Errorf("required %v", s.Required)
	}
	get := func(name string) *Schema { p, _ := s.Properties.Get(name); return p }
	if p := get("name"); p.Type != "string" || p.Description != "The name." {
		t.Errorf("name %+v", p)
	}
	if p := get("when"); p.Format != "date-time" {
		t.Errorf("when %+v", p)
	}
	if p := get("maybe"); !p.Nullable {
		t.Errorf("maybe %+v", p)
	}
	if p := get("kind"); len(p.Enum) != 2 {
		t.Errorf("kind %+v", p)
	}
	// A nullable reference: the referenced schema or null (a schema that
	// admits null only).
	if p := get("inner_ptr"); len(p.OneOf) != 2 || p.OneOf[0].Ref == "" || !p.OneOf[1].Nullable ||
		len(p.OneOf[1].Enum) != 1 || p.OneOf[1].Enum[0] != nil || p.Description != "Optional." {
		t.Errorf("inner_ptr %+v", p)
	}
	if p := get("list"); p.Type != "array" || p.Items.Ref == "" {
		t.Errorf("list %+v", p)
	}
	if p := get("labels"); p.AdditionalProperties == nil || p.AdditionalProperties.Type != "string" {
		t.Errorf("labels %+v", p)
	}
	g.Define(reflect.TypeFor[time.Duration](), &Schema{Type: "string", Format: "duration"})
	if d := g.Schema(reflect.TypeFor[time.Duration]()); d.Format != "duration" {
		t.Errorf("Define ignored: %+v", d)
	}
}
