package command

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// Formats of logs export.
const (
	logsFormatLLM  = "llm"
	logsFormatJSON = "json"
)

// defaultLogsLimit bounds the failures logs export reads by default.
const defaultLogsLimit = 1000

func newLogsCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Summarise what the server recorded, for people and for LLMs",
	}
	cmd.AddCommand(newLogsExportCmd(app))
	return cmd
}

func newLogsExportCmd(app *App) *cobra.Command {
	var (
		format, since, task string
		limit               int
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Summarise recent failures by task and error type, with suggestions",
		Long: `Read the failed executions (and failed jobs) of the configured database
(server.database.url) and summarise them by task and error type: how many, first
and last seen, a few distinct sample messages, and a suggestion per error type.

--format llm prints compact Markdown to paste into an LLM chat; --format json
prints the same summary as a JSON document whose fields do not change.

--since takes a duration back from now (30m, 24h, 7d) or a time (RFC 3339, or a
date such as 2025-01-31, UTC). --limit bounds how many of the newest failures
are read; the summary says when there were more.`,
		Example: `  ratchet logs export
  ratchet logs export --since 7d --task weather-api
  ratchet logs export --format json --since 2025-01-31T00:00:00Z | jq '.tasks[].errors[].error_type'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format = strings.ToLower(strings.TrimSpace(format))
			if format != logsFormatLLM && format != logsFormatJSON {
				return NewUsageError("invalid --format %q: allowed are llm and json", format)
			}
			now := time.Now().UTC().Truncate(time.Second)
			from, err := parseSince(since, now)
			if err != nil {
				return NewUsageError("invalid --since %q: %w", since, err)
			}
			if limit < 1 {
				return NewUsageError("invalid --limit %d: must be 1 or more", limit)
			}
			task = strings.TrimSpace(task)
			return withStore(cmd, app, func(_ *config.Config, store *sqlstore.Store) error {
				in, err := readFailures(cmd.Context(), store, failureQuery{Since: from, Task: task, Limit: limit})
				if err != nil {
					return err
				}
				report := summariseFailures(in, failureWindow{Since: from, Until: now, SinceFlag: since, Task: task, Limit: limit})
				if format == logsFormatJSON {
					enc := json.NewEncoder(app.Stdout)
					enc.SetIndent("", "  ")
					enc.SetEscapeHTML(false)
					return enc.Encode(report)
				}
				_, err = app.Stdout.Write([]byte(report.markdown()))
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", logsFormatLLM, "output format: llm (Markdown) or json")
	f.StringVar(&since, "since", "24h", "window start: a duration back from now (30m, 24h, 7d) or an RFC 3339 time")
	f.StringVar(&task, "task", "", "only this task (its name)")
	f.IntVar(&limit, "limit", defaultLogsLimit, "read at most this many of the newest failures")
	return cmd
}

// parseSince reads --since: a positive duration back from now (Go syntax,
// plus whole days as "7d"), an RFC 3339 time, or a date (UTC midnight).
// The start may not be in the future.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("want a duration such as 24h or 7d, or an RFC 3339 time")
	}
	var t time.Time
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("want a positive whole number of days such as 7d")
		}
		t = now.AddDate(0, 0, -n)
	} else if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("the duration must be positive")
		}
		t = now.Add(-d)
	} else if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
		if t, err = time.Parse(time.DateOnly, s); err != nil {
			return time.Time{}, fmt.Errorf("want a duration such as 30m, 24h or 7d, or a time such as 2025-01-31T08:00:00Z or 2025-01-31")
		}
	}
	t = t.UTC()
	if t.After(now) {
		return time.Time{}, fmt.Errorf("%s is in the future", t.Format(time.RFC3339))
	}
	return t, nil
}

// failureQuery selects the failures to summarise.
type failureQuery struct {
	Since time.Time
	Task  string
	Limit int
}

// failureInput is what readFailures found: the newest failed executions
// and failed jobs, with the totals in the window (which may exceed what
// was read).
type failureInput struct {
	Executions      []core.Execution
	Jobs            []core.Job
	ExecutionsTotal int
	JobsTotal       int
}

// readFailures reads the newest failed executions and jobs finished since
// q.Since, at most q.Limit of each, page by page.
func readFailures(ctx context.Context, store *sqlstore.Store, q failureQuery) (failureInput, error) {
	filters := []core.Filter{
		{Field: "status", Op: core.OpEq, Values: []string{"failed"}},
		{Field: "completed_at", Op: core.OpGte, Values: []string{q.Since.UTC().Format(time.RFC3339Nano)}},
	}
	if q.Task != "" {
		filters = append(filters, core.Filter{Field: "task_name", Op: core.OpEq, Values: []string{q.Task}})
	}
	sort := []core.SortField{{Field: "completed_at", Desc: true}, {Field: "id", Desc: true}}
	var in failureInput
	var err error
	in.Executions, in.ExecutionsTotal, err = readPages(ctx, q.Limit, func(ctx context.Context, lq core.ListQuery) (core.Page[core.Execution], error) {
		lq.Filters, lq.Sort = filters, sort
		return store.Executions().List(ctx, lq)
	})
	if err != nil {
		return failureInput{}, fmt.Errorf("reading failed executions: %w", err)
	}
	in.Jobs, in.JobsTotal, err = readPages(ctx, q.Limit, func(ctx context.Context, lq core.ListQuery) (core.Page[core.Job], error) {
		lq.Filters, lq.Sort = filters, sort
		return store.Jobs().List(ctx, lq)
	})
	if err != nil {
		return failureInput{}, fmt.Errorf("reading failed jobs: %w", err)
	}
	return in, nil
}

// readPages reads up to limit items through list, a page of at most
// core.MaxPageSize at a time, and returns them with the total the first
// page reported.
func readPages[T any](ctx context.Context, limit int, list func(context.Context, core.ListQuery) (core.Page[T], error)) ([]T, int, error) {
	var (
		items []T
		total int
	)
	for len(items) < limit {
		page, err := list(ctx, core.ListQuery{Offset: len(items), Limit: min(limit-len(items), core.MaxPageSize)})
		if err != nil {
			return nil, 0, err
		}
		if len(items) == 0 {
			total = page.Total
		}
		items = append(items, page.Items...)
		if len(page.Items) == 0 || len(items) >= page.Total {
			break
		}
	}
	return items, max(total, len(items)), nil
}
