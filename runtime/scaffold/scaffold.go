// Package scaffold writes a new task folder for `ratchet generate task`: a
// metadata.json, a main.js showing the task function, input and output
// schemas, and tests that pass as generated.
package scaffold

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Options are what `generate task` is told.
type Options struct {
	// Name is the task's name; default: the folder's name.
	Name string
	// Description goes into metadata.json.
	Description string
	// Force allows writing into a folder that is not empty; existing task
	// files are overwritten.
	Force bool
}

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Generate writes the task into dir (created when missing) and returns the
// paths written, relative to dir.
func Generate(dir string, opts Options) ([]string, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("generate task: a path is needed")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("generate task: %w", err)
	}
	name := strings.TrimSpace(opts.Name)
	if name == "" {
		name = strings.ToLower(filepath.Base(abs))
	}
	if !slug.MatchString(name) || len(name) > 128 {
		return nil, fmt.Errorf("generate task: name %q must be a slug: lowercase letters, digits, '.', '_' and '-' (use --name)", name)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 && !opts.Force {
		return nil, fmt.Errorf("generate task: %s is not empty (use --force to write into it)", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("generate task: %w", err)
	}
	desc := strings.TrimSpace(opts.Description)
	if desc == "" {
		desc = "Greets someone by name."
	}
	meta, _ := json.MarshalIndent(map[string]any{
		"name":        name,
		"label":       label(name),
		"version":     "1.0.0",
		"description": desc,
		"timeout":     30,
		"tags":        []string{},
	}, "", "  ")
	files := []struct{ path, content string }{
		{"metadata.json", string(meta) + "\n"},
		{"main.js", mainJS},
		{"input.schema.json", inputSchema},
		{"output.schema.json", outputSchema},
		{"tests/01-greets.json", testGreets},
		{"tests/02-blank-name.json", testBlank},
		{"tests/03-missing-name.json", testMissing},
		{"README.md", fmt.Sprintf(readme, label(name), desc, dir, dir)},
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return written, fmt.Errorf("generate task: %w", err)
		}
		if err := os.WriteFile(p, []byte(f.content), 0o644); err != nil {
			return written, fmt.Errorf("generate task: %w", err)
		}
		written = append(written, f.path)
	}
	return written, nil
}

func label(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

const mainJS = `// The task function: Ratchet calls it with the input (already checked
// against input.schema.json) and a context
// {executionId, jobId, taskId, taskName, taskVersion, attempt}.
// Return a JSON value (it is checked against output.schema.json), or a
// Promise of one: async/await works.
//
// Host APIs: fetch(url, options) (synchronous, returns
// {ok, status, statusText, headers, body, url}), console.log/info/warn/error,
// and typed errors such as ValidationError, NotFoundError, DataError,
// NetworkError or HttpError(status, message).
async function main(input, context) {
  const name = input.name.trim();
  if (name === "") {
    throw new ValidationError("name must not be blank");
  }
  console.log("greeting " + name + " (attempt " + context.attempt + ")");

  // Calling an API looks like this (tests mock it, see tests/*.json):
  //   const res = await fetch("https://api.example.com/users/" + name);
  //   const user = res.body;

  return { message: "Hello, " + name + "!" };
}
`

const inputSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "name": { "type": "string", "minLength": 1, "description": "Who to greet" }
  },
  "required": ["name"],
  "additionalProperties": false
}
`

const outputSchema = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "message": { "type": "string" }
  },
  "required": ["message"]
}
`

const testGreets = `{
  "name": "greets by name",
  "input": { "name": "World" },
  "expected_output": { "message": "Hello, World!" }
}
`

const testBlank = `{
  "name": "a blank name is a ValidationError",
  "input": { "name": "   " },
  "expected_error": "ValidationError"
}
`

const testMissing = `{
  "name": "input without a name does not match the schema",
  "input": {},
  "expected_error": "InputValidationError"
}
`

const readme = `# %s

%s

- ` + "`main.js`" + `: the task function
- ` + "`input.schema.json`" + ` / ` + "`output.schema.json`" + `: JSON Schemas of the input and output
- ` + "`tests/*.json`" + `: test cases (input, then expected_output or expected_error; mocks under mock.http)

Run the tests with ` + "`ratchet test --from-fs %s`" + ` and the task with
` + "`ratchet run-once --from-fs %s --input-json '{\"name\": \"World\"}'`" + `.
`
