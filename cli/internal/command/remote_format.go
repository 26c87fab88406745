package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

// Column widths of the tables: longer values are cut with "…".
const (
	cellWidth   = 40
	detailWidth = 200
)

// tableWriter prints aligned columns.
type tableWriter struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer) *tableWriter {
	return &tableWriter{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row prints one row; each cell is cut to cellWidth and kept on one line.
func (t *tableWriter) row(cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c, cellWidth)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// field prints one "Name: value" line of a detail view.
func (t *tableWriter) field(name, value string) {
	fmt.Fprintf(t.tw, "%s:\t%s\n", name, cell(value, detailWidth))
}

func (t *tableWriter) flush() error { return t.tw.Flush() }

// cell puts s on one line and cuts it to n characters; empty is "-".
func cell(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return truncate(s, n)
}

// truncate cuts s to n characters, ending it with "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ago is t relative to now ("3m ago", "in 2h"), or its RFC 3339 date when
// more than 30 days away; "-" for the zero time.
func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		s = strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		s = strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d/time.Hour)) + "h"
	case d < 30*24*time.Hour:
		s = strconv.Itoa(int(d/(24*time.Hour))) + "d"
	default:
		return t.UTC().Format(time.RFC3339)
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func agoPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return ago(*t)
}

// stamp is t in RFC 3339 (UTC) with its relative form: for detail views.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	abs, rel := t.UTC().Format(time.RFC3339), ago(t)
	if rel == abs {
		return abs
	}
	return abs + " (" + rel + ")"
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return stamp(*t)
}

// compactJSON is v on one line; "-" when absent or null.
func compactJSON(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "-"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return string(v)
	}
	return buf.String()
}

func idOrDash(id *int64) string {
	if id == nil {
		return "-"
	}
	return strconv.FormatInt(*id, 10)
}

func intOrDash(n *int) string {
	if n == nil {
		return "-"
	}
	return strconv.Itoa(*n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func millis(ms *int64) string {
	if ms == nil {
		return "-"
	}
	return (time.Duration(*ms) * time.Millisecond).String()
}

func bytesSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// errorText is "<type>: <message>" of a failure, "-" when none.
func errorText(typ, msg string) string {
	switch {
	case typ == "" && msg == "":
		return "-"
	case typ == "":
		return msg
	case msg == "":
		return typ
	}
	return typ + ": " + msg
}

// listFlags select a page of a list.
type listFlags struct {
	filters        []string
	sort, order, q string
	limit, offset  int
}

func addListFlags(cmd *cobra.Command, res *listquery.Resource) *listFlags {
	lf := &listFlags{}
	f := cmd.Flags()
	f.StringArrayVar(&lf.filters, "filter", nil,
		"filter FIELD=VALUE (repeat for several; the same field twice is IN); FIELD may end with _ne, _like, _gte or _lte. Fields: "+
			strings.Join(res.FieldNames(), ", "))
	f.StringVar(&lf.sort, "sort", "", "sort by these fields (comma list): "+strings.Join(res.SortNames(), ", "))
	f.StringVar(&lf.order, "order", "", "asc or desc (comma list, one per --sort field)")
	f.IntVar(&lf.limit, "limit", core.DefaultPageSize, fmt.Sprintf("how many to show (at most %d)", core.MaxPageSize))
	f.IntVar(&lf.offset, "offset", 0, "how many to skip")
	f.StringVarP(&lf.q, "query", "q", "", "free-text search ("+strings.Join(res.Search, ", ")+")")
	return lf
}

// options checks the flags against the resource's fields, as the server
// would, so that a mistyped field is a usage error.
func (lf *listFlags) options(res *listquery.Resource) (client.ListOptions, error) {
	if lf.limit < 1 || lf.limit > core.MaxPageSize {
		return client.ListOptions{}, NewUsageError("invalid --limit %d: must be between 1 and %d", lf.limit, core.MaxPageSize)
	}
	if lf.offset < 0 {
		return client.ListOptions{}, NewUsageError("invalid --offset %d: must not be negative", lf.offset)
	}
	opts := client.ListOptions{
		Start: lf.offset, End: lf.offset + lf.limit,
		Sort: lf.sort, Order: strings.ToLower(lf.order), Q: lf.q,
	}
	for _, f := range lf.filters {
		k, v, ok := strings.Cut(f, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return client.ListOptions{}, NewUsageError("invalid --filter %q: want FIELD=VALUE", f)
		}
		if strings.HasPrefix(k, "_") || k == listquery.ParamQ || k == listquery.ParamLimit || k == listquery.ParamOffset {
			return client.ListOptions{}, NewUsageError("invalid --filter %q: %s is not a field (use --sort, --order, --limit, --offset or -q)", f, k)
		}
		if opts.Filters == nil {
			opts.Filters = map[string][]string{}
		}
		opts.Filters[k] = append(opts.Filters[k], v)
	}
	if opts.Order != "" && opts.Sort == "" {
		return client.ListOptions{}, NewUsageError("--order needs --sort")
	}
	for _, o := range strings.Split(opts.Order, ",") {
		if o = strings.TrimSpace(o); o != "" && o != "asc" && o != "desc" {
			return client.ListOptions{}, NewUsageError("invalid --order %q: allowed are asc and desc (a comma list)", lf.order)
		}
	}
	if _, err := listquery.Parse(opts.Values(), res); err != nil {
		flag, msg := "list options", err.Error()
		if ce := (*core.Error)(nil); errors.As(err, &ce) {
			msg = ce.Message
			param, _ := ce.Details["parameter"].(string)
			flag = listParamFlag(param)
		}
		return client.ListOptions{}, NewUsageError("invalid %s: %s", flag, msg)
	}
	return opts, nil
}

// listParamFlag is the flag behind a list query parameter.
func listParamFlag(param string) string {
	switch param {
	case "":
		return "list options"
	case listquery.ParamSort:
		return "--sort"
	case listquery.ParamOrder:
		return "--order"
	case listquery.ParamStart:
		return "--offset"
	case listquery.ParamEnd:
		return "--limit"
	case listquery.ParamQ:
		return "-q"
	}
	return "--filter " + param
}

// footer tells on stderr how much of a list was shown (table output).
func (r *remote) footer(what string, shown, total int, lf *listFlags) {
	if r.json {
		return
	}
	switch {
	case shown == 0 && total == 0:
		fmt.Fprintf(r.app.Stderr, "No %s found.\n", what)
	case shown == 0:
		fmt.Fprintf(r.app.Stderr, "No %s at offset %d (%d in all).\n", what, lf.offset, total)
	case lf.offset+shown < total:
		fmt.Fprintf(r.app.Stderr, "Showing %d-%d of %d %s; use --offset %d for more.\n",
			lf.offset+1, lf.offset+shown, total, what, lf.offset+shown)
	}
}
