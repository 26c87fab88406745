// Package logsetup builds the ratchet binary's *slog.Logger from the
// logging settings: level, text or JSON lines, and optional output to a
// file rotated by size (gopkg.in/natefinch/lumberjack.v2).
package logsetup

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core/logging"
)

// Options are the logging settings, as given by the logging section of the
// configuration and the --log-level flag.
type Options struct {
	// Level is a level name for logging.ParseLevel; empty means info.
	Level string
	// Format is text or json (logging.ParseFormat); empty means text.
	Format string
	// Console receives log lines when ToFile is false. Nil means discard.
	Console io.Writer
	// ToFile sends log lines to FilePath, rotated, instead of Console.
	ToFile bool
	// FilePath is the log file; required when ToFile is set.
	FilePath string
	// MaxSizeMB is the size at which the file is rotated; 0 means 100.
	MaxSizeMB int
	// MaxFiles is how many rotated files are kept; 0 keeps all of them.
	MaxFiles int
	// Compress gzips rotated files.
	Compress bool
}

// Logger is a configured logger and the output it owns.
type Logger struct {
	*slog.Logger
	// Level is the logger's level; Set changes it while running.
	Level *slog.LevelVar
	out   io.Closer
}

// Close flushes and closes the log file, if any. It is safe to call more
// than once, and on a Logger writing to the console.
func (l *Logger) Close() error {
	if l == nil || l.out == nil {
		return nil
	}
	out := l.out
	l.out = nil
	return out.Close()
}

// New validates opts and builds the logger. The log file's directory is
// created, and the file opened once, so that an unwritable path is
// reported now rather than lost at the first log line.
func New(opts Options) (*Logger, error) {
	level := slog.LevelInfo
	if opts.Level != "" {
		l, err := logging.ParseLevel(opts.Level)
		if err != nil {
			return nil, err
		}
		level = l
	}
	format, err := logging.ParseFormat(opts.Format)
	if err != nil {
		return nil, err
	}
	var levelVar slog.LevelVar
	levelVar.Set(level)

	w := opts.Console
	if w == nil {
		w = io.Discard
	}
	var closer io.Closer
	if opts.ToFile {
		rotator, err := openRotator(opts)
		if err != nil {
			return nil, err
		}
		w, closer = rotator, rotator
	}
	return &Logger{
		Logger: slog.New(logging.NewHandler(w, format, &levelVar)),
		Level:  &levelVar,
		out:    closer,
	}, nil
}

func openRotator(opts Options) (*lumberjack.Logger, error) {
	if opts.FilePath == "" {
		return nil, errors.New("logging.log_file_path is required when logging.log_to_file is true")
	}
	if opts.MaxSizeMB < 0 || opts.MaxFiles < 0 {
		return nil, fmt.Errorf("logging.file_rotation: max_size_mb (%d) and max_files (%d) must not be negative",
			opts.MaxSizeMB, opts.MaxFiles)
	}
	if err := os.MkdirAll(filepath.Dir(opts.FilePath), 0o755); err != nil {
		return nil, fmt.Errorf("creating the log directory: %w", err)
	}
	f, err := os.OpenFile(opts.FilePath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the log file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("opening the log file: %w", err)
	}
	return &lumberjack.Logger{
		Filename:   opts.FilePath,
		MaxSize:    opts.MaxSizeMB,
		MaxBackups: opts.MaxFiles,
		Compress:   opts.Compress,
	}, nil
}

// FromConfig returns the Options of the configuration's logging section.
// Console is left for the caller.
func FromConfig(c config.LoggingConfig) Options {
	return Options{
		Level:     c.Level,
		Format:    c.Format,
		ToFile:    c.LogToFile,
		FilePath:  c.LogFilePath,
		MaxSizeMB: c.FileRotation.MaxSizeMB,
		MaxFiles:  c.FileRotation.MaxFiles,
		Compress:  c.FileRotation.Compress,
	}
}
