// Package storagetest is the conformance suite every storage backend
// passes: Exercise runs it against stores an Opener makes. OpenSQLite and
// OpenPostgres are the openers for the two supported databases; the
// PostgreSQL one skips unless RATCHET_TEST_POSTGRES_DSN names a server.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// PostgresDSNEnv names the environment variable holding the DSN of a
// PostgreSQL server for tests, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresDSNEnv = "RATCHET_TEST_POSTGRES_DSN"

// Opener opens a fresh, empty (not migrated) store for one test and
// arranges for it to be closed and removed at the end of the test.
type Opener func(t testing.TB) *sqlstore.Store

// OpenSQLite opens a new SQLite database file in t.TempDir().
func OpenSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "ratchet.db"), sqlstore.Options{})
	if err != nil {
		t.Fatalf("opening SQLite: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// PostgresDSN returns the test server's DSN, or skips t when it is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run them", PostgresDSNEnv)
	}
	return dsn
}

// OpenPostgres opens a store in a new schema of the test server (its
// search_path), dropped with everything in it when the test ends. It skips
// t when RATCHET_TEST_POSTGRES_DSN is unset.
func OpenPostgres(t testing.TB) *sqlstore.Store {
	t.Helper()
	dsn := PostgresDSN(t)
	schema := NewPostgresSchema(t, dsn)
	st, err := sqlstore.Open(context.Background(), WithSearchPath(t, dsn, schema), sqlstore.Options{MaxConnections: 12})
	if err != nil {
		t.Fatalf("opening PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// NewPostgresSchema creates a uniquely named schema on the server dsn
// names and drops it (CASCADE) when t ends.
func NewPostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ratchet_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("connecting to PostgreSQL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		admin.Close()
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// WithSearchPath returns dsn with its search_path set to schema.
func WithSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parsing %s: %v", PostgresDSNEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Migrated opens a store with open and migrates it.
func Migrated(t testing.TB, open Opener) *sqlstore.Store {
	t.Helper()
	st := open(t)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return st
}

// Exercise runs the conformance suite against stores from open.
func Exercise(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Migrations", testMigrations},
		{"Transactions", testTransactions},
		{"Tasks", testTasks},
		{"TaskVersions", testTaskVersions},
		{"TaskVersionBump", testTaskVersionBump},
		{"DeleteTaskWithUnfinishedJobs", testDeleteTaskWithUnfinishedJobs},
		{"Enqueue", testEnqueue},
		{"Idempotency", testIdempotency},
		{"ListOperators", testListOperators},
		{"ListSortAndPage", testListSortAndPage},
		{"ListBadInput", testListBadInput},
		{"ListOtherResources", testListOtherResources},
		{"ClaimOrder", testClaimOrder},
		{"ClaimDelayed", testClaimDelayed},
		{"ClaimConcurrent", testClaimConcurrent},
		{"NextReadyAt", testNextReadyAt},
		{"JobTransitions", testJobTransitions},
		{"JobOutcomes", testJobOutcomes},
		{"CompleteMany", testCompleteMany},
		{"LeaseFencing", testLeaseFencing},
		{"ReclaimExpired", testReclaimExpired},
		{"QueueDepth", testQueueDepth},
		{"Executions", testExecutions},
		{"ExecutionTransitions", testExecutionTransitions},
		{"CreateManyExecutions", testCreateManyExecutions},
		{"LatestExecution", testLatestExecution},
		{"FinishManyExecutions", testFinishManyExecutions},
		{"Schedules", testSchedules},
		{"ScheduleFireOnce", testScheduleFireOnce},
		{"Deliveries", testDeliveries},
		{"Workers", testWorkers},
		{"APIKeys", testAPIKeys},
		{"Pruning", testPruning},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}

// --- helpers

func wantKind(t testing.TB, err error, kind core.ErrorKind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", kind)
	}
	var ce *core.Error
	if !errors.As(err, &ce) {
		t.Fatalf("got %T %v, want a *core.Error of kind %s", err, err, kind)
	}
	if ce.Kind != kind {
		t.Fatalf("got %s (%v), want %s", ce.Kind, err, kind)
	}
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

func ctxOf(t testing.TB) context.Context {
	if tt, ok := t.(interface{ Context() context.Context }); ok {
		return tt.Context()
	}
	return context.Background()
}

// seedTask creates a task named name.
func seedTask(t testing.TB, st *sqlstore.Store, name string) core.Task {
	t.Helper()
	task, err := st.Tasks().Create(ctxOf(t), core.Task{Name: name, Label: "Task " + name, Enabled: true},
		&core.TaskVersion{Code: "(function(input){ return input })"})
	if err != nil {
		t.Fatalf("creating task %s: %v", name, err)
	}
	return task
}

func enqueue(t testing.TB, st *sqlstore.Store, j core.Job) core.Job {
	t.Helper()
	job, _, err := st.Jobs().Enqueue(ctxOf(t), j)
	if err != nil {
		t.Fatalf("enqueueing: %v", err)
	}
	return job
}
