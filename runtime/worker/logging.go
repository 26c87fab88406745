package worker

import (
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// pluginTimeLayout is the @timestamp layout go-plugin parses.
const pluginTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// NewLogHandler returns a slog handler writing go-plugin's JSON log lines
// (@timestamp, @level, @message, then the attributes) to w, which in a
// worker process is stderr: the host parses them and logs them as its own.
func NewLogHandler(w io.Writer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().UTC().Format(pluginTimeLayout))
			case slog.LevelKey:
				lvl, _ := a.Value.Any().(slog.Level)
				return slog.String("@level", levelName(lvl))
			case slog.MessageKey:
				return slog.Attr{Key: "@message", Value: a.Value}
			}
			return a
		},
	})
}

// levelName is the hclog name of a slog level.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// hclogLevel is the hclog level of a slog level.
func hclogLevel(l slog.Level) hclog.Level {
	return hclog.LevelFromString(levelName(l))
}
