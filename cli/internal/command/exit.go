package command

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Exit codes of the ratchet binary.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// UsageError reports a command line that cannot be run as given: an unknown
// command or flag, a wrong number of arguments, or a flag value outside its
// allowed set. It exits with code 2.
type UsageError struct {
	Err error
}

// NewUsageError returns a usage error with a formatted message.
func NewUsageError(format string, args ...any) *UsageError {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

func (e *UsageError) Error() string { return e.Err.Error() }

func (e *UsageError) Unwrap() error { return e.Err }

// asUsageError wraps err as a usage error unless it is nil or one already.
func asUsageError(err error) error {
	var ue *UsageError
	if err == nil || errors.As(err, &ue) {
		return err
	}
	return &UsageError{Err: err}
}

// errReported ends a command that has already printed why it failed, in
// the form its output contract asks for (run-once's "<ErrorType>:
// <message>", a test report): it exits 1 and Run prints nothing more.
var errReported = errors.New("failure already reported")

// ExitCode maps the error a command returned to the process exit code. It
// is the only place that does.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	default:
		return ExitFailure
	}
}

// enforceUsageErrors makes every argument and flag error of the tree under
// root a *UsageError, which cobra does not: its flag parsing errors go
// through FlagErrorFunc, its argument validators and required-flag checks
// return plain errors. It also gives commands that only group subcommands
// ("ratchet", "ratchet config") a validator that rejects unknown
// subcommands, where cobra would print help and succeed.
//
// Call it once, after the whole tree is built.
func enforceUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return asUsageError(err)
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		validate := c.Args
		if c.HasSubCommands() {
			if validate == nil {
				validate = unknownSubcommand
			}
			if !c.Runnable() {
				c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			}
		} else if validate == nil {
			validate = cobra.NoArgs
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := validate(cmd, args); err != nil {
				return asUsageError(err)
			}
			// cobra checks these after the pre-run hooks and returns plain
			// errors; checking them here, first, makes them usage errors.
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return asUsageError(err)
			}
			return asUsageError(cmd.ValidateFlagGroups())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownSubcommand is the argument validator of commands that only group
// subcommands: any argument left is a subcommand that does not exist.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if !cmd.DisableSuggestions {
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's default, applied lazily
		}
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %q?)", s[0])
		}
	}
	return NewUsageError("%s", msg)
}
