// Package taskfmt reads Ratchet tasks (SPEC §2.1): a folder, or a .zip of
// one, holding metadata.json, main.js, input.schema.json, output.schema.json
// and tests/*.json.
//
// Load reads one task from a path, FromFiles builds one from file contents
// (an upload), and Discover finds every task under a path. Load checks what
// can be checked without running the task: metadata field types, the syntax
// of main.js (with line and column), that each schema is a JSON Schema. Test
// files that cannot be read do not stop a load: the test case carries the
// reason, and the test runner reports it as a failure.
package taskfmt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/ratchet-go/ratchet/runtime/fetch"
)

// File names of a task folder.
const (
	MetadataFile     = "metadata.json"
	MainFile         = "main.js"
	InputSchemaFile  = "input.schema.json"
	OutputSchemaFile = "output.schema.json"
	TestsDir         = "tests"
)

// DefaultVersion is the version of a task whose metadata names none.
const DefaultVersion = "1.0.0"

// Size limits on what a task may hold. A zip whose content exceeds them is
// refused before it is fully read.
const (
	MaxFileBytes  = 5 << 20  // one file
	MaxTotalBytes = 20 << 20 // all the files of a task
	MaxZipBytes   = 20 << 20 // the .zip file itself
	MaxZipEntries = 2000
)

// namespace derives the stable uuid of a task from its name.
var namespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("ratchet:task"))

// UUIDFor is the uuid a task named name gets when its metadata has none.
func UUIDFor(name string) string { return uuid.NewSHA1(namespace, []byte(name)).String() }

// Task is one loaded task.
type Task struct {
	Name        string        `json:"name"`
	Label       string        `json:"label"`
	UUID        string        `json:"uuid"`
	Version     string        `json:"version"`
	Description string        `json:"description,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	Tags        []string      `json:"tags,omitempty"`
	Author      string        `json:"author,omitempty"`
	// Metadata is metadata.json as given, unknown fields included; "{}"
	// when the task has no metadata.json.
	Metadata json.RawMessage `json:"metadata"`
	Code     string          `json:"code"`
	// InputSchema and OutputSchema are the schema documents, nil when the
	// task has none.
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
	Tests        []TestCase      `json:"tests,omitempty"`
	// Checksum identifies the content that decides how the task runs: code,
	// schemas and metadata (hex SHA-256, stable across loads).
	Checksum string `json:"checksum"`
	// Dir is where the task was loaded from (a folder or a .zip), empty for
	// tasks built from uploaded files.
	Dir string `json:"dir,omitempty"`
}

// TestCase is one tests/*.json file (SPEC §2.5).
type TestCase struct {
	// File is the file's path in the task, such as "tests/basic.json".
	File        string          `json:"file"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Input       json.RawMessage `json:"input,omitempty"`
	// ExpectedOutput is nil when the test expects an error (a JSON null is
	// the 4 bytes "null").
	ExpectedOutput json.RawMessage `json:"expected_output,omitempty"`
	// ExpectedError is the expected error type or a substring of the
	// expected message; empty when the test expects output.
	ExpectedError string       `json:"expected_error,omitempty"`
	Mocks         []fetch.Mock `json:"mocks,omitempty"`
	// Raw is the file as given.
	Raw json.RawMessage `json:"raw,omitempty"`
	// Error says why the file is not a valid test case; the other fields
	// are then as far as they could be read.
	Error string `json:"error,omitempty"`
	// ErrorLine and ErrorColumn locate a JSON syntax error (Error then
	// starts with "line:col: ").
	ErrorLine   int `json:"error_line,omitempty"`
	ErrorColumn int `json:"error_column,omitempty"`
}

// ExpectsError reports whether the test expects the task to fail.
func (tc TestCase) ExpectsError() bool { return tc.ExpectedOutput == nil && tc.ExpectedError != "" }

// Checksum computes the checksum of a task's content.
func Checksum(code string, inputSchema, outputSchema, metadata []byte) string {
	h := sha256.New()
	h.Write([]byte("ratchet-task-v1"))
	for _, part := range [][]byte{[]byte(code), inputSchema, outputSchema, metadata} {
		var n [9]byte
		if part == nil {
			n[0] = 0 // absent
		} else {
			n[0] = 1
			binary.BigEndian.PutUint64(n[1:], uint64(len(part)))
		}
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil))
}
