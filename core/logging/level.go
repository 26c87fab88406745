package logging

import (
	"fmt"
	"log/slog"
	"strings"
)

// ParseLevel parses a log level name, case-insensitively: debug, info, warn
// (or warning) and error, optionally with an offset as slog writes them
// ("debug-4", "info+2"). The empty string is an error: callers supply their
// default.
func ParseLevel(s string) (slog.Level, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(name, "warning"); ok {
		name = "warn" + rest
	}
	var l slog.Level
	if name == "" || l.UnmarshalText([]byte(name)) != nil {
		return 0, fmt.Errorf("invalid log level %q: allowed are debug, info, warn and error", s)
	}
	return l, nil
}
