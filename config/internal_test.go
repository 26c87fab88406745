package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	env := EnvMap(map[string]string{"A": "alpha", "EMPTY": "", "N1": "one"})
	tests := []struct {
		in, want string
		missing  []string
	}{
		{"plain", "plain", nil},
		{"${A}", "alpha", nil},
		{"x-${A}-${N1}-y", "x-alpha-one-y", nil},
		{"${MISSING}", "", []string{"MISSING"}},
		{"${MISSING:-dflt}", "dflt", nil},
		{"${EMPTY:-dflt}", "dflt", nil},
		{"${EMPTY-dflt}", "", nil},
		{"${MISSING-dflt}", "dflt", nil},
		{"${A:-dflt}", "alpha", nil},
		{"$${A}", "${A}", nil},
		{"$A and $", "$A and $", nil},
		{"${unterminated", "${unterminated", nil},
		{"${not a var}", "${not a var}", nil},
		{"${}", "${}", nil},
		{"${1A}", "${1A}", nil},
		{"${MISSING:-a:-b}", "a:-b", nil},
	}
	for _, tc := range tests {
		got, missing := expand(tc.in, env)
		if got != tc.want || !reflect.DeepEqual(missing, tc.missing) {
			t.Errorf("expand(%q) = %q, %v; want %q, %v", tc.in, got, missing, tc.want, tc.missing)
		}
	}
}

// TestTagsAgree keeps the yaml, json and mapstructure names of every field the same, so the
// file, the rendered output and the decoder agree on each key.
func TestTagsAgree(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	var check func(reflect.Type)
	check = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeFor[time.Duration]() || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := func(tag string) string { return strings.Split(f.Tag.Get(tag), ",")[0] }
			ms, y, j := name("mapstructure"), name("yaml"), name("json")
			if ms == "" || ms != y || ms != j {
				t.Errorf("%s.%s: mapstructure %q yaml %q json %q", typ.Name(), f.Name, ms, y, j)
			}
			if ms != strings.ToLower(ms) {
				t.Errorf("%s.%s: key %q is not snake_case", typ.Name(), f.Name, ms)
			}
			check(f.Type)
		}
	}
	check(reflect.TypeFor[Config]())
}

// TestRenderRoundTripUnredacted checks that render and Load agree on every value type.
func TestRenderRoundTripUnredacted(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Server.Database.URL = "postgres://u:pw@h/db"
	c.Server.Auth.APIKeys = []APIKey{{Name: "a", Key: "secret-key", Role: RoleAdmin}}
	c.Execution.MaxExecutionDuration = 1500 * time.Millisecond
	c.Output.DefaultRetryPolicy.BackoffMultiplier = 1.25
	c.HTTP.AllowedHosts = []string{"api.example.com"}
	c.Output.GlobalDestinations = []Destination{
		{Type: DestinationFilesystem, Path: "/tmp/{{job_uuid}}.csv", Format: FormatCSV, Permissions: 0o640, CreateDirs: true, Overwrite: true},
		{Type: DestinationWebhook, URL: "https://x.example/h", Method: "PATCH", Headers: map[string]string{"x-a": "1"},
			Auth:      &WebhookAuth{Type: AuthBasic, Username: "u", Password: "p"},
			Signature: &Signature{Secret: "s", Header: "x-sig"}, Timeout: 2 * time.Second,
			RetryPolicy: &RetryPolicy{MaxAttempts: 2, InitialDelayMS: 10, MaxDelayMS: 20, BackoffMultiplier: 3}},
		// create_dirs defaults to true: an explicit false must survive rendering.
		{Type: DestinationFilesystem, Path: "/x", Format: FormatRaw, Permissions: 0o600},
	}
	c.Registry.Sources = []RegistrySource{{Name: "s", URI: "file:///t", Config: RegistrySourceConfig{Watch: true, DebounceMS: 0, IgnorePatterns: []string{"*.tmp"}}}}
	for _, format := range []string{"yaml", "json"} {
		out, err := render(c, format)
		if err != nil {
			t.Fatal(err)
		}
		// JSON is YAML, so Load reads both.
		back, warnings, err := Load(LoadOptions{Data: out, LookupEnv: EnvMap(nil)})
		if err != nil || len(warnings) > 0 {
			t.Fatalf("%s: %v %v\n%s", format, err, warnings, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("%s round trip differs:\n%s", format, out)
		}
		// A webhook shows no file fields and a file destination no webhook fields.
		if strings.Contains(string(out), "permissions: \"0640\"\n      url") || strings.Count(string(out), "create_dirs") != 2 || strings.Count(string(out), "\"method\"")+strings.Count(string(out), "method:") != 1 {
			t.Errorf("%s: fields of the other destination type rendered:\n%s", format, out)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m",
		24 * time.Hour: "24h", 1500 * time.Millisecond: "1.5s", 61 * time.Second: "1m1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
