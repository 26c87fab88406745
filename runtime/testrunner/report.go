package testrunner

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format is a report format.
type Format string

// The report formats.
const (
	FormatText  Format = "text"
	FormatJSON  Format = "json"
	FormatJUnit Format = "junit"
)

// ParseFormat accepts text, json or junit (empty means text).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return FormatText, nil
	case FormatText, FormatJSON, FormatJUnit:
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q: use text, json or junit", s)
}

// Write writes the report in format.
func (r Report) Write(w io.Writer, format Format) error {
	switch format {
	case FormatText, "":
		return r.writeText(w)
	case FormatJSON:
		return r.writeJSON(w)
	case FormatJUnit:
		return r.writeJUnit(w)
	}
	return fmt.Errorf("unknown output format %q: use text, json or junit", format)
}

// Summary is the last line of the text report.
func (r Report) Summary() string { return fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed) }

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func (t TestResult) label() string {
	base := strings.TrimSuffix(t.File[strings.LastIndexByte(t.File, '/')+1:], ".json")
	l := t.Task + "/" + base
	if t.Name != "" && t.Name != base {
		l += " — " + t.Name
	}
	return l
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

func (r Report) writeText(w io.Writer) error {
	var b strings.Builder
	for _, tr := range r.Tasks {
		if tr.LoadError != "" {
			fmt.Fprintf(&b, "FAIL %s (task did not load)\n%s\n", tr.Task, indent(tr.LoadError, "    "))
			continue
		}
		if len(tr.Tests) == 0 {
			fmt.Fprintf(&b, "---- %s has no tests\n", tr.Task)
		}
		for _, t := range tr.Tests {
			if t.Passed {
				fmt.Fprintf(&b, "PASS %s (%s)\n", t.label(), formatDuration(t.Duration))
				continue
			}
			fmt.Fprintf(&b, "FAIL %s (%s)\n", t.label(), formatDuration(t.Duration))
			fmt.Fprintf(&b, "    %s\n", t.Message)
			if len(t.Diff) > 0 {
				for _, d := range t.Diff {
					fmt.Fprintf(&b, "      %s\n", d)
				}
			}
			// The message already names an expected error and an actual
			// error; outputs are shown in full.
			if t.Expected != "" && !t.wantsError {
				fmt.Fprintf(&b, "    expected:\n%s\n", indent(t.Expected, "      "))
			}
			if t.Actual != "" && t.Error == nil {
				fmt.Fprintf(&b, "    actual:\n%s\n", indent(t.Actual, "      "))
			}
			if len(t.Logs) == 0 {
				continue
			}
			b.WriteString("    console:\n")
			for _, l := range t.Logs {
				fmt.Fprintf(&b, "      [%s] %s\n", l.Level, l.Message)
			}
		}
	}
	b.WriteString(r.Summary())
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

type jsonTest struct {
	TestResult
	Status     string  `json:"status"`
	DurationMS float64 `json:"duration_ms"`
}

type jsonTask struct {
	Task      string     `json:"task"`
	Path      string     `json:"path,omitempty"`
	LoadError string     `json:"load_error,omitempty"`
	Tests     []jsonTest `json:"tests"`
}

func (r Report) writeJSON(w io.Writer) error {
	out := struct {
		Passed     int        `json:"passed"`
		Failed     int        `json:"failed"`
		DurationMS float64    `json:"duration_ms"`
		Tasks      []jsonTask `json:"tasks"`
	}{Passed: r.Passed, Failed: r.Failed, DurationMS: ms(r.Duration), Tasks: []jsonTask{}}
	for _, tr := range r.Tasks {
		jt := jsonTask{Task: tr.Task, Path: tr.Path, LoadError: tr.LoadError, Tests: []jsonTest{}}
		for _, t := range tr.Tests {
			status := "fail"
			if t.Passed {
				status = "pass"
			}
			jt.Tests = append(jt.Tests, jsonTest{TestResult: t, Status: status, DurationMS: ms(t.Duration)})
		}
		out.Tasks = append(out.Tasks, jt)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.6f", d.Seconds()) }

func (r Report) writeJUnit(w io.Writer) error {
	out := junitSuites{Name: "ratchet", Tests: r.Passed + r.Failed, Time: seconds(r.Duration)}
	for _, tr := range r.Tasks {
		s := junitSuite{Name: tr.Task}
		if tr.LoadError != "" {
			s.Tests, s.Errors = 1, 1
			out.Errors++
			s.Cases = append(s.Cases, junitCase{Name: "load", ClassName: tr.Task, Time: seconds(0),
				Error: &junitFailure{Message: tr.LoadError, Type: "LoadError", Body: tr.LoadError}})
		}
		var total time.Duration
		for _, t := range tr.Tests {
			s.Tests++
			total += t.Duration
			c := junitCase{Name: t.Name, ClassName: tr.Task, File: t.File, Time: seconds(t.Duration)}
			if !t.Passed {
				s.Failures++
				out.Failures++
				typ := "AssertionError"
				if t.Error != nil {
					typ = t.Error.Type
				}
				var body strings.Builder
				for _, d := range t.Diff {
					body.WriteString(d + "\n")
				}
				fmt.Fprintf(&body, "expected:\n%s\nactual:\n%s\n", t.Expected, t.Actual)
				c.Failure = &junitFailure{Message: t.Message, Type: typ, Body: body.String()}
			}
			if len(t.Logs) > 0 {
				var lines strings.Builder
				for _, l := range t.Logs {
					fmt.Fprintf(&lines, "[%s] %s\n", l.Level, l.Message)
				}
				c.SystemOut = lines.String()
			}
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(total)
		out.Suites = append(out.Suites, s)
	}
	// A load error counts once, as an error rather than a failure.
	out.Failures = r.Failed - out.Errors
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
