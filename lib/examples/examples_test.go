package examples

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExtract(t *testing.T) {
	dir, err := Extract(filepath.Join(t.TempDir(), "examples"))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range []string{"addition", "async-pipeline", "order-validation", "weather-api"} {
		for _, f := range []string{"main.js", "metadata.json", "input.schema.json", "output.schema.json"} {
			if _, err := os.Stat(filepath.Join(dir, task, f)); err != nil {
				t.Errorf("%s/%s not extracted: %v", task, f, err)
			}
		}
		tests, err := filepath.Glob(filepath.Join(dir, task, "tests", "*.json"))
		if err != nil || len(tests) == 0 {
			t.Errorf("%s has no tests extracted", task)
		}
	}
	// A second extraction over the first must succeed (upgrades rewrite).
	if _, err := Extract(dir); err != nil {
		t.Fatalf("second extract: %v", err)
	}
}
