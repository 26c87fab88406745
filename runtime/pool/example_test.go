package pool_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/pool"
	"github.com/ratchet-go/ratchet/runtime/worker"
)

// The hidden `ratchet worker` command is one call; the server's pool
// re-executes the binary with that command.
func Example() {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker.Serve(worker.ServeConfig{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := pool.DefaultConfig() // Command: this executable + "worker"
	cfg.Logger = slog.Default()
	p, err := pool.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer p.Stop(context.Background())

	// The same request the engine would run in process, under the same
	// engine configuration.
	engineCfg := engine.Config{}
	req, err := worker.NewRequest(engine.Request{
		Task:  engine.TaskSpec{Name: "add", Code: `function main(i) { return i.a + i.b; }`},
		Input: json.RawMessage(`{"a":1,"b":2}`),
	}, worker.LimitsOf(engineCfg))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := p.Execute(ctx, req)
	if err != nil { // never started: no worker available, pool stopping
		fmt.Println(err)
		return
	}
	r := res.EngineResult()
	fmt.Println(string(r.Output), r.Err)
}
