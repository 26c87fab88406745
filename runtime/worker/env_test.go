package worker

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestBaseEnvKeepsNoSecrets(t *testing.T) {
	t.Setenv("RATCHET_SERVER_AUTH_TOKEN", "secret")
	t.Setenv("DATABASE_URL", "postgres://u:p@h/db")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("TZ", "Europe/Paris")
	env := BaseEnv()
	joined := strings.Join(env, "\n")
	for _, bad := range []string{"RATCHET_SERVER_AUTH_TOKEN", "DATABASE_URL", "AWS_SECRET_ACCESS_KEY"} {
		if strings.Contains(joined, bad) {
			t.Errorf("BaseEnv passes %s", bad)
		}
	}
	if !strings.Contains(joined, "TZ=Europe/Paris") {
		t.Errorf("BaseEnv lacks TZ: %v", env)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	t.Parallel()
	want := Settings{ID: "node-worker-1", MemoryLimitMB: 128, TaskCacheSize: 9, LogLevel: slog.LevelDebug}
	vars := map[string]string{}
	for _, kv := range want.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	got, err := SettingsFromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := SettingsFromEnv(func(k string) string {
		if k == EnvMemoryLimitMB {
			return "lots"
		}
		return ""
	}); err == nil {
		t.Error("a bad memory limit was accepted")
	}
	merged := mergeSettings(Settings{}, Settings{})
	if merged.MemoryLimitMB != DefaultMemoryLimitMB || merged.TaskCacheSize != DefaultTaskCacheSize {
		t.Errorf("defaults = %+v", merged)
	}
}

func TestLogHandlerWritesPluginJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(NewLogHandler(&buf, slog.LevelDebug-4))
	log.Debug("compiled", slog.String("task", "t"))
	log.Log(t.Context(), slog.LevelDebug-4, "traced")
	log.Warn("slow")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	wantLevels := []string{"debug", "trace", "warn"}
	if len(lines) != len(wantLevels) {
		t.Fatalf("got %d lines: %s", len(lines), buf.String())
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["@level"] != wantLevels[i] {
			t.Errorf("line %d level = %v, want %s", i, m["@level"], wantLevels[i])
		}
		if _, ok := m["@message"].(string); !ok {
			t.Errorf("line %d has no @message: %s", i, line)
		}
		ts, _ := m["@timestamp"].(string)
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", ts); err != nil {
			t.Errorf("line %d timestamp: %v", i, err)
		}
	}
	if !strings.Contains(lines[0], `"task":"t"`) {
		t.Errorf("attributes lost: %s", lines[0])
	}
}

func TestServeRefusesToRunByHand(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{envServe + "=1"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatal("a worker started without the handshake cookie kept running")
	}
	if !strings.Contains(stderr.String(), "plugin") {
		t.Errorf("stderr should say this is a plugin: %q", stderr.String())
	}
}
