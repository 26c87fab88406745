// Package config is Ratchet's typed configuration: the Config tree with its defaults,
// loading from YAML and RATCHET_* environment variables with spf13/viper, validation, and
// redacted rendering for `ratchet config show` and /debug/config.
//
// Precedence, lowest first: Default(), the YAML file, the environment. Every key has an
// environment variable, RATCHET_ plus its path in upper case with "." replaced by "_"
// (server.database.url is RATCHET_SERVER_DATABASE_URL), and a few have documented shortcuts
// (see Keys). ${VAR} and ${VAR:-default} are expanded in string values from both sources.
// Durations accept Go duration strings or a whole number of seconds.
//
// Load never fails on an unknown key: it returns a Warning naming the full key path, so a
// config written for a newer version still starts. Invalid values fail, all reported at once in
// a *ValidationError whose FieldErrors name the key, the value and what is allowed.
//
// Only the composition root (cli) should call Load; components take the sub-struct they need,
// which keeps them testable without files or environment.
package config
