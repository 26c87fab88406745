package command

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDBMigrateAndStatus(t *testing.T) {
	t.Setenv("RATCHET_DATABASE_URL", "sqlite://"+filepath.Join(t.TempDir(), "r.db"))

	r := run(t, "", "db", "status", "-o", "json")
	if r.code != 0 {
		t.Fatalf("status before migrate: %s", r)
	}
	var st struct{ Applied, Pending []string }
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status output is not JSON: %v\n%s", err, r.stdout)
	}
	if len(st.Applied) != 0 || len(st.Pending) == 0 {
		t.Fatalf("fresh database: applied %v, pending %v", st.Applied, st.Pending)
	}

	if r := run(t, "", "db", "migrate"); r.code != 0 || !strings.Contains(r.stdout, "applied ") {
		t.Fatalf("migrate: %s", r)
	}
	if r := run(t, "", "db", "migrate"); r.code != 0 || !strings.Contains(r.stdout, "up to date") {
		t.Fatalf("second migrate: %s", r)
	}
	r = run(t, "", "db", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "0 pending") {
		t.Fatalf("status after migrate: %s", r)
	}
}

func TestDBBadURL(t *testing.T) {
	t.Setenv("RATCHET_DATABASE_URL", "mysql://localhost/x")
	r := run(t, "", "db", "migrate")
	if r.code == 0 {
		t.Fatalf("migrate with a mysql URL succeeded: %s", r)
	}
	if r.code != 1 && r.code != 2 {
		t.Fatalf("exit code %d", r.code)
	}
}
