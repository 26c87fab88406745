package config_test

import (
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ratchet-go/ratchet/config"
)

func TestDefaultYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, string(config.DefaultYAML()), nil)
	if !reflect.DeepEqual(c, config.Default()) {
		got, _ := config.Render(c, "yaml")
		want, _ := config.Render(config.Default(), "yaml")
		t.Fatalf("DefaultYAML does not load to Default():\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestDefaultYAMLListsEveryKey(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := yaml.Unmarshal(config.DefaultYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range config.Keys() {
		var cur any = doc
		for part := range strings.SplitSeq(k.Path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur, ok = m[part]
			if !ok {
				cur = nil
				break
			}
		}
		if cur == nil {
			t.Errorf("DefaultYAML has no value for %s", k.Path)
		}
	}
}

func TestDefaultYAMLIsACopy(t *testing.T) {
	t.Parallel()
	b := config.DefaultYAML()
	b[0] = 'X'
	if config.DefaultYAML()[0] == 'X' {
		t.Fatal("DefaultYAML returns shared memory")
	}
}
