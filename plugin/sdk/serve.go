package sdk

import (
	"io"
	"log/slog"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Serve serves p as a Ratchet plugin through go-plugin (gRPC only) until
// the host closes it, then returns. It is the whole of a plugin's main:
//
//	func main() { sdk.Serve(echoPlugin{}) }
//
// Standard output belongs to the go-plugin handshake; log to stderr (see
// Logger). A process started by hand, without the host's magic cookie,
// prints a message saying it is a plugin and exits with status 1.
func Serve(p Plugin) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         PluginSet(p),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin",
			Level:      hclog.Info,
			Output:     os.Stderr,
			JSONFormat: true,
		}),
	})
}

// Logger returns a logger for a plugin process: go-plugin's JSON lines on
// stderr, which the host parses and logs as its own with their level and
// attributes.
func Logger(level slog.Leveler) *slog.Logger {
	return slog.New(NewLogHandler(os.Stderr, level))
}

// pluginTimeLayout is the @timestamp layout go-plugin parses.
const pluginTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// NewLogHandler returns a slog handler writing go-plugin's JSON log lines
// (@timestamp, @level, @message, then the attributes) to w.
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
