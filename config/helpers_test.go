package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/config"
)

// load reads yaml (when not empty) from a file in t.TempDir() with env as the environment.
func load(t *testing.T, yaml string, env map[string]string) (*config.Config, []config.Warning, error) {
	t.Helper()
	opts := config.LoadOptions{LookupEnv: config.EnvMap(env)}
	if yaml != "" {
		opts.File = filepath.Join(t.TempDir(), "ratchet.yaml")
		if err := os.WriteFile(opts.File, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return config.Load(opts)
}

// mustLoad is load that fails the test on an error or a warning.
func mustLoad(t *testing.T, yaml string, env map[string]string) *config.Config {
	t.Helper()
	c, warnings, err := load(t, yaml, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(warnings) > 0 {
		t.Fatalf("unexpected warnings: %v", warnings)
	}
	return c
}

// fieldErrors returns the FieldErrors of a *ValidationError, failing the test otherwise.
func fieldErrors(t *testing.T, err error) []*config.FieldError {
	t.Helper()
	var ve *config.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *config.ValidationError, got %T: %v", err, err)
	}
	return ve.Errors
}

// findFieldError returns the FieldError for key, failing the test when there is none.
func findFieldError(t *testing.T, err error, key string) *config.FieldError {
	t.Helper()
	for _, fe := range fieldErrors(t, err) {
		if fe.Key == key {
			return fe
		}
	}
	t.Fatalf("no error for key %s in:\n%v", key, err)
	return nil
}

func hasWarning(ws []config.Warning, key, substr string) bool {
	for _, w := range ws {
		if w.Key == key && strings.Contains(w.Message, substr) {
			return true
		}
	}
	return false
}
