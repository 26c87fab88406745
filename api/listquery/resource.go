package listquery

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// FieldType says which values a list field takes and which operators apply.
type FieldType string

// Field types.
const (
	Integer  FieldType = "integer"
	String   FieldType = "string"
	Boolean  FieldType = "boolean"
	DateTime FieldType = "date-time"
	// Enum is a string with a fixed set of values (Field.Enum).
	Enum FieldType = "enum"
	// PriorityName is a job priority, by name (low...urgent, critical) or
	// number (0-3).
	PriorityName FieldType = "priority"
)

// Field is one field a list can be filtered and sorted by.
type Field struct {
	Name string
	Type FieldType
	// Nullable fields match null with field= (empty) or field=null.
	Nullable bool
	// Enum lists the values of an Enum field.
	Enum []string
	// NoSort keeps the field out of _sort.
	NoSort bool
}

// Resource describes one list endpoint: its name (the first word of
// Content-Range), the fields that may be filtered and sorted, and the text
// fields q searches.
type Resource struct {
	Name   string
	Fields []Field
	// Search names the fields q looks in (documentation only: the store
	// does the search).
	Search []string
}

// Field returns the named field.
func (r *Resource) Field(name string) (Field, bool) {
	for _, f := range r.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// FieldNames lists the fields in order.
func (r *Resource) FieldNames() []string {
	out := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		out[i] = f.Name
	}
	return out
}

// SortNames lists the fields _sort accepts.
func (r *Resource) SortNames() []string {
	var out []string
	for _, f := range r.Fields {
		if !f.NoSort {
			out = append(out, f.Name)
		}
	}
	return out
}

func enumOf[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func f(name string, t FieldType) Field        { return Field{Name: name, Type: t} }
func nullable(name string, t FieldType) Field { return Field{Name: name, Type: t, Nullable: true} }
func enum(name string, values []string) Field { return Field{Name: name, Type: Enum, Enum: values} }
func texts(names ...string) (fs []Field)      { return each(names, String) }
func ints(names ...string) (fs []Field)       { return each(names, Integer) }
func each(names []string, t FieldType) []Field {
	fs := make([]Field, len(names))
	for i, n := range names {
		fs[i] = f(n, t)
	}
	return fs
}

func fields(groups ...[]Field) []Field { return slices.Concat(groups...) }

// The resources of the REST API. Their fields match the storage layer's
// allow-lists.
var (
	Tasks = &Resource{
		Name: "tasks",
		Fields: fields(
			ints("id"), texts("uuid", "name", "label", "version", "description"),
			[]Field{f("enabled", Boolean)}, texts("source", "load_error", "author", "checksum"),
			each([]string{"created_at", "updated_at"}, DateTime),
		),
		Search: []string{"name", "label", "description"},
	}
	Jobs = &Resource{
		Name: "jobs",
		Fields: fields(
			ints("id"), texts("uuid"), ints("task_id"), texts("task_name"),
			[]Field{enum("status", enumOf(core.JobStatuses)), f("priority", PriorityName)},
			texts("error_type", "error_message"),
			ints("attempts", "max_retries", "retry_delay_seconds", "timeout_seconds"),
			[]Field{
				f("process_at", DateTime), nullable("schedule_id", Integer), nullable("idempotency_key", String),
				nullable("execution_id", Integer), f("created_at", DateTime),
				nullable("started_at", DateTime), nullable("completed_at", DateTime),
			},
		),
		Search: []string{"task_name", "error_message", "error_type", "uuid"},
	}
	Executions = &Resource{
		Name: "executions",
		Fields: fields(
			ints("id"), texts("uuid"), ints("task_id"), texts("task_name", "task_version"),
			[]Field{nullable("job_id", Integer), enum("status", enumOf(core.ExecutionStatuses))},
			texts("error_type", "error_message", "worker_id"), ints("attempt"),
			[]Field{
				f("queued_at", DateTime), nullable("started_at", DateTime), nullable("completed_at", DateTime),
				nullable("duration_ms", Integer),
			},
		),
		Search: []string{"task_name", "error_type", "error_message", "worker_id", "uuid"},
	}
	Schedules = &Resource{
		Name: "schedules",
		Fields: fields(
			ints("id"), texts("uuid"), ints("task_id"), texts("name", "cron_expression", "timezone"),
			[]Field{f("enabled", Boolean), nullable("max_executions", Integer)}, ints("execution_count"),
			[]Field{
				nullable("next_run_at", DateTime), nullable("last_run_at", DateTime),
				f("created_at", DateTime), f("updated_at", DateTime),
			},
		),
		Search: []string{"name", "cron_expression"},
	}
	Workers = &Resource{
		Name: "workers",
		Fields: fields(
			texts("id", "node"), ints("pid"),
			[]Field{enum("status", enumOf(core.WorkerStatuses)), nullable("current_execution_id", Integer)},
			ints("executions_total", "failures_total", "restarts", "memory_bytes"),
			[]Field{f("started_at", DateTime), nullable("last_heartbeat_at", DateTime)},
		),
		Search: []string{"id", "node"},
	}
	Deliveries = &Resource{
		Name: "deliveries",
		Fields: fields(
			ints("id", "job_id"), []Field{nullable("execution_id", Integer)},
			[]Field{enum("destination_type", []string{core.DestinationFilesystem, core.DestinationWebhook})},
			texts("destination"), []Field{f("success", Boolean)}, ints("attempts"),
			[]Field{nullable("status_code", Integer)}, texts("error_message"), ints("duration_ms"),
			[]Field{f("created_at", DateTime)},
		),
		Search: []string{"destination_type", "destination", "error_message"},
	}
)

// Resources lists every list resource.
var Resources = []*Resource{Tasks, Jobs, Executions, Schedules, Workers, Deliveries}

// timeLayouts are the forms a date-time filter value may take.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// checkValue reports why raw is not a value of fd, or "".
func checkValue(fd Field, raw string) string {
	raw = strings.TrimSpace(raw)
	switch fd.Type {
	case Integer:
		if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
			return "want an integer"
		}
	case Boolean:
		if _, err := strconv.ParseBool(raw); err != nil {
			return "want true or false"
		}
	case DateTime:
		for _, l := range timeLayouts {
			if _, err := time.Parse(l, raw); err == nil {
				return ""
			}
		}
		if _, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return ""
		}
		return "want an RFC 3339 time"
	case Enum:
		for _, v := range fd.Enum {
			if strings.EqualFold(v, raw) {
				return ""
			}
		}
		return "want one of " + strings.Join(fd.Enum, ", ")
	case PriorityName:
		if n, err := strconv.Atoi(raw); err == nil {
			if !core.Priority(n).Valid() {
				return "want a priority from 0 to 3"
			}
			return ""
		}
		if _, err := core.ParsePriority(raw); err != nil || raw == "" {
			return "want one of low, normal, high, urgent"
		}
	}
	return ""
}
