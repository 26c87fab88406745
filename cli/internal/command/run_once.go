package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/core/logging"
	"github.com/ratchet-go/ratchet/lib/runtimecfg"
	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/recording"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

func newRunOnceCmd(app *App) *cobra.Command {
	var (
		fromFS, inputJSON, inputFile, recordDir string
		timeout                                 time.Duration
		isolated, showLogs                      bool
	)
	cmd := &cobra.Command{
		Use:   "run-once",
		Short: "Run a task once on an input and print its output JSON",
		Long: `Run a task folder (or .zip) once. The output JSON goes to stdout and the exit
code is 0; a failure prints "<ErrorType>: <message>" on stderr and exits 1.
Malformed input or flags exit 2.

The task runs in this process unless --isolated is given, which runs it in a
worker process exactly as the server does. --logs prints what the task wrote
with console.* on stderr, one "[level] message" line each, before the output
or the error.`,
		Example: `  ratchet run-once --from-fs docs/examples/tasks/addition --input-json '{"num1":1,"num2":2}'
  ratchet run-once --from-fs task.zip --input-file input.json --record ./rec`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			input, err := readInput(app.Stdin, inputJSON, inputFile)
			if err != nil {
				return err
			}
			if timeout < 0 {
				return NewUsageError("--timeout must not be negative, got %s", timeout)
			}
			if isolated && recordDir != "" {
				return NewUsageError("--record runs the task in process and cannot be combined with --isolated")
			}
			cfg, err := app.LoadConfig()
			if err != nil {
				return err
			}
			task, err := taskfmt.Load(fromFS)
			if err != nil {
				return app.reportFailure(loadFailure(err))
			}
			req := engine.Request{
				Task:  engine.SpecOf(task),
				Input: input,
				Context: engine.ExecContext{
					ExecutionID: uuid.NewString(),
					TaskName:    task.Name,
					TaskVersion: task.Version,
					Attempt:     1,
				},
				Timeout: timeout,
			}
			var recorder *recording.Recorder
			if recordDir != "" {
				recorder = &recording.Recorder{}
				req.Recorder = recorder
			}
			engCfg := runtimecfg.Engine(cfg)
			var res engine.Result
			if isolated {
				res, err = runIsolated(cmd, app, cfg.Execution.MemoryLimitMB, engCfg, req)
				if err != nil {
					return app.reportFailure(err)
				}
			} else {
				eng, err := engine.New(engCfg, app.Logger())
				if err != nil {
					return err
				}
				res = eng.Execute(cmd.Context(), req)
			}
			if recorder != nil {
				if err := recording.Save(recordDir, input, res, recorder.Exchanges()); err != nil {
					return fmt.Errorf("saving the recording: %w", err)
				}
			}
			if showLogs {
				for _, l := range res.Logs {
					fmt.Fprintf(app.Stderr, "[%s] %s\n", l.Level, l.Message)
				}
			}
			if res.Err != nil {
				return app.reportFailure(res.Err)
			}
			out := res.Output
			if len(out) == 0 {
				out = json.RawMessage("null")
			}
			_, err = fmt.Fprintf(app.Stdout, "%s\n", out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&fromFS, "from-fs", "", "task folder or .zip to run (required)")
	f.StringVar(&inputJSON, "input-json", "", "input as a JSON document")
	f.StringVar(&inputFile, "input-file", "", "file holding the input JSON (- for stdin)")
	f.StringVar(&recordDir, "record", "", "write input.json, output.json and requests.har (HAR 1.2) to this folder")
	f.DurationVar(&timeout, "timeout", 0, "limit for this execution (e.g. 10s; 0 means only the task's and execution.max_execution_duration apply)")
	f.BoolVar(&isolated, "isolated", false, "run in a worker process, as the server does")
	f.BoolVar(&showLogs, "logs", false, "print the task's console output on stderr")
	_ = cmd.MarkFlagRequired("from-fs")
	cmd.MarkFlagsMutuallyExclusive("input-json", "input-file")
	cmd.MarkFlagsOneRequired("input-json", "input-file")
	return cmd
}

// readInput returns the input document given by --input-json or
// --input-file; malformed JSON is a usage error.
func readInput(stdin io.Reader, inline, file string) (json.RawMessage, error) {
	var (
		data   []byte
		source = "--input-json"
	)
	switch {
	case file == "-":
		source = "--input-file -"
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading the input from stdin: %w", err)
		}
		data = b
	case file != "":
		source = "--input-file " + file
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, NewUsageError("reading %s: %w", file, err)
		}
		data = b
	default:
		data = []byte(inline)
	}
	data = bytes.TrimSpace(data)
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		return nil, NewUsageError("%s is not valid JSON: %v", source, err)
	}
	return json.RawMessage(data), nil
}

// loadFailure gives a task that cannot be loaded the failure kind a user
// would look for: CompileError for main.js, ConfigurationError otherwise.
func loadFailure(err error) error {
	var te *taskfmt.Error
	if errors.As(err, &te) && te.File != "main.js" {
		return core.WrapError(core.KindConfiguration, err, "")
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return err
	}
	return core.WrapError(core.KindCompile, err, "")
}

// reportFailure prints "<ErrorType>: <message>" on stderr, the contract of
// run-once, and ends the command with exit code 1.
func (a *App) reportFailure(err error) error {
	kind := core.KindOf(err)
	msg := err.Error()
	var ce *core.Error
	if errors.As(err, &ce) {
		msg = ce.Message
		if msg == "" {
			msg = string(ce.Kind)
		}
	}
	fmt.Fprintf(a.Stderr, "%s: %s\n", kind, msg)
	return errReported
}

// runIsolated runs req in a fresh worker process (this binary's hidden
// worker command).
func runIsolated(cmd *cobra.Command, app *App, memoryLimitMB int, engCfg engine.Config, req engine.Request) (engine.Result, error) {
	wreq, err := worker.NewRequest(req, worker.LimitsOf(engCfg))
	if err != nil {
		return engine.Result{}, err
	}
	pc := pool.DefaultConfig()
	// The pool's start and stop lines are noise around one execution:
	// show warnings only, unless --log-level asks for more.
	pc.Logger = app.Logger()
	if app.LogLevel == "" {
		pc.Logger = slog.New(logging.NewHandler(app.Stderr, logging.FormatText, slog.LevelWarn))
	}
	if memoryLimitMB > 0 {
		pc.MemoryLimitMB = memoryLimitMB
	}
	wres, err := pool.RunIsolated(cmd.Context(), pc, wreq)
	if err != nil && wres.Err == nil && wres.Output == nil {
		return engine.Result{}, err
	}
	return wres.EngineResult(), nil
}
