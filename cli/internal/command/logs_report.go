package command

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// Bounds of a failure report.
const (
	maxFailureSamples = 3   // distinct sample messages per task and error type
	sampleMessageLen  = 240 // characters of a sample message
	sampleDetailsLen  = 300 // characters of a sample's error details (compact JSON)
	unknownErrorType  = "UnknownError"
)

// failureWindow is what the report covers, as asked on the command line.
type failureWindow struct {
	Since, Until time.Time
	// SinceFlag is --since as given, for the Markdown header.
	SinceFlag string
	Task      string
	Limit     int
}

// failureReport is the output of logs export. Its JSON form is stable:
// every field is always present, lists are never null, times are RFC 3339
// UTC.
type failureReport struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Task is the --task filter, "" for every task.
	Task string `json:"task"`
	// Failures counts the failure events summarised: the failed executions
	// read, plus the failed jobs whose failing execution was not among them
	// (a job that failed before it ran).
	Failures         int `json:"failures"`
	FailedExecutions int `json:"failed_executions"`
	FailedJobs       int `json:"failed_jobs"`
	// The totals in the window, which exceed what was read when Truncated.
	FailedExecutionsInWindow int  `json:"failed_executions_in_window"`
	FailedJobsInWindow       int  `json:"failed_jobs_in_window"`
	Limit                    int  `json:"limit"`
	Truncated                bool `json:"truncated"`
	// Tasks holds one entry per task, the most failures first.
	Tasks []taskFailures `json:"tasks"`

	// sinceFlag is --since as given, for the Markdown header.
	sinceFlag string
}

// taskFailures is one task's failures by error type, the most frequent
// first.
type taskFailures struct {
	Task       string          `json:"task"`
	Failures   int             `json:"failures"`
	FailedJobs int             `json:"failed_jobs"`
	Errors     []errorFailures `json:"errors"`
}

// errorFailures is one task's failures of one error type.
type errorFailures struct {
	ErrorType  string    `json:"error_type"`
	Failures   int       `json:"failures"`
	FailedJobs int       `json:"failed_jobs"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	// Suggestion is the suggestion for the most frequent message.
	Suggestion string `json:"suggestion"`
	// DistinctMessages counts the messages that differ once ids and long
	// numbers are set aside; Samples shows the most frequent of them.
	DistinctMessages int             `json:"distinct_messages"`
	Samples          []failureSample `json:"samples"`
}

// failureSample is one distinct message with how often it occurred and its
// newest occurrence.
type failureSample struct {
	Message     string `json:"message"`
	Count       int    `json:"count"`
	ExecutionID *int64 `json:"execution_id"`
	JobID       *int64 `json:"job_id"`
	// Details is the occurrence's error_details as compact JSON without
	// the stack, cut to 300 characters; "" when none.
	Details string `json:"details"`
	// Stack is up to three frames of the task's own code from the
	// details' stack ("at main.js:3:10 | ..."); "" when none.
	Stack      string    `json:"stack"`
	LastSeen   time.Time `json:"last_seen"`
	Suggestion string    `json:"suggestion"`
}

// failureEvent is one failed execution, or one failed job without a
// failed execution among those read.
type failureEvent struct {
	task, errType, message string
	at                     time.Time
	executionID, jobID     *int64
	details                json.RawMessage
}

// summariseFailures groups the failures of in by task and error type.
func summariseFailures(in failureInput, w failureWindow) failureReport {
	r := failureReport{
		Since: w.Since.UTC(), Until: w.Until.UTC(), Task: w.Task, Limit: w.Limit,
		FailedExecutions:         len(in.Executions),
		FailedJobs:               len(in.Jobs),
		FailedExecutionsInWindow: max(in.ExecutionsTotal, len(in.Executions)),
		FailedJobsInWindow:       max(in.JobsTotal, len(in.Jobs)),
		Tasks:                    []taskFailures{},
		sinceFlag:                w.SinceFlag,
	}
	r.Truncated = r.FailedExecutionsInWindow > r.FailedExecutions || r.FailedJobsInWindow > r.FailedJobs

	groups := map[[2]string]*failureGroup{}
	group := func(task, errType string) *failureGroup {
		key := [2]string{task, errType}
		g := groups[key]
		if g == nil {
			g = &failureGroup{task: task, errType: errType, samples: map[string]*failureSample{}}
			groups[key] = g
		}
		return g
	}

	read := make(map[int64]bool, len(in.Executions))
	for _, e := range in.Executions {
		read[e.ID] = true
		ev := failureEvent{
			task: taskLabel(e.TaskName, e.TaskID), errType: errorTypeLabel(e.ErrorType),
			message: e.ErrorMessage, at: executionTime(e), executionID: &e.ID, jobID: e.JobID,
			details: e.ErrorDetails,
		}
		group(ev.task, ev.errType).add(ev)
	}
	for _, j := range in.Jobs {
		task, errType := taskLabel(j.TaskName, j.TaskID), errorTypeLabel(j.ErrorType)
		g := group(task, errType)
		g.failedJobs++
		if j.ExecutionID != nil && read[*j.ExecutionID] {
			continue // its failing execution is counted already
		}
		at := j.CreatedAt
		if j.CompletedAt != nil {
			at = *j.CompletedAt
		}
		g.add(failureEvent{task: task, errType: errType, message: j.ErrorMessage, at: at,
			executionID: j.ExecutionID, jobID: &j.ID})
	}

	byTask := map[string]*taskFailures{}
	for _, g := range groups {
		tf := byTask[g.task]
		if tf == nil {
			tf = &taskFailures{Task: g.task, Errors: []errorFailures{}}
			byTask[g.task] = tf
		}
		ef := g.summary()
		tf.Failures += ef.Failures
		tf.FailedJobs += ef.FailedJobs
		tf.Errors = append(tf.Errors, ef)
		r.Failures += ef.Failures
	}
	for _, tf := range byTask {
		sort.Slice(tf.Errors, func(i, j int) bool {
			a, b := tf.Errors[i], tf.Errors[j]
			if a.Failures+a.FailedJobs != b.Failures+b.FailedJobs {
				return a.Failures+a.FailedJobs > b.Failures+b.FailedJobs
			}
			return a.ErrorType < b.ErrorType
		})
		r.Tasks = append(r.Tasks, *tf)
	}
	sort.Slice(r.Tasks, func(i, j int) bool {
		a, b := r.Tasks[i], r.Tasks[j]
		if a.Failures+a.FailedJobs != b.Failures+b.FailedJobs {
			return a.Failures+a.FailedJobs > b.Failures+b.FailedJobs
		}
		return a.Task < b.Task
	})
	return r
}

// failureGroup accumulates one task's failures of one error type.
type failureGroup struct {
	task, errType       string
	failures            int
	failedJobs          int
	firstSeen, lastSeen time.Time
	samples             map[string]*failureSample
}

func (g *failureGroup) add(ev failureEvent) {
	g.failures++
	if g.firstSeen.IsZero() || ev.at.Before(g.firstSeen) {
		g.firstSeen = ev.at
	}
	if ev.at.After(g.lastSeen) {
		g.lastSeen = ev.at
	}
	key := messageKey(ev.message)
	s := g.samples[key]
	if s == nil {
		s = &failureSample{Suggestion: suggestFor(ev.errType, ev.message)}
		g.samples[key] = s
	}
	s.Count++
	if s.Message == "" || ev.at.After(s.LastSeen) {
		s.Message = sampleMessage(ev.message)
		s.LastSeen = ev.at.UTC()
		s.ExecutionID, s.JobID = ev.executionID, ev.jobID
		s.Details, s.Stack = sampleDetails(ev.details)
	}
}

func (g *failureGroup) summary() errorFailures {
	samples := make([]failureSample, 0, len(g.samples))
	for _, s := range g.samples {
		samples = append(samples, *s)
	}
	sort.Slice(samples, func(i, j int) bool {
		if samples[i].Count != samples[j].Count {
			return samples[i].Count > samples[j].Count
		}
		if !samples[i].LastSeen.Equal(samples[j].LastSeen) {
			return samples[i].LastSeen.After(samples[j].LastSeen)
		}
		return samples[i].Message < samples[j].Message
	})
	ef := errorFailures{
		ErrorType: g.errType, Failures: g.failures, FailedJobs: g.failedJobs,
		FirstSeen: g.firstSeen.UTC(), LastSeen: g.lastSeen.UTC(),
		DistinctMessages: len(samples), Samples: samples[:min(len(samples), maxFailureSamples)],
	}
	if len(samples) > 0 {
		ef.Suggestion = samples[0].Suggestion
	} else {
		ef.Suggestion = suggestFor(g.errType, "")
	}
	return ef
}

func taskLabel(name string, id int64) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return fmt.Sprintf("task %d", id)
}

func errorTypeLabel(t string) string {
	if t = strings.TrimSpace(t); t != "" {
		return t
	}
	return unknownErrorType
}

// executionTime is when an execution failed: completed_at, else when it
// was queued.
func executionTime(e core.Execution) time.Time {
	if e.CompletedAt != nil {
		return *e.CompletedAt
	}
	return e.QueuedAt
}

var (
	uuidPattern   = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	hexPattern    = regexp.MustCompile(`\b[0-9a-fA-F]{16,}\b`)
	numberPattern = regexp.MustCompile(`\d{4,}(\.\d+)?|\d+\.\d+`)
)

// messageKey is what two messages share when they differ only by ids,
// long numbers (ports, durations, amounts) or spacing: samples are
// deduplicated on it. Short numbers (HTTP statuses) are kept.
func messageKey(msg string) string {
	msg = uuidPattern.ReplaceAllString(msg, "<id>")
	msg = hexPattern.ReplaceAllString(msg, "<id>")
	msg = numberPattern.ReplaceAllString(msg, "<n>")
	return strings.Join(strings.Fields(msg), " ")
}

// sampleMessage is msg on one line, cut to sampleMessageLen characters.
func sampleMessage(msg string) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if msg == "" {
		return "(no message)"
	}
	return truncate(msg, sampleMessageLen)
}

// sampleDetails is details as compact JSON without its "stack" cut to
// sampleDetailsLen characters, and the stack's frames in the task's own
// code; "" for none.
func sampleDetails(details json.RawMessage) (compact, stack string) {
	details = bytes.TrimSpace(details)
	if len(details) == 0 || string(details) == "null" || string(details) == "{}" {
		return "", ""
	}
	dec := json.NewDecoder(bytes.NewReader(details))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return truncate(strings.Join(strings.Fields(string(details)), " "), sampleDetailsLen), ""
	}
	if obj, ok := v.(map[string]any); ok {
		if st, ok := obj["stack"].(string); ok {
			stack = taskFrames(st)
			delete(obj, "stack")
		}
		if len(obj) == 0 {
			return "", stack
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", stack
	}
	return truncate(strings.TrimSpace(buf.String()), sampleDetailsLen), stack
}

// maxStackFrames bounds the frames of a sample's stack.
const maxStackFrames = 3

// taskFrames keeps the "at ..." lines of a JavaScript stack that point
// into the task's code, not into Ratchet's host functions.
func taskFrames(stack string) string {
	var frames []string
	for _, line := range strings.Split(stack, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "at ") || strings.Contains(line, "ratchet:") ||
			strings.Contains(line, "github.com/") || strings.Contains(line, "(native)") {
			continue
		}
		frames = append(frames, line)
		if len(frames) == maxStackFrames {
			break
		}
	}
	return strings.Join(frames, " | ")
}

// markdown renders the report as compact Markdown for an LLM: a header
// with the window and the totals, then a section per task and error type.
func (r failureReport) markdown() string {
	var b strings.Builder
	b.WriteString("# Ratchet failure report\n\n")
	fmt.Fprintf(&b, "Window: %s to %s", r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339))
	if _, err := time.Parse(time.RFC3339Nano, r.sinceFlag); err != nil && r.sinceFlag != "" {
		if _, err := time.Parse(time.DateOnly, r.sinceFlag); err != nil {
			fmt.Fprintf(&b, " (the last %s)", r.sinceFlag)
		}
	}
	if r.Task != "" {
		fmt.Fprintf(&b, ", task `%s`", r.Task)
	}
	b.WriteString(".\n")
	if len(r.Tasks) == 0 {
		b.WriteString("\nNo failed executions or jobs in this window.\n")
		return b.String()
	}
	types := 0
	for _, t := range r.Tasks {
		types += len(t.Errors)
	}
	fmt.Fprintf(&b, "Totals: %s (%s, %s) in %s; %s.\n",
		plural(r.Failures, "failure"), plural(r.FailedExecutions, "failed execution"),
		plural(r.FailedJobs, "failed job"), plural(len(r.Tasks), "task"),
		plural(types, "task/error type group"))
	if r.Truncated {
		fmt.Fprintf(&b, "Only the newest %d were read (%s and %s in the window); raise --limit to read more.\n",
			r.Limit, plural(r.FailedExecutionsInWindow, "failed execution"), plural(r.FailedJobsInWindow, "failed job"))
	}
	b.WriteString("\nContext: Ratchet runs JavaScript tasks (main.js; input and output checked against " +
		"input.schema.json and output.schema.json) in isolated worker processes, as jobs with retries. " +
		"An error type is the thrown error's name or one of the runtime's own kinds (InputValidationError, " +
		"OutputValidationError, CompileError, TimeoutError, MemoryLimitError, WorkerCrashError, CancelledError). " +
		"A failed job is one that failed for good, after its retries.\n")
	for _, t := range r.Tasks {
		fmt.Fprintf(&b, "\n## Task `%s`: %s, %s\n", t.Task, plural(t.Failures, "failure"), plural(t.FailedJobs, "failed job"))
		for _, e := range t.Errors {
			fmt.Fprintf(&b, "\n### %s: %s, %s\n", e.ErrorType, plural(e.Failures, "failure"), plural(e.FailedJobs, "failed job"))
			switch {
			case e.FirstSeen.IsZero():
			case e.FirstSeen.Format(time.RFC3339) == e.LastSeen.Format(time.RFC3339):
				fmt.Fprintf(&b, "- Seen: %s\n", e.LastSeen.Format(time.RFC3339))
			default:
				fmt.Fprintf(&b, "- Seen: %s to %s\n", e.FirstSeen.Format(time.RFC3339), e.LastSeen.Format(time.RFC3339))
			}
			fmt.Fprintf(&b, "- Suggestion: %s\n", e.Suggestion)
			if len(e.Samples) == 0 {
				continue
			}
			more := ""
			if e.DistinctMessages > len(e.Samples) {
				more = fmt.Sprintf(", the %d most frequent shown", len(e.Samples))
			}
			fmt.Fprintf(&b, "- Messages (%s%s):\n", plural(e.DistinctMessages, "distinct message"), more)
			for _, s := range e.Samples {
				fmt.Fprintf(&b, "  - %d× %s", s.Count, inlineCode(s.Message))
				var refs []string
				if s.ExecutionID != nil {
					refs = append(refs, fmt.Sprintf("execution %d", *s.ExecutionID))
				}
				if s.JobID != nil {
					refs = append(refs, fmt.Sprintf("job %d", *s.JobID))
				}
				if len(refs) > 0 {
					fmt.Fprintf(&b, " (latest: %s)", strings.Join(refs, ", "))
				}
				b.WriteString("\n")
				if s.Details != "" {
					fmt.Fprintf(&b, "    details: %s\n", inlineCode(s.Details))
				}
				if s.Stack != "" {
					fmt.Fprintf(&b, "    stack: %s\n", inlineCode(s.Stack))
				}
				if s.Suggestion != e.Suggestion {
					fmt.Fprintf(&b, "    suggestion: %s\n", s.Suggestion)
				}
			}
		}
	}
	return b.String()
}

// plural is "1 thing" or "N things".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// inlineCode wraps s in backquotes, with a longer fence when s holds one.
func inlineCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if fence == "`" {
		return fence + s + fence
	}
	return fence + " " + s + " " + fence
}
