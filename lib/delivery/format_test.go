package delivery_test

import (
	"testing"

	"github.com/ratchet-go/ratchet/lib/delivery"
)

func TestEncodeOutput(t *testing.T) {
	t.Parallel()
	const obj = `{"b":1,"a":"true","n":null,"nested":{"x":[1,2.5]}}`
	tests := []struct {
		name   string
		format delivery.Format
		in     string
		want   string
	}{
		{"json indents", delivery.FormatJSON, obj, "{\n  \"b\": 1,\n  \"a\": \"true\",\n  \"n\": null,\n  \"nested\": {\n    \"x\": [\n      1,\n      2.5\n    ]\n  }\n}\n"},
		{"json empty is null", delivery.FormatJSON, "", "null\n"},
		{"json compact", delivery.FormatJSONCompact, "{ \"a\" : [1, 2] }", "{\"a\":[1,2]}\n"},
		{"raw string as is", delivery.FormatRaw, `"line 1\nline 2"`, "line 1\nline 2"},
		{"raw object as json", delivery.FormatRaw, `{ "a": 1 }`, `{"a":1}`},
		{"raw number", delivery.FormatRaw, `42`, `42`},
		{"yaml keeps order and quotes ambiguous strings", delivery.FormatYAML, obj,
			"b: 1\na: \"true\"\nn: null\nnested:\n  x:\n    - 1\n    - 2.5\n"},
		{"yaml multi-line string", delivery.FormatYAML, `{"s":"a\nb"}`, "s: |-\n  a\n  b\n"},
		{"yaml numeric string", delivery.FormatYAML, `["123", "", "yes", "x: y"]`, "- \"123\"\n- \"\"\n- \"yes\"\n- 'x: y'\n"},
		{"yaml empty containers", delivery.FormatYAML, `{"o":{},"a":[]}`, "o: {}\na: []\n"},
		{"yaml scalar", delivery.FormatYAML, `"hello"`, "hello\n"},
		{"csv array of objects", delivery.FormatCSV, `[{"id":1,"name":"a,b"},{"name":"q\"r","extra":true}]`,
			"id,name,extra\n1,\"a,b\",\n,\"q\"\"r\",true\n"},
		{"csv object is one row", delivery.FormatCSV, `{"city":"Paris","temp":21.5,"tags":["x"],"n":null}`,
			"city,temp,tags,n\nParis,21.5,\"[\"\"x\"\"]\",\n"},
		{"csv array of arrays", delivery.FormatCSV, `[[1,"a"],[2,"b"]]`, "1,a\n2,b\n"},
		{"csv array of scalars", delivery.FormatCSV, `[1,"a",null]`, "value\n1\na\n\"\"\n"},
		{"csv scalar", delivery.FormatCSV, `"x"`, "value\nx\n"},
		{"csv empty array", delivery.FormatCSV, `[]`, ""},
		{"csv multi-line cell", delivery.FormatCSV, `[{"s":"a\nb"}]`, "s\n\"a\nb\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := delivery.EncodeOutput([]byte(tt.in), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestEncodeOutputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		format delivery.Format
		in     string
	}{
		{"invalid json", delivery.FormatJSON, `{"a":`},
		{"invalid json yaml", delivery.FormatYAML, `{"a":}`},
		{"csv mixed array", delivery.FormatCSV, `[{"a":1}, 2]`},
		{"unknown format", delivery.Format("xml"), `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := delivery.EncodeOutput([]byte(tt.in), tt.format); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}
