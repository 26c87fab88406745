package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/ratchet-go/ratchet/core"
)

// mapError turns driver errors into core errors: unique violations are
// conflicts, foreign-key violations invalid arguments (a referenced row is
// missing), lock timeouts unavailable. Core errors, context errors and
// anything unrecognised pass through unchanged.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var ce *core.Error
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return core.WrapError(core.KindConflict, err, "already exists")
		case sqlite3.ErrConstraintForeignKey:
			return core.WrapError(core.KindInvalidArgument, err, "references a row that does not exist")
		}
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return core.WrapError(core.KindServiceUnavailable, err, "database is busy")
		}
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return core.WrapError(core.KindConflict, err, "already exists")
		case "23503":
			return core.WrapError(core.KindInvalidArgument, err, "references a row that does not exist")
		case "22P02", "22P05", "22021", "22001", "22003", "22007", "22008":
			// Invalid text for a column's type (bad JSON, an out-of-range
			// number, a NUL character).
			return core.WrapError(core.KindInvalidArgument, err, "invalid value")
		case "40001", "40P01", "55P03":
			return core.WrapError(core.KindConflict, err, "concurrent update")
		case "57P01", "57P02", "57P03", "08000", "08003", "08006":
			return core.WrapError(core.KindServiceUnavailable, err, "database unavailable")
		}
	}
	return err
}

// notFound maps sql.ErrNoRows to a NotFoundError naming what was looked up.
func notFound(err error, what string, key any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return core.Errorf(core.KindNotFound, "%s %v not found", what, key)
	}
	return mapError(err)
}
