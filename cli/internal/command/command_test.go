package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
)

type result struct {
	stdout, stderr string
	code           int
}

// run runs the ratchet command tree in-process, as main does.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr)
	return result{stdout.String(), stderr.String(), code}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"failure", errors.New("boom"), ExitFailure},
		{"usage", NewUsageError("bad %s", "flag"), ExitUsage},
		{"wrapped usage", fmt.Errorf("context: %w", &UsageError{Err: errors.New("x")}), ExitUsage},
		{"config error", &config.ValidationError{}, ExitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestExitCodesOfCommandLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args       []string
		want       int
		wantStderr string
	}{
		{nil, ExitOK, ""},
		{[]string{"--help"}, ExitOK, ""},
		{[]string{"help", "config"}, ExitOK, ""},
		{[]string{"config"}, ExitOK, ""},
		{[]string{"bogus"}, ExitUsage, `unknown command "bogus" for "ratchet"`},
		{[]string{"confg"}, ExitUsage, `did you mean "config"?`},
		{[]string{"--bogus"}, ExitUsage, "unknown flag: --bogus"},
		{[]string{"version", "--bogus"}, ExitUsage, "Run 'ratchet version --help' for usage."},
		{[]string{"version", "extra"}, ExitUsage, `unknown command "extra" for "ratchet version"`},
		{[]string{"version", "-o", "xml"}, ExitUsage, `invalid --output "xml"`},
		{[]string{"config", "bogus"}, ExitUsage, `unknown command "bogus" for "ratchet config"`},
		{[]string{"config", "show", "--format", "xml"}, ExitUsage, `invalid --format "xml"`},
		{[]string{"config", "show", "--format"}, ExitUsage, "flag needs an argument"},
		{[]string{"config", "validate", "a", "b"}, ExitUsage, "accepts at most 1 arg(s)"},
		{[]string{"--log-level", "loud", "version"}, ExitUsage, `invalid --log-level: invalid log level "loud"`},
		{[]string{"completion", "tcsh"}, ExitUsage, `unknown command "tcsh" for "ratchet completion"`},
		{[]string{"config", "validate", "/does/not/exist.yaml"}, ExitFailure, "/does/not/exist.yaml"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, "", tc.args...)
			if r.code != tc.want {
				t.Fatalf("want exit %d, got %v", tc.want, r)
			}
			if tc.want != ExitOK && !strings.HasPrefix(r.stderr, "Error: ") {
				t.Errorf("stderr does not start with %q: %v", "Error: ", r)
			}
			if !strings.Contains(r.stderr, tc.wantStderr) {
				t.Errorf("stderr lacks %q: %v", tc.wantStderr, r)
			}
			if tc.want == ExitUsage && !strings.Contains(r.stderr, "--help' for usage.") {
				t.Errorf("usage error without a pointer to --help: %v", r)
			}
		})
	}
}

// Every leaf command rejects stray arguments as a usage error, including
// commands added later that forget to set Args.
func TestEveryCommandRejectsExtraArgumentsAsUsageErrors(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	var leaves [][]string
	walk = func(c *cobra.Command) {
		if !c.HasSubCommands() {
			path := strings.Fields(c.CommandPath())[1:]
			leaves = append(leaves, path)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCmd(NewApp(nil, &bytes.Buffer{}, &bytes.Buffer{})))
	if len(leaves) < 7 {
		t.Fatalf("found only %d leaf commands: %v", len(leaves), leaves)
	}
	for _, leaf := range leaves {
		t.Run(strings.Join(leaf, " "), func(t *testing.T) {
			t.Parallel()
			if r := run(t, "", append(leaf, "x", "y", "z")...); r.code != ExitUsage {
				t.Errorf("want exit 2, got %v", r)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := run(t, "", "version")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"ratchet dev\n", "commit:", "go:       " + runtime.Version()} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = run(t, "", "version", "--output", "json")
	var info map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || r.code != 0 {
		t.Fatalf("version -o json: %v\n%v", err, r)
	}
	if info["version"] != "dev" || info["go_version"] != runtime.Version() || info["commit"] == "" {
		t.Errorf("version JSON %v", info)
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{
		"bash":       "bash completion",
		"zsh":        "compdef",
		"fish":       "complete -c ratchet",
		"powershell": "Register-ArgumentCompleter",
	} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			r := run(t, "", "completion", shell)
			if r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Errorf("completion %s: want %q in output, got %.300s", shell, want, r)
			}
		})
	}
}

func TestConfigShowEnvironmentPort(t *testing.T) {
	t.Setenv("RATCHET_SERVER_PORT", "3000")
	r := run(t, "", "config", "show", "--format", "json")
	if r.code != 0 {
		t.Fatal(r)
	}
	var cfg struct {
		Server struct {
			Port int `json:"port"`
		} `json:"server"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
		t.Fatalf("config show --format json is not JSON: %v\n%s", err, r.stdout)
	}
	if cfg.Server.Port != 3000 {
		t.Errorf("server.port = %d, want 3000", cfg.Server.Port)
	}
}

func TestConfigShowRedactsSecretsAndReadsFile(t *testing.T) {
	t.Setenv("RATCHET_DATABASE_URL", "postgres://ratchet:hunter2@db.example:5432/ratchet")
	path := writeFile(t, "ratchet.yaml", "server:\n  bind_address: 0.0.0.0\n  auth:\n    enabled: true\n    api_keys:\n      - name: ci\n        key: sk-very-secret\n")

	r := run(t, "", "--config", path, "config", "show")
	if r.code != 0 {
		t.Fatal(r)
	}
	for _, secret := range []string{"hunter2", "sk-very-secret"} {
		if strings.Contains(r.stdout, secret) {
			t.Errorf("config show leaks %q:\n%s", secret, r.stdout)
		}
	}
	for _, want := range []string{"bind_address: 0.0.0.0", "db.example:5432"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config show lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := writeFile(t, "valid.yaml", "server:\n  port: 9090\n")
	badPort := writeFile(t, "bad.yaml", "server:\n  port: \"abc\"\n")
	unknown := writeFile(t, "unknown.yaml", "server:\n  prot: 9090\n")
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		want       int
		wantStdout string
		wantStderr []string
	}{
		{"valid via --config", []string{"--config", valid, "config", "validate"}, "", 0, "configuration is valid\n", nil},
		{"valid via argument", []string{"config", "validate", valid}, "", 0, "configuration is valid\n", nil},
		{"stdin", []string{"config", "validate", "-"}, "execution:\n  max_execution_duration: 10m\n", 0, "configuration is valid\n", nil},
		{"bad port", []string{"config", "validate", "-c", badPort}, "", 1, "",
			[]string{"Error: invalid configuration: server.port", `"abc"`}},
		{"bad stdin", []string{"config", "validate", "-"}, "logging:\n  level: loud\n", 1, "",
			[]string{"logging.level", "loud"}},
		{"unknown key warns", []string{"config", "validate", unknown}, "", 0, "configuration is valid\n",
			[]string{"warning: server.prot: unknown key", "server.port"}},
		{"unknown key --strict", []string{"config", "validate", "--strict", unknown}, "", 1, "",
			[]string{"warning: server.prot", "--strict"}},
		{"not YAML", []string{"config", "validate", "-"}, "server: [", 1, "", []string{"(stdin)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.stdin, tc.args...)
			if r.code != tc.want || r.stdout != tc.wantStdout {
				t.Fatalf("want exit %d and stdout %q, got %v", tc.want, tc.wantStdout, r)
			}
			for _, want := range tc.wantStderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q: %v", want, r)
				}
			}
			if tc.wantStderr == nil && r.stderr != "" {
				t.Errorf("unexpected stderr: %v", r)
			}
		})
	}
}

func TestConfigValidateEnvironment(t *testing.T) {
	t.Setenv("RATCHET_SERVER_PORT", "abc")
	r := run(t, "", "config", "validate")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "server.port") || !strings.Contains(r.stderr, "RATCHET_SERVER_PORT") {
		t.Errorf("want exit 1 naming server.port and RATCHET_SERVER_PORT, got %v", r)
	}
}

func TestConfigInitRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "etc", "ratchet.yaml")

	r := run(t, "", "config", "init", "--path", path)
	if r.code != 0 || !strings.Contains(r.stdout, path) {
		t.Fatal(r)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written, config.DefaultYAML()) {
		t.Error("config init did not write config.DefaultYAML()")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of the written file: %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	// The written file validates without warnings and shows the defaults.
	r = run(t, "", "--config", path, "config", "validate")
	if r.code != 0 || r.stdout != "configuration is valid\n" || r.stderr != "" {
		t.Fatalf("validating the written file: %v", r)
	}
	shown := run(t, "", "--config", path, "config", "show", "--format", "json")
	defaults := run(t, "", "config", "show", "--format", "json")
	if shown.code != 0 || shown.stdout != defaults.stdout {
		t.Errorf("config show of the init file differs from the defaults:\n%s\nvs\n%s", shown.stdout, defaults.stdout)
	}

	// An existing file is kept without --force.
	if err := os.WriteFile(path, []byte("server:\n  port: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "config", "init", "--path", path)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "already exists; use --force") {
		t.Errorf("want refusal to overwrite, got %v", r)
	}
	if got, _ := os.ReadFile(path); string(got) != "server:\n  port: 1\n" {
		t.Errorf("the existing file was changed: %q", got)
	}
	r = run(t, "", "config", "init", "--path", path, "--force")
	if got, _ := os.ReadFile(path); r.code != 0 || !bytes.Equal(got, config.DefaultYAML()) {
		t.Errorf("--force did not overwrite: %v", r)
	}
}

func TestConfigInitToStdout(t *testing.T) {
	t.Parallel()
	r := run(t, "", "config", "init", "--path", "-")
	if r.code != 0 || r.stdout != string(config.DefaultYAML()) {
		t.Errorf("config init --path - did not print the template: %.200v", r)
	}
}

func TestConfigureLogging(t *testing.T) {
	t.Parallel()
	logFile := filepath.Join(t.TempDir(), "logs", "ratchet.log")
	cfg := config.Default()
	cfg.Logging.Level = "warn"
	cfg.Logging.Format = "json"
	cfg.Logging.LogToFile = true
	cfg.Logging.LogFilePath = logFile

	var stderr bytes.Buffer
	app := NewApp(nil, &bytes.Buffer{}, &stderr)
	app.LogLevel = "debug" // --log-level wins over logging.level
	if err := app.ConfigureLogging(cfg); err != nil {
		t.Fatal(err)
	}
	app.Logger().Debug("to the file", "k", "v")
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"msg":"to the file","k":"v"`) {
		t.Errorf("log file: %q", data)
	}
	if stderr.Len() != 0 {
		t.Errorf("file logging wrote to stderr: %q", stderr.String())
	}

	cfg.Logging.LogFilePath = ""
	if err := app.ConfigureLogging(cfg); err == nil || !strings.Contains(err.Error(), "log_file_path") {
		t.Errorf("want an error naming log_file_path, got %v", err)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
