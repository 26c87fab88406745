package delivery

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// Template variables of paths and URLs, written {{name}} (spaces inside the
// braces are allowed).
var Variables = []string{
	"task_name", "task_id", "task_version",
	"job_id", "job_uuid",
	"execution_id", "execution_uuid",
	"status", "attempt",
	"timestamp", "date", "unix",
}

var templateVar = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// Vars are the values of the template variables for one delivery:
//
//	task_name       the task's name
//	task_id         the task's numeric id
//	task_version    the task version that ran
//	job_id          the job's numeric id (empty without a job)
//	job_uuid        the job's uuid
//	execution_id    the execution's numeric id
//	execution_uuid  the execution's uuid
//	status          the execution's status (completed, failed, ...), else the job's
//	attempt         the execution's attempt, from 1
//	timestamp       completion time, UTC, as 20060102T150405Z (safe in file names)
//	date            completion date, UTC, as 2006-01-02
//	unix            completion time in Unix seconds
//
// The completion time is the execution's completed_at, or the delivery time
// when it is unset.
type Vars map[string]string

// NewVars builds the template values for job (may be nil) and exec (may be
// nil); taskName wins over the names they carry when not empty.
func NewVars(job *core.Job, exec *core.Execution, taskName string, now time.Time) Vars {
	v := Vars{}
	for _, k := range Variables {
		v[k] = ""
	}
	id := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	completed := now
	if job != nil {
		v["task_name"] = job.TaskName
		v["task_id"] = id(job.TaskID)
		v["job_id"] = id(job.ID)
		v["job_uuid"] = job.UUID
		v["status"] = string(job.Status)
		if job.CompletedAt != nil {
			completed = *job.CompletedAt
		}
	}
	if exec != nil {
		if exec.TaskName != "" {
			v["task_name"] = exec.TaskName
		}
		if exec.TaskID != 0 {
			v["task_id"] = id(exec.TaskID)
		}
		v["task_version"] = exec.TaskVersion
		v["execution_id"] = id(exec.ID)
		v["execution_uuid"] = exec.UUID
		if exec.Status != "" {
			v["status"] = string(exec.Status)
		}
		if exec.Attempt > 0 {
			v["attempt"] = strconv.Itoa(exec.Attempt)
		}
		if exec.CompletedAt != nil {
			completed = *exec.CompletedAt
		}
	}
	if taskName != "" {
		v["task_name"] = taskName
	}
	completed = completed.UTC()
	v["timestamp"] = completed.Format("20060102T150405Z")
	v["date"] = completed.Format(time.DateOnly)
	v["unix"] = strconv.FormatInt(completed.Unix(), 10)
	return v
}

// checkTemplate reports an unknown variable or stray braces in tmpl, or "".
func checkTemplate(tmpl string) string {
	if len(tmpl) > maxTemplateLen {
		return fmt.Sprintf("is longer than %d characters", maxTemplateLen)
	}
	if strings.ContainsRune(tmpl, 0) {
		return "must not contain NUL characters"
	}
	for _, m := range templateVar.FindAllStringSubmatch(tmpl, -1) {
		if !slices.Contains(Variables, m[1]) {
			return fmt.Sprintf("unknown template variable {{%s}} (known: %s)", m[1], strings.Join(Variables, ", "))
		}
	}
	rest := templateVar.ReplaceAllString(tmpl, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return "has a malformed template: write variables as {{task_name}}"
	}
	return ""
}

// render replaces the variables of tmpl with escape(value).
func render(tmpl string, vars Vars, escape func(string) string) string {
	return templateVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := templateVar.FindStringSubmatch(m)[1]
		return escape(vars[name])
	})
}

// RenderPath fills a path template. Values are made safe as one path
// element: separators and NUL become "_", and "." or ".." become "_", so a
// value cannot leave the directory the template names.
func RenderPath(tmpl string, vars Vars) string {
	return render(tmpl, vars, pathElement)
}

// RenderURL fills a URL template with URL-escaped values.
func RenderURL(tmpl string, vars Vars) string {
	return render(tmpl, vars, func(s string) string {
		return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	})
}

func pathElement(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', 0:
			return '_'
		}
		return r
	}, s)
	if s == "." || s == ".." {
		return "_"
	}
	return s
}

// placeholderRender fills every variable with "x", to check the shape of a
// template.
func placeholderRender(tmpl string) string {
	return templateVar.ReplaceAllString(tmpl, "x")
}
