package delivery_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/delivery"
	"github.com/ratchet-go/ratchet/resilience/retry"
)

// memStore records every saved result.
type memStore struct {
	mu   sync.Mutex
	recs []core.DeliveryResult
}

func (m *memStore) SaveDeliveryResult(_ context.Context, r *core.DeliveryResult) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.ID = int64(len(m.recs) + 1)
	m.recs = append(m.recs, *r)
	return nil
}

func (m *memStore) all() []core.DeliveryResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]core.DeliveryResult(nil), m.recs...)
}

// fastRetry retries quickly so that tests do not wait.
var fastRetry = retry.Policy{MaxAttempts: 3, InitialDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

func newDeliverer(t *testing.T, store delivery.ResultStore, cfg delivery.Config) *delivery.Deliverer {
	t.Helper()
	if store == nil {
		store = delivery.DiscardResults
	}
	if isZero(cfg.DefaultRetry) {
		cfg.DefaultRetry = fastRetry
	}
	d, err := delivery.New(store, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

func isZero(p retry.Policy) bool { return p.MaxAttempts == 0 && p.InitialDelay == 0 }

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := delivery.New(nil, delivery.Config{}); err == nil || !strings.Contains(err.Error(), "DiscardResults") {
		t.Errorf("nil store: %v", err)
	}
	tests := []struct {
		name   string
		cfg    delivery.Config
		wantIn string
	}{
		{"negative concurrency", delivery.Config{MaxConcurrent: -1}, "MaxConcurrent"},
		{"negative timeout", delivery.Config{DefaultTimeout: -time.Second}, "DefaultTimeout"},
		{"bad retry", delivery.Config{DefaultRetry: retry.Policy{MaxAttempts: -1}}, "DefaultRetry"},
		{"bad global destination", delivery.Config{GlobalDestinations: []core.OutputDestination{fsDest(nil)}}, "global_destinations[0].config.path"},
	}
	for _, tt := range tests {
		if _, err := delivery.New(delivery.DiscardResults, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantIn) {
			t.Errorf("%s: error %v, want one naming %s", tt.name, err, tt.wantIn)
		}
	}
}

func TestFilesystemTemplatedPathAndFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{})

	formats := map[delivery.Format]string{
		delivery.FormatJSON:        "{\n  \"temp\": 21.5\n}\n",
		delivery.FormatJSONCompact: "{\"temp\":21.5}\n",
		delivery.FormatYAML:        "temp: 21.5\n",
		delivery.FormatCSV:         "temp\n21.5\n",
		delivery.FormatRaw:         "{\"temp\":21.5}",
	}
	var dests []core.OutputDestination
	var names []delivery.Format
	for f := range formats {
		names = append(names, f)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	for _, f := range names {
		dests = append(dests, fsDest(map[string]any{
			"path":   filepath.Join(dir, "{{task_name}}", "{{date}}", "{{task_name}}_{{job_uuid}}_{{execution_id}}."+string(f)),
			"format": string(f),
		}))
	}
	results := d.Deliver(t.Context(), job, exec, "", dests)
	if len(results) != len(dests) {
		t.Fatalf("%d results for %d destinations", len(results), len(dests))
	}
	for i, f := range names {
		r := results[i]
		want := filepath.Join(dir, "weather", "2026-02-03", "weather_job-uuid-1_7."+string(f))
		if !r.Success || r.Attempts != 1 || r.Destination != want || r.DestinationType != "filesystem" ||
			r.JobID != 42 || r.ExecutionID != 7 || r.StatusCode != nil || r.ID == 0 {
			t.Errorf("%s: result %+v, want success at %s", f, r, want)
			continue
		}
		if got := readFile(t, want); got != formats[f] {
			t.Errorf("%s: file holds %q, want %q", f, got, formats[f])
		}
	}
	if n := len(store.all()); n != len(dests) {
		t.Errorf("%d records stored, want %d", n, len(dests))
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(filepath.Join(dir, "weather", "2026-02-03"))
	if len(entries) != len(dests) {
		t.Errorf("directory holds %d entries, want %d", len(entries), len(dests))
	}
}

func TestFilesystemUsesJobOutputWithoutExecutionOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job, _ := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{})
	path := filepath.Join(dir, "out.json")
	r := d.Deliver(t.Context(), job, nil, "", []core.OutputDestination{fsDest(map[string]any{"path": path, "format": "json_compact"})})
	if !r[0].Success || readFile(t, path) != "{\"from\":\"job\"}\n" {
		t.Fatalf("result %+v, file %q", r[0], readFile(t, path))
	}
}

func TestFilesystemCreateDirs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{})

	missing := filepath.Join(dir, "a", "b", "out.json")
	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{fsDest(map[string]any{"path": missing, "create_dirs": false})})
	if r[0].Success || r[0].Attempts != 1 || !strings.Contains(r[0].ErrorMessage, "does not exist") {
		t.Fatalf("create_dirs false: %+v, want one failed attempt (not retried)", r[0])
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Fatalf("create_dirs false created the directory: %v", err)
	}

	r = d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{fsDest(map[string]any{"path": missing})}) // default true
	if !r[0].Success {
		t.Fatalf("create_dirs default: %+v", r[0])
	}
	if readFile(t, missing) == "" {
		t.Fatal("file empty")
	}
}

func TestFilesystemOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	job, exec := sampleJob()
	d := newDeliverer(t, nil, delivery.Config{})
	path := filepath.Join(dir, "out.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}

	// overwrite false (default): the existing file is kept, suffixed names used.
	noOverwrite := []core.OutputDestination{fsDest(map[string]any{"path": path, "format": "raw"})}
	for i, want := range []string{"out-1.json", "out-2.json"} {
		r := d.Deliver(t.Context(), job, exec, "", noOverwrite)
		if !r[0].Success || r[0].Destination != path {
			t.Fatalf("delivery %d: %+v", i, r[0])
		}
		if got := readFile(t, filepath.Join(dir, want)); got != `{"temp":21.5}` {
			t.Fatalf("%s holds %q", want, got)
		}
	}
	if got := readFile(t, path); got != "old" {
		t.Fatalf("existing file changed to %q", got)
	}

	// overwrite true replaces it.
	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{fsDest(map[string]any{"path": path, "format": "raw", "overwrite": true})})
	if !r[0].Success || readFile(t, path) != `{"temp":21.5}` {
		t.Fatalf("overwrite: %+v, file %q", r[0], readFile(t, path))
	}

	// A directory in the way is a permanent failure.
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{fsDest(map[string]any{"path": filepath.Join(dir, "sub.json"), "overwrite": true})})
	if r[0].Success || r[0].Attempts != 1 || !strings.Contains(r[0].ErrorMessage, "is a directory") {
		t.Fatalf("directory in the way: %+v", r[0])
	}
}

func TestFilesystemRoots(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{
		FilesystemRoots:    []string{root},
		GlobalDestinations: []core.OutputDestination{fsDest(map[string]any{"path": filepath.Join(outside, "global.json")})},
	})
	tests := []struct {
		path string
		ok   bool
	}{
		{filepath.Join(root, "x", "ok.json"), true},
		{filepath.Join(root, "..", filepath.Base(outside), "no.json"), false},
		{filepath.Join(outside, "no.json"), false},
		{filepath.Join(root, "escape", "no.json"), false},
	}
	for _, tt := range tests {
		r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{fsDest(map[string]any{"path": tt.path})})
		if len(r) != 2 {
			t.Fatalf("%d results, want the job's and the global one", len(r))
		}
		if r[0].Success != tt.ok {
			t.Errorf("%s: %+v, want success %v", tt.path, r[0], tt.ok)
		}
		if !tt.ok && (r[0].Attempts != 0 || !strings.Contains(r[0].ErrorMessage, "outside")) {
			t.Errorf("%s: %+v, want 0 attempts and an 'outside' error", tt.path, r[0])
		}
		if !r[1].Success {
			t.Errorf("global destination (trusted, outside the roots) failed: %+v", r[1])
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "no.json")); !os.IsNotExist(err) {
		t.Error("a file was written outside the roots")
	}
}

func TestInvalidDestinationIsReportedAndStored(t *testing.T) {
	t.Parallel()
	job, exec := sampleJob()
	store := &memStore{}
	d := newDeliverer(t, store, delivery.Config{})
	r := d.Deliver(t.Context(), job, exec, "", []core.OutputDestination{{Type: "s3"}, fsDest(map[string]any{"path": filepath.Join(t.TempDir(), "x"), "format": "csv"})})
	if r[0].Success || r[0].Attempts != 0 || r[0].DestinationType != "s3" || !strings.Contains(r[0].ErrorMessage, "type") {
		t.Errorf("invalid type: %+v", r[0])
	}
	if !r[1].Success {
		t.Errorf("the valid destination failed: %+v", r[1])
	}
	var invalid int
	for _, rec := range store.all() {
		if rec.DestinationType == "s3" && rec.Attempts == 0 && !rec.Success {
			invalid++
		}
	}
	if invalid != 1 {
		t.Errorf("stored %+v, want the invalid destination recorded once", store.all())
	}
}

func TestDeliverNothing(t *testing.T) {
	t.Parallel()
	d := newDeliverer(t, nil, delivery.Config{})
	if r := d.Deliver(t.Context(), nil, nil, "", nil); r != nil {
		t.Fatalf("got %v", r)
	}
}
