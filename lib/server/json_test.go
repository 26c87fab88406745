package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server"
)

func TestCheckJSONDepth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		okay bool
	}{
		{`{}`, 1, true},
		{`{"a":{}}`, 1, false},
		{`[[1],[2]]`, 2, true},
		{`[[[1]]]`, 2, false},
		{`{"s":"[[[[[[["}`, 1, true}, // brackets in strings do not count
		{`{"s":"\"[[[["}`, 1, true},  // nor after an escaped quote
		{`{"s":"\\"}`, 1, true},      // an escaped backslash ends before the quote
		{strings.Repeat("[", 100000), 64, false},
	}
	for _, tt := range tests {
		if err := server.CheckJSONDepth([]byte(tt.in), tt.max); (err == nil) != tt.okay {
			t.Errorf("CheckJSONDepth(%.40q, %d) = %v", tt.in, tt.max, err)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":null}]}`, `[[[[[]]]]]`, `"str\"[["`, `{"a":1}x`, ``, `{`, `1e999`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := server.DecodeJSON(data, &v, 4)
		if err == nil {
			// Accepted: valid JSON within the depth.
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			return
		}
		if core.KindOf(err) != core.KindInvalidArgument {
			t.Fatalf("error of kind %s for %q: %v", core.KindOf(err), data, err)
		}
	})
}
