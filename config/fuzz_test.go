package config

import (
	"testing"
)

// FuzzLoadYAML: any input must give a config, or an error, never a panic; a config that loads
// must be valid and render.
func FuzzLoadYAML(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte("server: {port: abc}\n"))
	f.Add([]byte("server: 5\n"))
	f.Add([]byte("output:\n  global_destinations:\n    - type: webhook\n      url: https://x.example\n      headers: {A: [1]}\n"))
	f.Add([]byte("registry: {sources: '[{\"uri\": \"x\"}]'}\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("1: 2\n? [a]\n: b\n"))
	f.Add([]byte("execution: {max_execution_duration: 1e300}\n"))
	f.Add([]byte("http: {timeout: ${X:-5m}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Load(LoadOptions{Data: data, LookupEnv: EnvMap(map[string]string{"X": "1"})})
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Load succeeded but the config is invalid: %v", err)
		}
		for _, format := range []string{"yaml", "json"} {
			if _, err := Render(c, format); err != nil {
				t.Fatalf("Render %s: %v", format, err)
			}
		}
	})
}
