package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ratchet-go/ratchet/config"
)

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "ratchet-config")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "ratchet.yaml")
	_ = os.WriteFile(file, []byte("server:\n  prot: 9000\nexecution:\n  max_execution_duration: 45\n"), 0o600)

	cfg, warnings, err := config.Load(config.LoadOptions{
		File:      file,
		LookupEnv: config.EnvMap(map[string]string{"RATCHET_DATABASE_URL": "postgres://ratchet:pw@db/ratchet"}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	fmt.Println(cfg.Execution.MaxExecutionDuration)
	fmt.Println(cfg.Redacted().Server.Database.URL)
	// Output:
	// warning: server.prot: unknown key (ignored); did you mean server.port?
	// 45s
	// postgres://ratchet:***@db/ratchet
}

func ExampleValidationError() {
	_, _, err := config.Load(config.LoadOptions{
		Data:      []byte("server:\n  port: abc\nlogging:\n  format: xml\n"),
		LookupEnv: config.EnvMap(nil),
	})
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			fmt.Println(fe)
		}
	}
	// Output:
	// server.port: invalid value "abc": must be an integer between 1 and 65535
	// logging.format: invalid value "xml": must be one of text, json
}
