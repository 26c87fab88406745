package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
	"github.com/ratchet-go/ratchet/storage/storagetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storagetest.Exercise(t, storagetest.OpenSQLite)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storagetest.PostgresDSN(t)
	storagetest.Exercise(t, storagetest.OpenPostgres)
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, url := range []string{"mysql://localhost/db", "ratchet.db", "", "sqlite://"} {
		_, err := sqlstore.Open(ctx, url, sqlstore.Options{})
		var ce *core.Error
		if !errors.As(err, &ce) || ce.Kind != core.KindConfiguration {
			t.Errorf("Open(%q) = %v, want a ConfigurationError", url, err)
		}
	}
	_, err := sqlstore.Open(ctx, "postgres://nobody:secret@127.0.0.1:1/db?sslmode=disable", sqlstore.Options{ConnectionTimeout: 2e9})
	var ce *core.Error
	if !errors.As(err, &ce) || ce.Kind != core.KindServiceUnavailable {
		t.Fatalf("unreachable server: %v, want a ServiceUnavailableError", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestSQLiteMemory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite::memory:", sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	task, err := st.Tasks().Create(ctx, core.Task{Name: "mem"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Reads and writes share the one database.
	if _, err := st.Tasks().Get(ctx, task.ID); err != nil {
		t.Fatal(err)
	}
	if st.Dialect() != sqlstore.DialectSQLite {
		t.Fatalf("dialect = %s", st.Dialect())
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestSQLiteFileCreatedWithDirectory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "r.db")
	st, err := sqlstore.Open(ctx, "sqlite://"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// Reopening sees the data (a second process, a restart).
	if _, err := st.Tasks().Create(ctx, core.Task{Name: "persisted"}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2, err := sqlstore.Open(ctx, "sqlite://"+path, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	status, err := st2.MigrationStatus(ctx)
	if err != nil || len(status.Pending) != 0 {
		t.Fatalf("status after reopen = %+v, %v", status, err)
	}
	if _, err := st2.Tasks().GetByName(ctx, "persisted"); err != nil {
		t.Fatal(err)
	}
}
