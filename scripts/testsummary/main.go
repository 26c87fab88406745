// Command testsummary renders the output of `go test -json` the way
// `go test` prints it without -v — compile errors, the output of failing
// tests, one ok/FAIL line per package — and ends with one line
//
//	N passed, M failed, K skipped
//
// counting every test and subtest. M also counts packages that failed
// without a failing test (a build failure, a panic in TestMain, a timeout),
// which have no test event of their own. It exits 1 when M > 0.
//
// Usage: go test -json ./... | go run scripts/testsummary/main.go [-v]
// With -v every line of test output is printed, as `go test -v` does.
//
// It is stdlib-only and outside every module, so scripts/test builds it
// with `go build main.go`.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail events
	FailedBuild string
}

// line is one line of test output and the test (or subtest) that wrote it.
type line struct {
	test, text string
}

type key struct{ pkg, test string }

type summary struct {
	out     io.Writer
	verbose bool

	passed, failed, skipped int
	// output buffers, per running top-level test, the lines it and its
	// subtests wrote; they are printed only if it fails (unless verbose).
	output map[key][]line
	// done holds the subtests that passed or were skipped: their lines are
	// left out when their parent fails.
	done map[key]bool
	// failedTests counts failing tests per package; failedPkgs lists the
	// packages reported as failing, in order.
	failedTests map[string]int
	failedPkgs  []string
	// failedBuild holds packages whose test binary did not build;
	// buildFails the import paths of build-fail events not yet matched by
	// a package's fail event (which names them in FailedBuild).
	failedBuild map[string]bool
	buildFails  map[string]bool
}

func main() {
	verbose := flag.Bool("v", false, "print the output of every test, not only of failing ones")
	flag.Parse()
	s := &summary{
		out:         os.Stdout,
		verbose:     *verbose,
		output:      map[key][]line{},
		done:        map[key]bool{},
		failedTests: map[string]int{},
		failedBuild: map[string]bool{},
		buildFails:  map[string]bool{},
	}
	if err := s.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if s.finish() > 0 {
		os.Exit(1)
	}
}

func (s *summary) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (go itself can print plain lines): pass it on.
			fmt.Fprintf(s.out, "%s\n", line)
			continue
		}
		s.handle(e)
	}
	return sc.Err()
}

func (s *summary) handle(e event) {
	top := key{e.Package, topLevel(e.Test)}
	switch e.Action {
	case "build-output":
		fmt.Fprint(s.out, e.Output)
	case "build-fail":
		s.buildFails[e.ImportPath] = true
	case "output":
		switch {
		case s.verbose:
			fmt.Fprint(s.out, e.Output)
		case e.Test == "":
			// Package lines: "ok  pkg 0.1s", "FAIL pkg", "?  pkg [no test
			// files]", panics outside a test. go test omits a bare PASS.
			if e.Output != "PASS\n" {
				fmt.Fprint(s.out, e.Output)
			}
		default:
			s.output[top] = append(s.output[top], line{e.Test, e.Output})
		}
	case "pass", "skip":
		if e.Test == "" {
			return
		}
		if e.Action == "pass" {
			s.passed++
		} else {
			s.skipped++
		}
		if e.Test == top.test {
			s.discard(top)
		} else {
			s.done[key{e.Package, e.Test}] = true
		}
	case "fail":
		if e.Test != "" {
			s.failed++
			s.failedTests[e.Package]++
			if e.Test == top.test {
				s.flush(top)
			}
			return
		}
		s.failedPkgs = append(s.failedPkgs, e.Package)
		if e.FailedBuild != "" {
			s.failedBuild[e.Package] = true
			delete(s.buildFails, e.FailedBuild)
		}
		// Tests that never finished (a panic, a timeout) explain the failure.
		for _, k := range s.pending(e.Package) {
			s.flush(k)
		}
	}
}

// topLevel returns the top-level test of a (sub)test name.
func topLevel(test string) string {
	name, _, _ := strings.Cut(test, "/")
	return name
}

// flush prints the output of a failed top-level test and of its subtests
// that did not pass, as go test does: without the === RUN/PAUSE/CONT
// lines, and with a subtest's --- FAIL line indented under its parent.
func (s *summary) flush(top key) {
	for _, l := range s.output[top] {
		if s.done[key{top.pkg, l.test}] || strings.HasPrefix(l.text, "=== ") {
			continue
		}
		if strings.HasPrefix(l.text, "--- ") {
			fmt.Fprint(s.out, strings.Repeat("    ", strings.Count(l.test, "/")))
		}
		fmt.Fprint(s.out, l.text)
	}
	s.discard(top)
}

func (s *summary) discard(top key) {
	for _, l := range s.output[top] {
		delete(s.done, key{top.pkg, l.test})
	}
	delete(s.output, top)
}

func (s *summary) pending(pkg string) []key {
	var keys []key
	for k := range s.output {
		if k.pkg == pkg {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.test, b.test) })
	return keys
}

// finish prints the summary and returns the number of failures.
func (s *summary) finish() int {
	var silent []string
	for _, pkg := range s.failedPkgs {
		if s.failedTests[pkg] == 0 {
			silent = append(silent, pkg)
		}
	}
	for path := range s.buildFails {
		silent = append(silent, path)
		s.failedBuild[path] = true
	}
	slices.Sort(silent)
	if len(silent) > 0 {
		fmt.Fprintln(s.out)
		fmt.Fprintln(s.out, "Packages that failed without a failing test:")
		for _, pkg := range silent {
			reason := "see its output above"
			if s.failedBuild[pkg] {
				reason = "build failed"
			}
			fmt.Fprintf(s.out, "  %s (%s)\n", pkg, reason)
		}
	}
	failed := s.failed + len(silent)
	fmt.Fprintln(s.out)
	fmt.Fprintf(s.out, "%d passed, %d failed, %d skipped\n", s.passed, failed, s.skipped)
	return failed
}
