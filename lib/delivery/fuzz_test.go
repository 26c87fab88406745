package delivery_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
)

// FuzzParseDestination feeds API-shaped JSON to the destination parser: it
// must never panic, and what it accepts must survive a round trip.
func FuzzParseDestination(f *testing.F) {
	for _, s := range []string{
		`{"type":"filesystem","config":{"path":"/tmp/{{task_name}}.json","format":"yaml","permissions":"0600"}}`,
		`{"type":"webhook","config":{"url":"https://h/{{job_id}}","auth":{"type":"basic","username":"u"},"timeout":"5s","retry_policy":{"max_attempts":2}}}`,
		`{"type":"webhook","config":{"url":"https://h","headers":{"X":"y"},"signature":{"secret":"s"},"timeout":1e308}}`,
		`{"type":"filesystem","config":{"path":"{{","permissions":-1}}`,
		`{"type":"webhook","config":{"url":"http://[::1","retry_policy":{"backoff_multiplier":"NaN"}}}`,
		`{}`, `{"type":7}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d core.OutputDestination
		if json.Unmarshal([]byte(s), &d) != nil {
			return
		}
		p, err := delivery.ParseDestination(d)
		if err != nil {
			return
		}
		raw, err := json.Marshal(p.OutputDestination())
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back core.OutputDestination
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if _, err := delivery.ParseDestination(back); err != nil {
			t.Fatalf("accepted %s but not its round trip %s: %v", s, raw, err)
		}
		vars := delivery.NewVars(nil, nil, "../x", time.Unix(0, 0))
		if p.Filesystem != nil {
			_ = delivery.RenderPath(p.Filesystem.Path, vars)
		} else {
			_ = delivery.RenderURL(p.Webhook.URL, vars)
		}
	})
}

// FuzzEncodeOutput: any output in any format either encodes or errors, and
// valid JSON always encodes as json, json_compact, yaml and raw.
func FuzzEncodeOutput(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}],"c":"yes"}`, `[{"x":1},{"y":"a\nb"}]`, `"str"`, `[[1],[2,3]]`, `1e999`, `{"a":1,"a":2}`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range delivery.Formats {
			out, err := delivery.EncodeOutput(data, format)
			if err != nil && json.Valid(data) && format != delivery.FormatCSV {
				t.Fatalf("%s rejected valid JSON %q: %v", format, data, err)
			}
			if err == nil && format == delivery.FormatJSON && !json.Valid(out) {
				t.Fatalf("json output %q is not JSON", out)
			}
		}
	})
}
