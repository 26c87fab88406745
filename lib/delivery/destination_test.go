package delivery_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
)

func fsDest(cfg map[string]any) core.OutputDestination {
	return core.OutputDestination{Type: core.DestinationFilesystem, Config: cfg}
}

func hookDest(cfg map[string]any) core.OutputDestination {
	return core.OutputDestination{Type: core.DestinationWebhook, Config: cfg}
}

// fromJSON decodes a destination as the API would.
func fromJSON(t *testing.T, s string) core.OutputDestination {
	t.Helper()
	var d core.OutputDestination
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return d
}

func TestParseDestinationDefaults(t *testing.T) {
	t.Parallel()
	d, err := delivery.ParseDestination(fsDest(map[string]any{"path": "/tmp/x/{{job_uuid}}.json"}))
	if err != nil {
		t.Fatal(err)
	}
	want := &delivery.Filesystem{Path: "/tmp/x/{{job_uuid}}.json", Format: delivery.FormatJSON, Permissions: 0o644, CreateDirs: true}
	if d.Type != core.DestinationFilesystem || !reflect.DeepEqual(d.Filesystem, want) || d.Webhook != nil {
		t.Errorf("got %+v / %+v, want %+v", d, d.Filesystem, want)
	}

	d, err = delivery.ParseDestination(core.OutputDestination{Type: " Webhook ", Config: map[string]any{
		"url":       "https://example.com/{{task_name}}",
		"auth":      map[string]any{"type": "API_KEY", "key": "k"},
		"signature": map[string]any{"secret": "s"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	w := d.Webhook
	if d.Type != core.DestinationWebhook || w.Method != "POST" || w.Timeout != 0 || w.Retry != nil ||
		w.Auth.Type != delivery.AuthAPIKey || w.Auth.Header != "X-API-Key" || w.Signature.Header != "X-Ratchet-Signature" {
		t.Errorf("webhook defaults: %+v auth %+v signature %+v", w, w.Auth, w.Signature)
	}
}

func TestParseDestinationValues(t *testing.T) {
	t.Parallel()
	d := fromJSON(t, `{"type":"webhook","config":{
		"url":"http://h:8080/p?x={{job_id}}","method":"put","headers":{"X-A":"1"},
		"auth":{"type":"basic","username":"u","password":"p"},
		"signature":{"secret":"s","header":"X-Sig"},
		"timeout":2.5,
		"retry_policy":{"max_attempts":5,"initial_delay_ms":10,"max_delay_ms":100,"backoff_multiplier":3}}}`)
	p, err := delivery.ParseDestination(d)
	if err != nil {
		t.Fatal(err)
	}
	w := p.Webhook
	if w.Method != "PUT" || w.Headers["X-A"] != "1" || w.Auth.Username != "u" || w.Auth.Password != "p" ||
		w.Signature.Header != "X-Sig" || w.Timeout != 2500*time.Millisecond {
		t.Errorf("webhook = %+v", w)
	}
	wantRetry := delivery.RetryPolicy{MaxAttempts: 5, InitialDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, BackoffMultiplier: 3}
	if *w.Retry != wantRetry {
		t.Errorf("retry = %+v, want %+v", *w.Retry, wantRetry)
	}

	// Values as Go types, as the composition root may build them.
	p, err = delivery.ParseDestination(fsDest(map[string]any{
		"path": "out.csv", "format": "CSV", "permissions": fs.FileMode(0o600), "create_dirs": false, "overwrite": true,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if f := p.Filesystem; f.Format != delivery.FormatCSV || f.Permissions != 0o600 || f.CreateDirs || !f.Overwrite {
		t.Errorf("filesystem = %+v", f)
	}
	for _, tc := range []struct {
		v    any
		want fs.FileMode
	}{{"0644", 0o644}, {"644", 0o644}, {"0o755", 0o755}, {float64(420), 0o644}, {384, 0o600}, {json.Number("493"), 0o755}} {
		p, err := delivery.ParseDestination(fsDest(map[string]any{"path": "x", "permissions": tc.v}))
		if err != nil || p.Filesystem.Permissions != tc.want {
			t.Errorf("permissions %v (%T): got %v, %v; want %04o", tc.v, tc.v, p.Filesystem, err, tc.want)
		}
	}
	for _, tc := range []struct {
		v    any
		want time.Duration
	}{{"30", 30 * time.Second}, {"1m", time.Minute}, {5, 5 * time.Second}, {int64(1), time.Second}, {2 * time.Second, 2 * time.Second}} {
		p, err := delivery.ParseDestination(hookDest(map[string]any{"url": "https://h", "timeout": tc.v}))
		if err != nil || p.Webhook.Timeout != tc.want {
			t.Errorf("timeout %v (%T): got %+v, %v; want %s", tc.v, tc.v, p.Webhook, err, tc.want)
		}
	}
}

func TestValidateDestinationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		dest   core.OutputDestination
		fields []string // every field named, in order
		wantIn string
	}{
		{"missing type", core.OutputDestination{}, []string{"type"}, "is required"},
		{"unknown type", core.OutputDestination{Type: "s3"}, []string{"type"}, `"s3"`},
		{"fs no path", fsDest(nil), []string{"config.path"}, "is required"},
		{"fs blank path", fsDest(map[string]any{"path": "  "}), []string{"config.path"}, "is required"},
		{"fs path not string", fsDest(map[string]any{"path": 3.0}), []string{"config.path"}, "must be a string"},
		{"fs path directory", fsDest(map[string]any{"path": "/tmp/out/"}), []string{"config.path"}, "not a directory"},
		{"fs unknown variable", fsDest(map[string]any{"path": "/tmp/{{job_name}}.json"}), []string{"config.path"}, "{{job_name}}"},
		{"fs unclosed template", fsDest(map[string]any{"path": "/tmp/{{job_id.json"}), []string{"config.path"}, "malformed"},
		{"fs bad format", fsDest(map[string]any{"path": "x", "format": "xml"}), []string{"config.format"}, `"xml"`},
		{"fs permissions too big", fsDest(map[string]any{"path": "x", "permissions": "1777"}), []string{"config.permissions"}, "octal"},
		{"fs permissions decimal number", fsDest(map[string]any{"path": "x", "permissions": 644.0}), []string{"config.permissions"}, "octal"},
		{"fs permissions not octal", fsDest(map[string]any{"path": "x", "permissions": "rw-r--r--"}), []string{"config.permissions"}, "octal"},
		{"fs permissions zero", fsDest(map[string]any{"path": "x", "permissions": "0"}), []string{"config.permissions"}, "octal"},
		{"fs create_dirs not bool", fsDest(map[string]any{"path": "x", "create_dirs": "yes"}), []string{"config.create_dirs"}, "true or false"},
		{"fs unknown key", fsDest(map[string]any{"path": "x", "mode": "0644"}), []string{"config.mode"}, "unknown setting"},
		{"fs several", fsDest(map[string]any{"format": "xml", "overwrite": 1.0}), []string{"config.path", "config.format", "config.overwrite"}, ""},
		{"hook no url", hookDest(nil), []string{"config.url"}, "is required"},
		{"hook bad scheme", hookDest(map[string]any{"url": "ftp://h/x"}), []string{"config.url"}, "http"},
		{"hook no host", hookDest(map[string]any{"url": "https:///x"}), []string{"config.url"}, "http"},
		{"hook unknown variable", hookDest(map[string]any{"url": "https://h/{{secret}}"}), []string{"config.url"}, "{{secret}}"},
		{"hook method", hookDest(map[string]any{"url": "https://h", "method": "GET"}), []string{"config.method"}, "POST, PUT or PATCH"},
		{"hook headers not object", hookDest(map[string]any{"url": "https://h", "headers": "X-A: 1"}), []string{"config.headers"}, "object"},
		{"hook header name", hookDest(map[string]any{"url": "https://h", "headers": map[string]any{"Bad Header": "x"}}), []string{"config.headers.Bad Header"}, "header name"},
		{"hook header value type", hookDest(map[string]any{"url": "https://h", "headers": map[string]any{"X-N": 1.0}}), []string{"config.headers.X-N"}, "string"},
		{"hook header value newline", hookDest(map[string]any{"url": "https://h", "headers": map[string]any{"X-N": "a\r\nX-Injected: 1"}}), []string{"config.headers.X-N"}, "control"},
		{"hook auth type", hookDest(map[string]any{"url": "https://h", "auth": map[string]any{"type": "oauth"}}), []string{"config.auth.type"}, `"oauth"`},
		{"hook auth no type", hookDest(map[string]any{"url": "https://h", "auth": map[string]any{"token": "t"}}), []string{"config.auth.type"}, "required"},
		{"hook bearer no token", hookDest(map[string]any{"url": "https://h", "auth": map[string]any{"type": "bearer"}}), []string{"config.auth.token"}, "bearer"},
		{"hook basic no username", hookDest(map[string]any{"url": "https://h", "auth": map[string]any{"type": "basic", "password": "p"}}), []string{"config.auth.username"}, "basic"},
		{"hook api_key no key", hookDest(map[string]any{"url": "https://h", "auth": map[string]any{"type": "api_key", "header": "X Key"}}), []string{"config.auth.key", "config.auth.header"}, ""},
		{"hook signature no secret", hookDest(map[string]any{"url": "https://h", "signature": map[string]any{}}), []string{"config.signature.secret"}, "required"},
		{"hook timeout zero", hookDest(map[string]any{"url": "https://h", "timeout": 0.0}), []string{"config.timeout"}, "positive"},
		{"hook timeout text", hookDest(map[string]any{"url": "https://h", "timeout": "soon"}), []string{"config.timeout"}, `"soon"`},
		{"hook timeout too long", hookDest(map[string]any{"url": "https://h", "timeout": "2h"}), []string{"config.timeout"}, "at most"},
		{"hook retry attempts", hookDest(map[string]any{"url": "https://h", "retry_policy": map[string]any{"max_attempts": 0.0}}), []string{"config.retry_policy.max_attempts"}, "between 1 and 20"},
		{"hook retry fraction", hookDest(map[string]any{"url": "https://h", "retry_policy": map[string]any{"max_attempts": 2.5}}), []string{"config.retry_policy.max_attempts"}, "whole number"},
		{"hook retry delays", hookDest(map[string]any{"url": "https://h", "retry_policy": map[string]any{"initial_delay_ms": 100.0, "max_delay_ms": 10.0}}), []string{"config.retry_policy.max_delay_ms"}, "initial_delay_ms"},
		{"hook retry multiplier", hookDest(map[string]any{"url": "https://h", "retry_policy": map[string]any{"backoff_multiplier": 0.5}}), []string{"config.retry_policy.backoff_multiplier"}, "between 1"},
		{"hook retry unknown", hookDest(map[string]any{"url": "https://h", "retry_policy": map[string]any{"attempts": 3.0}}), []string{"config.retry_policy.attempts"}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := delivery.ValidateDestination(tt.dest)
			if err == nil {
				t.Fatal("want an error")
			}
			if !errors.Is(err, core.ErrInvalidArgument) || core.HTTPStatusOf(err) != 400 {
				t.Errorf("error %v is not an InvalidArgument (400)", err)
			}
			var ce *core.Error
			errors.As(err, &ce)
			if ce.Details["field"] != tt.fields[0] {
				t.Errorf("details field = %v, want %s", ce.Details["field"], tt.fields[0])
			}
			problems, _ := ce.Details["problems"].([]map[string]any)
			var got []string
			for _, p := range problems {
				got = append(got, p["field"].(string))
			}
			if !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("fields = %v, want %v (%v)", got, tt.fields, err)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f+": ") {
					t.Errorf("message %q does not name %s", err, f)
				}
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("message %q does not contain %q", err, tt.wantIn)
			}
		})
	}
}

func TestValidateDestinationsNamesIndex(t *testing.T) {
	t.Parallel()
	err := delivery.ValidateDestinations([]core.OutputDestination{
		fsDest(map[string]any{"path": "/ok"}),
		hookDest(map[string]any{"url": "nope"}),
	})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Details["field"] != "output_destinations[1].config.url" ||
		!strings.Contains(err.Error(), "output_destinations[1].config.url") {
		t.Fatalf("error = %v (details %v)", err, ce)
	}
	if err := delivery.ValidateDestinations(nil); err != nil {
		t.Fatalf("no destinations: %v", err)
	}
}

// TestEnvIsNeverExpanded: API input must not read the server's environment.
func TestEnvIsNeverExpanded(t *testing.T) {
	t.Setenv("RATCHET_TEST_SECRET", "hunter2")
	p, err := delivery.ParseDestination(hookDest(map[string]any{
		"url":     "https://h/?k=${RATCHET_TEST_SECRET}",
		"headers": map[string]any{"X-K": "${RATCHET_TEST_SECRET}"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Webhook.URL, "hunter2") || p.Webhook.Headers["X-K"] != "${RATCHET_TEST_SECRET}" {
		t.Fatalf("environment expanded: %+v", p.Webhook)
	}
}

func TestOutputDestinationRoundTrip(t *testing.T) {
	t.Parallel()
	for _, d := range []core.OutputDestination{
		fsDest(map[string]any{"path": "/a/{{date}}/b.yaml", "format": "yaml", "permissions": "0600", "create_dirs": false, "overwrite": true}),
		hookDest(map[string]any{
			"url": "https://h/x", "method": "PATCH", "headers": map[string]any{"X-A": "1"},
			"auth":         map[string]any{"type": "api_key", "key": "k", "header": "X-Key"},
			"signature":    map[string]any{"secret": "s"},
			"timeout":      "1m30s",
			"retry_policy": map[string]any{"max_attempts": 4, "initial_delay_ms": 5, "max_delay_ms": 50, "backoff_multiplier": 1.5},
		}),
	} {
		p1, err := delivery.ParseDestination(d)
		if err != nil {
			t.Fatal(err)
		}
		// Through JSON, as the API and storage carry it.
		raw, err := json.Marshal(p1.OutputDestination())
		if err != nil {
			t.Fatal(err)
		}
		p2, err := delivery.ParseDestination(fromJSON(t, string(raw)))
		if err != nil {
			t.Fatalf("re-parsing %s: %v", raw, err)
		}
		if !reflect.DeepEqual(p1, p2) {
			t.Errorf("round trip changed %+v into %+v (%s)", p1, p2, raw)
		}
	}
}
