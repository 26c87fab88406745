package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/migrations"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func testMigrations(t *testing.T, open Opener) {
	ctx := t.Context()
	st := open(t)
	all, err := migrations.Names()
	noErr(t, err)
	if len(all) == 0 {
		t.Fatal("no embedded migrations")
	}

	status := must[migrations.Status](t)(st.MigrationStatus(ctx))
	if len(status.Applied) != 0 || !slices.Equal(status.Pending, all) {
		t.Fatalf("fresh status = %+v, want all pending %v", status, all)
	}

	applied := must[[]string](t)(st.Migrate(ctx))
	if !slices.Equal(applied, all) {
		t.Fatalf("Migrate applied %v, want %v", applied, all)
	}
	status = must[migrations.Status](t)(st.MigrationStatus(ctx))
	if !slices.Equal(status.Applied, all) || len(status.Pending) != 0 {
		t.Fatalf("status after migrate = %+v", status)
	}
	if again := must[[]string](t)(st.Migrate(ctx)); len(again) != 0 {
		t.Fatalf("second Migrate applied %v, want nothing", again)
	}
	seedTask(t, st, "before-rollback")

	reverted := must[[]string](t)(st.Rollback(ctx))
	if len(reverted) != len(all) {
		t.Fatalf("Rollback reverted %v, want %v", reverted, all)
	}
	status = must[migrations.Status](t)(st.MigrationStatus(ctx))
	if len(status.Applied) != 0 || len(status.Pending) != len(all) {
		t.Fatalf("status after rollback = %+v", status)
	}
	if _, err := st.Tasks().List(ctx, core.ListQuery{}); err == nil {
		t.Fatal("tasks table still exists after rollback")
	}

	must[[]string](t)(st.Migrate(ctx))
	page := must[core.Page[core.Task]](t)(st.Tasks().List(ctx, core.ListQuery{}))
	if page.Total != 0 {
		t.Fatalf("re-migrated database has %d tasks", page.Total)
	}
	seedTask(t, st, "after-remigrate")
}

var errRollback = errors.New("roll back")

func testTransactions(t *testing.T, open Opener) {
	ctx := t.Context()
	st := Migrated(t, open)

	err := st.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
		if _, err := tx.Tasks().Create(ctx, core.Task{Name: "rolled-back"}, nil); err != nil {
			return err
		}
		if _, err := tx.Tasks().GetByName(ctx, "rolled-back"); err != nil {
			t.Errorf("task not visible inside its transaction: %v", err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("RunInTx error = %v, want the callback's", err)
	}
	if _, err := st.Tasks().GetByName(ctx, "rolled-back"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("rolled back task: err = %v, want not found", err)
	}

	noErr(t, st.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
		task, err := tx.Tasks().Create(ctx, core.Task{Name: "committed"}, nil)
		if err != nil {
			return err
		}
		// A nested call joins the transaction.
		return tx.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
			_, _, err := tx.Jobs().Enqueue(ctx, core.Job{TaskID: task.ID})
			return err
		})
	}))
	task := must[core.Task](t)(st.Tasks().GetByName(ctx, "committed"))
	jobs := must[core.Page[core.Job]](t)(st.Jobs().List(ctx, core.ListQuery{}))
	if jobs.Total != 1 || jobs.Items[0].TaskID != task.ID || jobs.Items[0].TaskName != "committed" {
		t.Fatalf("committed job = %+v", jobs)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
