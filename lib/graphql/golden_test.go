package graphql_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// schemaQuery asks for every type with its fields, arguments and enum
// values: what a client depends on.
const schemaQuery = `{ __schema { types { name kind
	fields { name args { name defaultValue type { ...T } } type { ...T } }
	inputFields { name defaultValue type { ...T } }
	enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }`

// testSchemaGolden compares the served schema with testdata/schema.json
// (go test -run TestAPI/schema -update rewrites it).
func testSchemaGolden(t *testing.T, e *env) {
	r := e.post(schemaQuery, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("introspection: %s", r.Body)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.Data, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "schema.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, pretty.Bytes()) {
		t.Fatalf("the schema differs from %s: check the change, then run go test -run TestAPI/schema -update", path)
	}
}
