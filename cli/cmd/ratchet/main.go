// Command ratchet is the Ratchet binary: the server, the worker processes it
// starts, and the command-line client. The commands live in
// cli/internal/command.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ratchet-go/ratchet/cli/internal/command"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
