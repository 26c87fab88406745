package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/ratchet-go/ratchet/cli/internal/logsetup"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core/logging"
)

// App is what every command shares: the standard streams, the global flags
// and the logger. Commands load the configuration through it (LoadConfig).
type App struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Global flags.
	ConfigPath string
	LogLevel   string

	logger *logsetup.Logger
}

// NewApp returns an App using the given streams.
func NewApp(stdin io.Reader, stdout, stderr io.Writer) *App {
	return &App{Stdin: stdin, Stdout: stdout, Stderr: stderr}
}

// Logger returns the application logger: text on stderr at --log-level
// until a command configures logging from the configuration
// (ConfigureLogging).
func (a *App) Logger() *slog.Logger {
	if a.logger == nil {
		return slog.New(logging.NewHandler(a.Stderr, logging.FormatText, slog.LevelInfo))
	}
	return a.logger.Logger
}

// initLogging sets up the console logger from the global flags, before any
// command runs; an invalid --log-level is a usage error.
func (a *App) initLogging() error {
	l, err := logsetup.New(logsetup.Options{Level: a.LogLevel, Console: a.Stderr})
	if err != nil {
		return NewUsageError("invalid --log-level: %w", err)
	}
	a.logger = l
	return nil
}

// SetupLogging replaces the logger with one built from opts (typically
// the configuration's logging section). A --log-level flag given on the
// command line wins over opts.Level.
func (a *App) SetupLogging(opts logsetup.Options) error {
	if a.LogLevel != "" {
		opts.Level = a.LogLevel
	}
	if opts.Console == nil {
		opts.Console = a.Stderr
	}
	l, err := logsetup.New(opts)
	if err != nil {
		return fmt.Errorf("setting up logging: %w", err)
	}
	if a.logger != nil {
		_ = a.logger.Close()
	}
	a.logger = l
	return nil
}

// LoadConfig loads the configuration: the defaults, the --config file if
// given, then the RATCHET_* environment. Warnings (unknown keys, unset
// ${VAR}s) are printed to stderr; an invalid value is an error naming its
// key.
func (a *App) LoadConfig() (*config.Config, error) {
	cfg, _, err := a.loadConfig(config.LoadOptions{File: a.ConfigPath})
	return cfg, err
}

func (a *App) loadConfig(opts config.LoadOptions) (*config.Config, []config.Warning, error) {
	cfg, warnings, err := config.Load(opts)
	for _, w := range warnings {
		fmt.Fprintf(a.Stderr, "warning: %s\n", w)
	}
	return cfg, warnings, err
}

// ConfigureLogging sets the logger up from the configuration's logging
// section: level (--log-level wins), text or JSON, and the rotated log
// file when logging.log_to_file is on. Long-running commands (serve,
// worker) call it after LoadConfig.
func (a *App) ConfigureLogging(cfg *config.Config) error {
	return a.SetupLogging(logsetup.FromConfig(cfg.Logging))
}

// Close releases what the App holds (the log file).
func (a *App) Close() error {
	if a.logger == nil {
		return nil
	}
	return a.logger.Close()
}

// Run builds the command tree, runs it with args and returns the exit
// code. Errors are printed to stderr as "Error: ...", usage errors with a
// pointer to --help. main and the tests both call it.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := NewApp(stdin, stdout, stderr)
	root := NewRootCmd(app)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if cerr := app.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing the log file: %w", cerr)
	}
	code := ExitCode(err)
	if err != nil && !errors.Is(err, errReported) {
		fmt.Fprintln(stderr, "Error:", err)
		if code == ExitUsage && cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}
