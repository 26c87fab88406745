package logsetup

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core/logging"
)

func TestConsoleText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l, err := New(Options{Level: "debug", Console: &buf})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.DebugContext(logging.WithJobID(t.Context(), 5), "claimed")
	if got := buf.String(); !strings.Contains(got, "level=DEBUG msg=claimed job_id=5") {
		t.Errorf("output %q", got)
	}
}

func TestConsoleJSONAndLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l, err := New(Options{Level: "warn", Format: "json", Console: &buf})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("dropped")
	l.Warn("kept", "n", 1)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	if m["msg"] != "kept" {
		t.Errorf("line %v", m)
	}
	l.Level.Set(slog.LevelInfo)
	l.Info("now shown")
	if !strings.Contains(buf.String(), "now shown") {
		t.Error("changing Level did not take effect")
	}
}

func TestDefaultsAndNilConsole(t *testing.T) {
	t.Parallel()
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Level.Level() != slog.LevelInfo {
		t.Errorf("default level %v, want info", l.Level.Level())
	}
	l.Info("goes nowhere")
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"level", Options{Level: "loud"}, `invalid log level "loud"`},
		{"format", Options{Format: "xml"}, `invalid log format "xml"`},
		{"no path", Options{ToFile: true}, "logging.log_file_path is required"},
		{"negative", Options{ToFile: true, FilePath: filepath.Join(dir, "a.log"), MaxFiles: -1}, "must not be negative"},
		{"unwritable", Options{ToFile: true, FilePath: filepath.Join(blocker, "a.log")}, "creating the log directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestFileOutputRotates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "ratchet.log")
	var console bytes.Buffer
	l, err := New(Options{
		Format: "json", Console: &console, ToFile: true, FilePath: path,
		MaxSizeMB: 1, MaxFiles: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	// ~1.5 MB of log lines: one rotation.
	big := strings.Repeat("x", 1000)
	for range 1500 {
		l.Info("line", "pad", big)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if console.Len() != 0 {
		t.Errorf("file logging also wrote %d bytes to the console", console.Len())
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files %v, want the log and one rotated backup", names)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`"msg":"line"`)) {
		t.Errorf("log file lacks the JSON lines: %.200s", data)
	}
}

func TestFromConfig(t *testing.T) {
	t.Parallel()
	c := config.Default().Logging
	c.Level, c.Format, c.LogToFile, c.LogFilePath = "debug", "json", true, "/var/log/ratchet.log"
	c.FileRotation = config.FileRotationConfig{MaxSizeMB: 5, MaxFiles: 3, Compress: true}
	want := Options{Level: "debug", Format: "json", ToFile: true, FilePath: "/var/log/ratchet.log",
		MaxSizeMB: 5, MaxFiles: 3, Compress: true}
	if got := FromConfig(c); got != want {
		t.Errorf("FromConfig = %+v, want %+v", got, want)
	}
}
