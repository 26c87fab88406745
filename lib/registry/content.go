package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"strings"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/runtime/taskfmt"
)

// Problem is one reason a task does not load.
type Problem struct {
	// File is the task file at fault ("main.js", "tests/a.json"), empty
	// for the task as a whole.
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// InvalidTaskError is why a task's files do not make a task. It unwraps to
// a core InvalidArgument error (whose details hold the problems), so that
// the API answers 400.
type InvalidTaskError struct {
	Task     string
	Problems []Problem
}

func (e *InvalidTaskError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	what := "invalid task"
	if e.Task != "" {
		what += " " + e.Task
	}
	return what + ": " + strings.Join(parts, "; ")
}

// Unwrap returns the core error the API maps.
func (e *InvalidTaskError) Unwrap() error {
	return core.Errorf(core.KindInvalidArgument, "%s", e.Error()).WithDetail("problems", e.Problems)
}

func problemOf(err error) Problem {
	var te *taskfmt.Error
	if errors.As(err, &te) {
		return Problem{File: te.File, Line: te.Line, Column: te.Column, Message: te.Message}
	}
	return Problem{Message: err.Error()}
}

// stubs stand in for a broken file so that parsing can go on and find the
// problems of the other files. A nil stub removes the file.
var stubs = map[string][]byte{
	taskfmt.MetadataFile:     nil,
	taskfmt.MainFile:         []byte("(function (input) { return input })"),
	taskfmt.InputSchemaFile:  nil,
	taskfmt.OutputSchemaFile: nil,
}

// parseFiles builds a task from its files. When they do not make one, it
// lists every problem it can find: taskfmt stops at the first, so each
// broken file is replaced by a stub and the parse tried again.
func parseFiles(name string, files map[string][]byte) (*taskfmt.Task, *InvalidTaskError) {
	t, err := taskfmt.FromFiles(name, files)
	if err == nil {
		return t, nil
	}
	inv := &InvalidTaskError{Task: name, Problems: []Problem{problemOf(err)}}
	work := maps.Clone(files)
	replaced := map[string]bool{}
	for range len(stubs) {
		var te *taskfmt.Error
		if !errors.As(err, &te) || replaced[te.File] {
			break
		}
		stub, ok := stubs[te.File]
		if _, present := work[te.File]; !ok || !present {
			break
		}
		replaced[te.File] = true
		if stub == nil {
			delete(work, te.File)
		} else {
			work[te.File] = stub
		}
		if _, err = taskfmt.FromFiles(name, work); err == nil {
			break
		}
		if p := problemOf(err); !replaced[p.File] {
			inv.Problems = append(inv.Problems, p)
		}
	}
	return nil, inv
}

// rawTestKey holds the text of a test file that is no JSON object.
const rawTestKey = "_raw"

// testsJSON is the Tests of a version: a JSON array with one object per
// test file, in file order, each with a "file" member naming it. A file
// that is no JSON object is kept as text under "_raw".
func testsJSON(tests []taskfmt.TestCase, files map[string][]byte) json.RawMessage {
	if len(tests) == 0 {
		return nil
	}
	arr := make([]map[string]json.RawMessage, 0, len(tests))
	for _, tc := range tests {
		var obj map[string]json.RawMessage
		if tc.Raw == nil || json.Unmarshal(tc.Raw, &obj) != nil || obj == nil {
			text, _ := json.Marshal(string(files[tc.File]))
			obj = map[string]json.RawMessage{rawTestKey: text}
		}
		f, _ := json.Marshal(tc.File)
		obj["file"] = f
		arr = append(arr, obj)
	}
	b, err := json.Marshal(arr)
	if err != nil {
		return nil // cannot happen: every member is valid JSON
	}
	return b
}

// checksum identifies a version's content: taskfmt's checksum (code,
// schemas, metadata) and the tests.
func checksum(t *taskfmt.Task, tests json.RawMessage) string {
	h := sha256.New()
	h.Write([]byte("ratchet-registry-v1\x00"))
	h.Write([]byte(t.Checksum))
	h.Write([]byte{0})
	h.Write(tests)
	return hex.EncodeToString(h.Sum(nil))
}

// toVersion makes the version row of a loaded task.
func toVersion(t *taskfmt.Task, files map[string][]byte) core.TaskVersion {
	tests := testsJSON(t.Tests, files)
	return core.TaskVersion{
		Version:      t.Version,
		Checksum:     checksum(t, tests),
		Code:         t.Code,
		InputSchema:  t.InputSchema,
		OutputSchema: t.OutputSchema,
		Metadata:     t.Metadata,
		Tests:        tests,
	}
}

// toTask makes the task row of a loaded task.
func toTask(t *taskfmt.Task, source string, v core.TaskVersion) core.Task {
	return core.Task{
		UUID:         t.UUID,
		Name:         t.Name,
		Label:        t.Label,
		Version:      t.Version,
		Description:  t.Description,
		Tags:         t.Tags,
		Author:       t.Author,
		Timeout:      t.Timeout,
		Enabled:      true,
		InputSchema:  t.InputSchema,
		OutputSchema: t.OutputSchema,
		Metadata:     t.Metadata,
		Source:       source,
		Checksum:     v.Checksum,
	}
}

// VersionFiles returns the files of a task version, as CreateFromFiles and
// UpdateFromFiles take them: to change one file of a task, read its current
// version, replace the file and call UpdateFromFiles. Test files come back
// with their members in a canonical order.
func VersionFiles(v core.TaskVersion) (map[string][]byte, error) {
	files := map[string][]byte{taskfmt.MainFile: []byte(v.Code)}
	if len(v.Metadata) > 0 && string(v.Metadata) != "{}" && string(v.Metadata) != "null" {
		files[taskfmt.MetadataFile] = v.Metadata
	}
	if len(v.InputSchema) > 0 && string(v.InputSchema) != "null" {
		files[taskfmt.InputSchemaFile] = v.InputSchema
	}
	if len(v.OutputSchema) > 0 && string(v.OutputSchema) != "null" {
		files[taskfmt.OutputSchemaFile] = v.OutputSchema
	}
	if len(v.Tests) == 0 || string(v.Tests) == "null" {
		return files, nil
	}
	var tests []map[string]json.RawMessage
	if err := json.Unmarshal(v.Tests, &tests); err != nil {
		return nil, fmt.Errorf("task version %d: tests are not a JSON array of objects: %w", v.ID, err)
	}
	for i, obj := range tests {
		var name string
		_ = json.Unmarshal(obj["file"], &name)
		delete(obj, "file")
		name = path.Clean(strings.TrimPrefix(name, "/"))
		if dir, base := path.Split(name); dir != taskfmt.TestsDir+"/" || !strings.HasSuffix(base, ".json") {
			name = fmt.Sprintf("%s/test-%03d.json", taskfmt.TestsDir, i+1)
		}
		if raw, ok := obj[rawTestKey]; ok && len(obj) == 1 {
			var text string
			if json.Unmarshal(raw, &text) == nil {
				files[name] = []byte(text)
				continue
			}
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	return files, nil
}
