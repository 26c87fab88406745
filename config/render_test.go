package config_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ratchet-go/ratchet/config"
)

const secretsYAML = `
server:
  database:
    url: postgres://ratchet:db-secret-pw@db:5432/ratchet?sslmode=disable&password=qp-secret
  auth:
    enabled: true
    api_keys:
      - {name: ci, key: api-key-secret}
output:
  global_destinations:
    - type: webhook
      url: https://hookuser:url-secret@hooks.example.com/x?token=tok-secret&a=1
      headers:
        Authorization: Bearer header-secret
        X-Api-Key: header-key-secret
        X-Source: ratchet
      auth: {type: bearer, token: bearer-secret}
      signature: {secret: sig-secret}
    - type: webhook
      url: https://hooks.example.com/y
      auth: {type: basic, username: bob, password: basic-secret}
    - type: webhook
      url: https://hooks.example.com/z
      auth: {type: api_key, key: apikey-secret}
`

var secrets = []string{
	"db-secret-pw", "qp-secret", "api-key-secret", "url-secret", "tok-secret", "header-secret",
	"header-key-secret", "bearer-secret", "sig-secret", "basic-secret", "apikey-secret",
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, secretsYAML, nil)
	r := c.Redacted()

	checks := []struct {
		name, got, want string
	}{
		{"dsn", r.Server.Database.URL, "postgres://ratchet:***@db:5432/ratchet?sslmode=disable&password=***"},
		{"static api key", r.Server.Auth.APIKeys[0].Key, "***"},
		{"api key name kept", r.Server.Auth.APIKeys[0].Name, "ci"},
		{"webhook url", r.Output.GlobalDestinations[0].URL, "https://hookuser:***@hooks.example.com/x?token=***&a=1"},
		{"authorization header", r.Output.GlobalDestinations[0].Headers["authorization"], "***"},
		{"key header", r.Output.GlobalDestinations[0].Headers["x-api-key"], "***"},
		{"plain header kept", r.Output.GlobalDestinations[0].Headers["x-source"], "ratchet"},
		{"bearer token", r.Output.GlobalDestinations[0].Auth.Token, "***"},
		{"signature secret", r.Output.GlobalDestinations[0].Signature.Secret, "***"},
		{"basic password", r.Output.GlobalDestinations[1].Auth.Password, "***"},
		{"basic user kept", r.Output.GlobalDestinations[1].Auth.Username, "bob"},
		{"api_key auth", r.Output.GlobalDestinations[2].Auth.Key, "***"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}

	// The original is untouched (deep copy).
	if c.Server.Auth.APIKeys[0].Key != "api-key-secret" || c.Output.GlobalDestinations[0].Headers["authorization"] != "Bearer header-secret" ||
		c.Output.GlobalDestinations[0].Auth.Token != "bearer-secret" {
		t.Fatal("Redacted modified the original")
	}
	// Unset secrets stay empty so the output shows they are unset.
	if got := config.Default().Redacted().Server.Database.URL; got != "sqlite://ratchet.db" {
		t.Errorf("sqlite url redacted to %q", got)
	}

	for _, format := range []string{"yaml", "json"} {
		out, err := config.Render(c, format)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(out), s) {
				t.Errorf("%s output leaks %q", format, s)
			}
		}
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	_, _, err := load(t, "server: {database: {url: 'mysql://root:hunter2@db/x'}}\n", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "mysql://root:***@db/x") {
		t.Fatalf("error leaks or hides too much: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://user:pass@host/db", "postgres://user:***@host/db"},
		{"postgres://user@host/db", "postgres://user@host/db"},
		{"postgres://user:p/a@ss@host:5432/db", "postgres://user:***@host:5432/db"},
		{"postgresql://host/db?user=u&password=x", "postgresql://host/db?user=u&password=***"},
		{"sqlite://ratchet.db", "sqlite://ratchet.db"},
		{"sqlite::memory:", "sqlite::memory:"},
		{"https://h.example/x?api_key=k#frag", "https://h.example/x?api_key=***#frag"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := config.RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRenderJSON(t *testing.T) {
	t.Parallel()
	out, err := config.Render(config.Default(), "json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if got := m["execution"]["max_execution_duration"]; got != "5m" {
		t.Errorf("duration rendered as %v, want \"5m\"", got)
	}
	if got := m["server"]["bind_address"]; got != "127.0.0.1" {
		t.Errorf("bind_address = %v", got)
	}
	// Top-level keys in declaration order, snake_case, the same as the YAML keys.
	want := []string{"server", "execution", "http", "cache", "logging", "output", "registry", "plugins", "development"}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var got []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 && dec.More() {
				got = append(got, v)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("top-level keys %v, want %v", got, want)
	}
}

func TestRenderYAMLLoadsBack(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, fullYAML, nil)
	// Two redacted keys would be duplicates ("***"), which is invalid: keep one.
	c.Server.Auth.APIKeys = c.Server.Auth.APIKeys[:1]
	out, err := config.Render(c, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var probe map[string]any
	if err := yaml.Unmarshal(out, &probe); err != nil {
		t.Fatalf("invalid YAML: %v", err)
	}
	back := mustLoad(t, string(out), nil)
	// fullYAML's secrets are redacted in the output; put them back before comparing.
	back.Server.Database.URL = c.Server.Database.URL
	for i := range back.Server.Auth.APIKeys {
		back.Server.Auth.APIKeys[i].Key = c.Server.Auth.APIKeys[i].Key
	}
	back.Output.GlobalDestinations[1].Auth.Key = c.Output.GlobalDestinations[1].Auth.Key
	back.Output.GlobalDestinations[1].Signature.Secret = c.Output.GlobalDestinations[1].Signature.Secret
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("rendered YAML does not load back to the same config:\n%s", out)
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	t.Parallel()
	if _, err := config.Render(config.Default(), "toml"); err == nil {
		t.Fatal("no error for an unknown format")
	}
	if _, err := config.Render(nil, "yaml"); err == nil {
		t.Fatal("no error for a nil config")
	}
}
