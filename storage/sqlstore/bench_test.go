package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
	"github.com/ratchet-go/ratchet/storage/storagetest"
)

// Benchmarks run on SQLite and, when RATCHET_TEST_POSTGRES_DSN is set, on
// PostgreSQL:
//
//	go test -run '^$' -bench . -benchtime 2s ./sqlstore

func eachBackend(b *testing.B, fn func(b *testing.B, st *sqlstore.Store, task core.Task)) {
	b.Run("sqlite", func(b *testing.B) {
		st := storagetest.Migrated(b, storagetest.OpenSQLite)
		fn(b, st, benchTask(b, st))
	})
	b.Run("postgres", func(b *testing.B) {
		storagetest.PostgresDSN(b)
		st := storagetest.Migrated(b, storagetest.OpenPostgres)
		fn(b, st, benchTask(b, st))
	})
}

func benchTask(b *testing.B, st *sqlstore.Store) core.Task {
	task, err := st.Tasks().Create(b.Context(), core.Task{Name: "bench", Enabled: true}, &core.TaskVersion{Code: "x"})
	if err != nil {
		b.Fatal(err)
	}
	return task
}

var benchInput = json.RawMessage(`{"n":1}`)

func perSecond(b *testing.B, n int, unit string) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), unit+"/s")
}

// BenchmarkEnqueue: one job per call.
func BenchmarkEnqueue(b *testing.B) {
	eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		n := 0
		for b.Loop() {
			if _, _, err := st.Jobs().Enqueue(ctx, core.Job{TaskID: task.ID, TaskName: task.Name, Input: benchInput}); err != nil {
				b.Fatal(err)
			}
			n++
		}
		perSecond(b, n, "jobs")
	})
}

// BenchmarkEnqueueBatch: 100 jobs per call; one op is one batch.
func BenchmarkEnqueueBatch(b *testing.B) {
	eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		batch := make([]core.Job, 100)
		for i := range batch {
			batch[i] = core.Job{TaskID: task.ID, TaskName: task.Name, Input: benchInput}
		}
		n := 0
		for b.Loop() {
			if _, err := st.Jobs().EnqueueBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			n += len(batch)
		}
		perSecond(b, n, "jobs")
	})
}

// BenchmarkClaimComplete: claim 100 queued jobs, complete each; one op is
// one job. The queue is filled outside the timer.
func BenchmarkClaimComplete(b *testing.B) {
	eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		fill := func(n int) {
			batch := make([]core.Job, 0, 500)
			for n > 0 {
				batch = batch[:0]
				for range min(n, 500) {
					batch = append(batch, core.Job{TaskID: task.ID, TaskName: task.Name, Input: benchInput})
				}
				if _, err := st.Jobs().EnqueueBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				n -= len(batch)
			}
		}
		b.StopTimer()
		fill(b.N)
		b.StartTimer()
		done := 0
		for done < b.N {
			jobs, err := st.Jobs().Claim(ctx, "bench", 100, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if len(jobs) == 0 {
				b.Fatalf("queue empty after %d of %d", done, b.N)
			}
			for _, j := range jobs {
				if _, err := st.Jobs().Complete(ctx, j.ID, sqlstore.Outcome{Output: benchInput, Lease: sqlstore.Lease{Owner: "bench"}}); err != nil {
					b.Fatal(err)
				}
			}
			done += len(jobs)
		}
		perSecond(b, done, "jobs")
	})
}

// BenchmarkCycle is the queue's round trip with batching: enqueue 100 jobs
// in one batch, claim them in one call, complete them with CompleteMany.
// One op is one job going through enqueue + claim + complete.
func BenchmarkCycle(b *testing.B) {
	eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		const size = 100
		batch := make([]core.Job, size)
		for i := range batch {
			batch[i] = core.Job{TaskID: task.ID, TaskName: task.Name, Input: benchInput}
		}
		cs := make([]sqlstore.Completion, 0, size)
		done := 0
		for done < b.N {
			if _, err := st.Jobs().EnqueueBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			jobs, err := st.Jobs().Claim(ctx, "bench", size, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			cs = cs[:0]
			for _, j := range jobs {
				cs = append(cs, sqlstore.Completion{ID: j.ID, Outcome: sqlstore.Outcome{Output: benchInput, Lease: sqlstore.Lease{Owner: "bench", Attempt: j.Attempts}}})
			}
			errs, err := st.Jobs().CompleteMany(ctx, cs)
			if err != nil {
				b.Fatal(err)
			}
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			done += len(jobs)
		}
		perSecond(b, done, "cycles")
	})
}

// BenchmarkCycleSingleComplete is BenchmarkCycle with one Complete call
// per job.
func BenchmarkCycleSingleComplete(b *testing.B) {
	eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		const size = 100
		batch := make([]core.Job, size)
		for i := range batch {
			batch[i] = core.Job{TaskID: task.ID, TaskName: task.Name, Input: benchInput}
		}
		done := 0
		for done < b.N {
			if _, err := st.Jobs().EnqueueBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			jobs, err := st.Jobs().Claim(ctx, "bench", size, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			for _, j := range jobs {
				if _, err := st.Jobs().Complete(ctx, j.ID, sqlstore.Outcome{Output: benchInput, Lease: sqlstore.Lease{Owner: "bench"}}); err != nil {
					b.Fatal(err)
				}
			}
			done += len(jobs)
		}
		perSecond(b, done, "cycles")
	})
}

// BenchmarkListFiltered: a filtered, sorted page with its total over 100k
// jobs (statuses, priorities and 10 tasks mixed).
func BenchmarkListFiltered(b *testing.B) {
	eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		tasks := []core.Task{task}
		for i := range 9 {
			t, err := st.Tasks().Create(ctx, core.Task{Name: fmt.Sprintf("bench-%d", i)}, nil)
			if err != nil {
				b.Fatal(err)
			}
			tasks = append(tasks, t)
		}
		const rows = 100_000
		batch := make([]core.Job, 0, 1000)
		for i := 0; i < rows; i += 1000 {
			batch = batch[:0]
			for k := range 1000 {
				t := tasks[(i+k)%len(tasks)]
				batch = append(batch, core.Job{TaskID: t.ID, TaskName: t.Name, Priority: core.Priority((i + k) % 4), Input: benchInput})
			}
			if _, err := st.Jobs().EnqueueBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		// Finish 60%: claim and complete in bulk.
		for done := 0; done < rows*6/10; {
			jobs, err := st.Jobs().Claim(ctx, "seed", 1000, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			err = st.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
				for _, j := range jobs {
					if _, err := tx.Jobs().Complete(ctx, j.ID, sqlstore.Outcome{}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			done += len(jobs)
		}
		q := core.ListQuery{
			Filters: []core.Filter{
				{Field: "status", Op: core.OpEq, Values: []string{"completed"}},
				{Field: "priority", Op: core.OpIn, Values: []string{"high", "urgent"}},
				{Field: "task_id", Op: core.OpEq, Values: []string{fmt.Sprint(tasks[3].ID)}},
			},
			Sort:   []core.SortField{{Field: "created_at", Desc: true}},
			Offset: 50, Limit: 25,
		}
		b.ResetTimer()
		for b.Loop() {
			p, err := st.Jobs().List(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if p.Total == 0 || len(p.Items) != 25 {
				b.Fatalf("page: %d items of %d", len(p.Items), p.Total)
			}
		}
	})
}

// BenchmarkClaimConcurrent: 8 goroutines claim 10 jobs at a time and
// complete them with CompleteMany until the queue is empty; one op is one
// job. "pool" writes through 4 connections and SQLite's busy timeout
// instead of the single writer connection (the default), for comparison.
func BenchmarkClaimConcurrent(b *testing.B) {
	run := func(b *testing.B, st *sqlstore.Store, task core.Task) {
		ctx := b.Context()
		b.StopTimer()
		for n := b.N; n > 0; n -= 500 {
			batch := make([]core.Job, min(n, 500))
			for i := range batch {
				batch[i] = core.Job{TaskID: task.ID, TaskName: task.Name, Input: benchInput}
			}
			if _, err := st.Jobs().EnqueueBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		var wg sync.WaitGroup
		var total atomic.Int64
		for w := range 8 {
			node := fmt.Sprint("node-", w)
			wg.Go(func() {
				for {
					jobs, err := st.Jobs().Claim(ctx, node, 10, time.Minute)
					if err != nil {
						b.Error(err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					cs := make([]sqlstore.Completion, len(jobs))
					for i, j := range jobs {
						cs[i] = sqlstore.Completion{ID: j.ID, Outcome: sqlstore.Outcome{Lease: sqlstore.Lease{Owner: node}}}
					}
					if _, err := st.Jobs().CompleteMany(ctx, cs); err != nil {
						b.Error(err)
						return
					}
					total.Add(int64(len(jobs)))
				}
			})
		}
		wg.Wait()
		perSecond(b, int(total.Load()), "jobs")
	}
	eachBackend(b, run)
	b.Run("sqlite-pool", func(b *testing.B) {
		sqlstore.SetSQLiteWriters(4)
		defer sqlstore.SetSQLiteWriters(1)
		st := storagetest.Migrated(b, storagetest.OpenSQLite)
		run(b, st, benchTask(b, st))
	})
}

// BenchmarkExecutionRecord: what the dispatcher writes per job attempt,
// in transactions of size executions: their creation at claim and their
// finish, one statement per execution (Create, Finish) or one per batch
// (CreateMany, FinishMany). One op is one execution created and finished.
func BenchmarkExecutionRecord(b *testing.B) {
	for _, size := range []int{1, 10, 50} {
		for _, many := range []bool{false, true} {
			name := fmt.Sprintf("size=%d/one", size)
			if many {
				name = fmt.Sprintf("size=%d/many", size)
			}
			b.Run(name, func(b *testing.B) {
				eachBackend(b, func(b *testing.B, st *sqlstore.Store, task core.Task) {
					benchExecutionRecord(b, st, task, size, many)
				})
			})
		}
	}
}

func benchExecutionRecord(b *testing.B, st *sqlstore.Store, task core.Task, size int, many bool) {
	ctx := b.Context()
	logs := []core.LogEntry{{Time: time.Now(), Level: "info", Message: "hello"}}
	in := make([]core.Execution, size)
	for i := range in {
		in[i] = core.Execution{TaskID: task.ID, TaskName: task.Name, TaskVersion: "1", Status: core.ExecutionRunning, Input: benchInput}
	}
	fin := make([]core.Execution, size)
	done := 0
	for done < b.N {
		var created []core.Execution
		err := st.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
			if many {
				var err error
				created, err = tx.Executions().CreateMany(ctx, in)
				return err
			}
			created = created[:0]
			for _, e := range in {
				c, err := tx.Executions().Create(ctx, e)
				if err != nil {
					return err
				}
				created = append(created, c)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		for i, c := range created {
			c.Status, c.Output, c.Logs, c.WorkerID, c.StartedAt, c.CompletedAt = core.ExecutionCompleted, benchInput, logs, "node/w1", &now, &now
			fin[i] = c
		}
		err = st.RunInTx(ctx, func(ctx context.Context, tx *sqlstore.Store) error {
			if many {
				_, errs, err := tx.Executions().FinishMany(ctx, fin)
				if err != nil {
					return err
				}
				for _, err := range errs {
					if err != nil {
						return err
					}
				}
				return nil
			}
			for _, e := range fin {
				if _, err := tx.Executions().Finish(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		done += size
	}
	perSecond(b, done, "executions")
}
