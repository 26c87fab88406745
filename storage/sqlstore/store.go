package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/migrations"
)

// Dialect names the database behind a Store.
type Dialect string

const (
	DialectSQLite   Dialect = "sqlite"
	DialectPostgres Dialect = "postgres"
)

// Defaults for Options left zero.
const (
	DefaultConnectionTimeout  = 5 * time.Second
	DefaultSlowQueryThreshold = 200 * time.Millisecond
)

// Options tune a Store. The zero value is usable.
type Options struct {
	// MaxConnections bounds the connection pool: the PostgreSQL pool, or
	// SQLite's reader pool (SQLite always writes through one connection).
	// Zero means 10 for PostgreSQL and max(4, CPUs) for SQLite.
	MaxConnections int
	// ConnectionTimeout bounds connecting to PostgreSQL and, for SQLite, how
	// long a statement waits for a lock held by another process (busy
	// timeout). Zero means DefaultConnectionTimeout.
	ConnectionTimeout time.Duration
	// Logger receives slow queries (warn) and, at debug level, every query.
	// Nil disables query logging.
	Logger *slog.Logger
	// SlowQueryThreshold is the duration above which a query is logged as
	// slow. Zero means DefaultSlowQueryThreshold; negative disables it.
	SlowQueryThreshold time.Duration
}

func (o *Options) fill() {
	if o.ConnectionTimeout <= 0 {
		o.ConnectionTimeout = DefaultConnectionTimeout
	}
	if o.SlowQueryThreshold == 0 {
		o.SlowQueryThreshold = DefaultSlowQueryThreshold
	}
}

// Store is Ratchet's database: a connection (pool) and the repositories
// over it. A Store returned by Open is safe for concurrent use; the Store a
// RunInTx callback receives is bound to that transaction and must not be
// used after the callback returns.
type Store struct {
	db *database
	// w runs writes and r runs reads: the same *bun.DB on PostgreSQL and for
	// in-memory SQLite, SQLite's single writer connection and its reader
	// pool for a file, and the transaction inside RunInTx.
	w, r bun.IDB
	tx   bool
}

type database struct {
	dialect   Dialect
	wdb, rdb  *bun.DB
	closeOnce sync.Once
	closeErr  error
	// now is the clock; tests may replace it before any use.
	now func() time.Time
}

// Open connects to the database a URL names:
//
//	sqlite://PATH        a SQLite file, created when missing (WAL, synchronous=NORMAL)
//	sqlite::memory:      a private in-memory SQLite database
//	postgres://...       PostgreSQL (also postgresql://), through pgx
//
// It does not migrate; call Migrate. An unknown scheme is a
// ConfigurationError, an unreachable server a ServiceUnavailableError.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	opts.fill()
	var (
		d   *database
		err error
	)
	switch {
	case rawURL == "sqlite::memory:" || rawURL == "sqlite://:memory:":
		d, err = openSQLiteMemory(opts)
	case strings.HasPrefix(rawURL, "sqlite://"):
		d, err = openSQLiteFile(ctx, strings.TrimPrefix(rawURL, "sqlite://"), opts)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		d, err = openPostgres(ctx, rawURL, opts)
	default:
		return nil, core.Errorf(core.KindConfiguration,
			"unsupported database URL %q: use sqlite://PATH, sqlite::memory: or postgres://USER@HOST/DB", redact(rawURL))
	}
	if err != nil {
		return nil, err
	}
	d.now = func() time.Time { return time.Now().UTC() }
	if opts.Logger != nil {
		h := &queryHook{logger: opts.Logger, threshold: opts.SlowQueryThreshold}
		d.wdb.AddQueryHook(h)
		if d.rdb != d.wdb {
			d.rdb.AddQueryHook(h)
		}
	}
	return &Store{db: d, w: d.wdb, r: d.rdb}, nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw
	}
	return u.Redacted()
}

// sqliteWriters is the size of SQLite's write pool (1; a variable so that a
// benchmark can compare).
var sqliteWriters = 1

// sqliteDriver is go-sqlite3 with the settings its DSN cannot carry, run on
// every new connection.
const sqliteDriver = "ratchet-sqlite3"

// sqliteMmapSize is how much of the database file SQLite reads through
// mmap instead of read(2): list queries over large tables fetch rows at
// random pages, and mmap makes each fetch a memory access.
const sqliteMmapSize = 128 << 20

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			_, err := c.Exec("PRAGMA mmap_size = "+strconv.Itoa(sqliteMmapSize)+"; PRAGMA temp_store = MEMORY", nil)
			return err
		},
	})
}

// sqliteDSN builds a go-sqlite3 DSN with every setting in it, so each new
// pooled connection gets them.
func sqliteDSN(path string, opts Options, readOnly bool) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "NORMAL")
	v.Set("_busy_timeout", strconv.FormatInt(opts.ConnectionTimeout.Milliseconds(), 10))
	v.Set("_foreign_keys", "on")
	// A 16 MiB page cache per connection (the default is 2 MiB), grown
	// only as pages are used.
	v.Set("_cache_size", "-16000")
	if readOnly {
		v.Set("_query_only", "true")
		v.Set("_txlock", "deferred")
	} else {
		v.Set("_txlock", "immediate")
	}
	return path + "?" + v.Encode()
}

func openSQLiteFile(ctx context.Context, path string, opts Options) (*database, error) {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i] // settings are ours; ignore any given
	}
	if path == "" {
		return nil, core.Errorf(core.KindConfiguration, "database URL sqlite:// needs a file path, as in sqlite://ratchet.db")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, core.Errorf(core.KindConfiguration, "creating the directory of SQLite database %s: %w", path, err)
		}
	}
	// One writer connection: SQLite takes one writer at a time anyway, and
	// queueing writers in the Go pool is far cheaper than SQLite's busy-wait.
	wsql, err := sql.Open(sqliteDriver, sqliteDSN(path, opts, false))
	if err != nil {
		return nil, core.Errorf(core.KindConfiguration, "opening SQLite database %s: %w", path, err)
	}
	wsql.SetMaxOpenConns(sqliteWriters)
	wsql.SetMaxIdleConns(sqliteWriters)
	wsql.SetConnMaxLifetime(0)
	wsql.SetConnMaxIdleTime(0)
	if err := wsql.PingContext(ctx); err != nil {
		wsql.Close()
		return nil, core.Errorf(core.KindConfiguration, "opening SQLite database %s: %w", path, err)
	}
	// Refresh the planner's statistics where SQLite thinks they are stale
	// (cheap; bounded by the 0x10000 flag), as SQLite advises for
	// long-lived connections.
	if _, err := wsql.ExecContext(ctx, "PRAGMA optimize = 0x10002"); err != nil {
		wsql.Close()
		return nil, core.Errorf(core.KindConfiguration, "opening SQLite database %s: %w", path, err)
	}
	readers := opts.MaxConnections
	if readers <= 0 {
		readers = max(4, runtime.NumCPU())
	}
	rsql, err := sql.Open(sqliteDriver, sqliteDSN(path, opts, true))
	if err != nil {
		wsql.Close()
		return nil, core.Errorf(core.KindConfiguration, "opening SQLite database %s: %w", path, err)
	}
	rsql.SetMaxOpenConns(readers)
	rsql.SetMaxIdleConns(readers)
	rsql.SetConnMaxIdleTime(5 * time.Minute)
	d := &database{
		dialect: DialectSQLite,
		wdb:     bun.NewDB(wsql, sqlitedialect.New()),
		rdb:     bun.NewDB(rsql, sqlitedialect.New()),
	}
	return d, nil
}

func openSQLiteMemory(opts Options) (*database, error) {
	// One connection that never closes: an in-memory database lives and dies
	// with its connection, and every query must see the same one.
	dsn := sqliteDSN(":memory:", opts, false)
	s, err := sql.Open(sqliteDriver, dsn)
	if err != nil {
		return nil, core.Errorf(core.KindConfiguration, "opening in-memory SQLite database: %w", err)
	}
	s.SetMaxOpenConns(1)
	s.SetMaxIdleConns(1)
	s.SetConnMaxLifetime(0)
	s.SetConnMaxIdleTime(0)
	db := bun.NewDB(s, sqlitedialect.New())
	return &database{dialect: DialectSQLite, wdb: db, rdb: db}, nil
}

func openPostgres(ctx context.Context, rawURL string, opts Options) (*database, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, core.Errorf(core.KindConfiguration, "invalid PostgreSQL URL %s: %w", redact(rawURL), err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = opts.ConnectionTimeout
	}
	s := stdlib.OpenDB(*cfg)
	n := opts.MaxConnections
	if n <= 0 {
		n = 10
	}
	s.SetMaxOpenConns(n)
	s.SetMaxIdleConns(n)
	s.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, opts.ConnectionTimeout)
	defer cancel()
	if err := s.PingContext(pctx); err != nil {
		s.Close()
		return nil, core.Errorf(core.KindServiceUnavailable, "connecting to PostgreSQL at %s: %w", redact(rawURL), err)
	}
	db := bun.NewDB(s, pgdialect.New())
	return &database{dialect: DialectPostgres, wdb: db, rdb: db}, nil
}

// Close closes every connection. It is safe to call more than once.
func (s *Store) Close() error {
	s.db.closeOnce.Do(func() {
		if s.db.dialect == DialectSQLite {
			// Let SQLite analyse what the session's queries showed it needs.
			_, _ = s.db.wdb.ExecContext(context.Background(), "PRAGMA optimize")
		}
		err := s.db.wdb.Close()
		if s.db.rdb != s.db.wdb {
			err = errors.Join(err, s.db.rdb.Close())
		}
		s.db.closeErr = err
	})
	return s.db.closeErr
}

// Dialect reports which database the store talks to.
func (s *Store) Dialect() Dialect { return s.db.dialect }

// Optimize refreshes the query planner's statistics (SQLite: PRAGMA
// optimize; PostgreSQL: ANALYZE of Ratchet's tables). Run it now and then,
// e.g. after retention pruning.
func (s *Store) Optimize(ctx context.Context) error {
	q := "PRAGMA optimize"
	if s.db.dialect == DialectPostgres {
		q = "ANALYZE tasks, task_versions, jobs, executions, schedules, delivery_results, nodes, workers, api_keys"
	}
	_, err := s.db.wdb.ExecContext(ctx, q)
	return mapError(err)
}

// Ping checks that the database answers (for health checks).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.wdb.PingContext(ctx); err != nil {
		return core.WrapError(core.KindServiceUnavailable, err, "database unreachable")
	}
	return nil
}

// SetClock replaces the clock the store stamps rows with (tests only).
func (s *Store) SetClock(now func() time.Time) {
	s.db.now = func() time.Time { return now().UTC() }
}

func (s *Store) now() time.Time { return s.db.now() }

// Migrate applies pending migrations and returns the names applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	return migrations.Migrate(ctx, s.db.wdb)
}

// Rollback reverts the migrations the last Migrate applied.
func (s *Store) Rollback(ctx context.Context) ([]string, error) {
	return migrations.Rollback(ctx, s.db.wdb)
}

// MigrationStatus lists applied and pending migrations.
func (s *Store) MigrationStatus(ctx context.Context) (migrations.Status, error) {
	return migrations.CurrentStatus(ctx, s.db.wdb)
}

// RunInTx runs fn in one transaction and commits when it returns nil. The
// Store fn receives works like s but inside the transaction; on SQLite the
// transaction holds the write lock from its start (BEGIN IMMEDIATE). Nested
// calls join the outer transaction.
func (s *Store) RunInTx(ctx context.Context, fn func(ctx context.Context, tx *Store) error) error {
	if s.tx {
		return fn(ctx, s)
	}
	err := s.db.wdb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &Store{db: s.db, w: tx, r: tx, tx: true})
	})
	if err != nil {
		return mapError(err)
	}
	return nil
}

// queryHook logs slow queries, and every query at debug level.
type queryHook struct {
	logger    *slog.Logger
	threshold time.Duration
}

var _ bun.QueryHook = (*queryHook)(nil)

func (h *queryHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h *queryHook) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	d := time.Since(e.StartTime)
	slow := h.threshold > 0 && d >= h.threshold
	if !slow && !h.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	q := e.Query
	if len(q) > 2000 {
		q = q[:2000] + "…"
	}
	attrs := []slog.Attr{
		slog.String("operation", e.Operation()),
		slog.Duration("duration", d),
		slog.String("query", q),
	}
	if e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows) {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	if slow {
		h.logger.LogAttrs(ctx, slog.LevelWarn, "slow query", attrs...)
		return
	}
	h.logger.LogAttrs(ctx, slog.LevelDebug, "query", attrs...)
}

// jsonParam is a placeholder for a JSON argument where the database must
// know its type (inside CASE).
func (s *Store) jsonParam() string {
	if s.db.dialect == DialectPostgres {
		return "CAST(? AS JSON)"
	}
	return "?"
}

// timeParam is a placeholder for a time argument where the database must
// know its type (inside CASE): PostgreSQL needs a cast, SQLite stores text.
func (s *Store) timeParam() string {
	if s.db.dialect == DialectPostgres {
		return "CAST(? AS TIMESTAMPTZ)"
	}
	return "?"
}
