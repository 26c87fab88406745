package rest_test

import "testing"

// TestPatchTaskCodeKeepsFieldsAndBumpsVersion: new code through PATCH is a
// new version even though metadata.json keeps its number, and label and
// description patched earlier survive it.
func TestPatchTaskCodeKeepsFieldsAndBumpsVersion(t *testing.T) {
	e := newEnv(t)
	e.storeTask("evolving", map[string]any{
		"code":     "function main(){ return {v: 1}; }",
		"metadata": map[string]any{"label": "A", "description": "first", "version": "1.0.0"},
	})
	expect(t, e.do("PATCH", "/api/v1/tasks/evolving", map[string]any{"label": "B", "description": "second"}), 200, "relabelling")
	r := e.do("PATCH", "/api/v1/tasks/evolving", map[string]any{"code": "function main(){ return {v: 2}; }"})
	expect(t, r, 200, "new code")
	var got struct {
		Label, Description, Version string
	}
	r.decode(t, &got)
	if got.Label != "B" || got.Description != "second" || got.Version != "1.0.1" {
		t.Fatalf("after the code patch: label %q description %q version %q, want B, second, 1.0.1", got.Label, got.Description, got.Version)
	}
	r = e.do("PATCH", "/api/v1/tasks/evolving", map[string]any{"code": "function main(){ return {v: 3}; }"})
	expect(t, r, 200, "newer code")
	r.decode(t, &got)
	if got.Version != "1.0.2" || got.Label != "B" {
		t.Fatalf("after a second code patch: version %q label %q, want 1.0.2, B", got.Version, got.Label)
	}
}
