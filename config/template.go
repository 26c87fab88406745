package config

import (
	"bytes"
	_ "embed"
)

// The template is written by hand, not generated, so it can carry explanations and
// commented examples; tests check that it lists every key and loads back to Default().
//
//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns a commented configuration file holding the defaults, for
// `ratchet config init`. Loading it gives Default() without warnings.
func DefaultYAML() []byte {
	return bytes.Clone(defaultYAML)
}
