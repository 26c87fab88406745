package jsform

import (
	"fmt"
	"strings"
)

// ExportsVar is the global object that rewritten module syntax assigns to.
// Its name is four characters long so that "export default" (14 characters)
// becomes "__rx.default =" (14 characters) and columns do not move.
const ExportsVar = "__rx"

// Source is main.js after normalisation.
type Source struct {
	// Code is the script to compile.
	Code string
	// Module reports that the file used ES module syntax (export).
	Module bool
	// Wrapped reports that a bare anonymous function was put in parentheses.
	Wrapped bool
	// lineOneShift is the number of characters added in front of line 1.
	lineOneShift int
	// lines and lastLineLen describe the original file.
	lines, lastLineLen int
}

// SyntaxError is a JavaScript syntax error (or a use of module syntax a task
// cannot use) at a position of the original main.js.
type SyntaxError struct {
	File    string
	Line    int
	Column  int
	Message string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: SyntaxError: %s", e.File, e.Line, e.Column, e.Message)
}

// Normalize rewrites src (the content of file, used in messages) into a
// script whose execution makes the task function reachable by Resolve.
func Normalize(file, src string) (Source, error) {
	n := normalizer{file: file, src: src, out: []byte(src)}
	if err := n.run(); err != nil {
		return Source{}, err
	}
	out := string(n.out)
	s := Source{Module: len(n.exports) > 0 || n.module, lines: strings.Count(src, "\n") + 1}
	s.lastLineLen = len(src) - strings.LastIndexByte(src, '\n') - 1
	if len(n.exports) > 0 {
		var b strings.Builder
		b.WriteString(out)
		b.WriteString("\n;")
		for _, e := range n.exports {
			fmt.Fprintf(&b, "%s[%q] = %s;", ExportsVar, e.exported, e.local)
		}
		out = b.String()
	}
	if n.bareFunction >= 0 {
		s.Wrapped = true
		i := n.bareFunction
		// Put the parenthesis in the whitespace before the function when
		// there is some, so that no column moves.
		if i > 0 && (out[i-1] == ' ' || out[i-1] == '\t') {
			out = out[:i-1] + "(" + out[i:] + "\n)"
		} else {
			out = out[:i] + "(" + out[i:] + "\n)"
			if !strings.Contains(src[:i], "\n") {
				s.lineOneShift = 1
			}
		}
	}
	s.Code = out
	return s, nil
}

type export struct{ exported, local string }

type normalizer struct {
	file string
	src  string
	out  []byte // same length as src: rewrites are done in place

	exports      []export
	module       bool
	bareFunction int // offset of a leading anonymous "function", or -1

	depth     int
	templates []int // depth at which each open template substitution started
	prevKind  tokKind
	prevText  string
}

type tokKind int

const (
	tokNone tokKind = iota
	tokWord
	tokNumber
	tokString
	tokPunct
	tokRegexp
)

// keywords after which a slash starts a regular expression.
var regexpAfter = map[string]bool{
	"return": true, "typeof": true, "instanceof": true, "in": true, "of": true, "new": true,
	"delete": true, "void": true, "throw": true, "case": true, "do": true, "else": true,
	"yield": true, "await": true,
}

func (n *normalizer) errorAt(off int, format string, args ...any) error {
	line, col := 1, 1
	for i := 0; i < off && i < len(n.src); i++ {
		if n.src[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{File: n.file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '$' || c == '\\' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// skipSpace skips white space and comments from i.
func (n *normalizer) skipSpace(i int) int {
	s := n.src
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return len(s)
			}
			i += end + 4
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0xa0: // no-break space
			i += 2
		case c == 0xef && strings.HasPrefix(s[i:], "\ufeff"):
			i += 3
		default:
			return i
		}
	}
	return i
}

// word returns the identifier starting at i, or "".
func (n *normalizer) word(i int) string {
	if i >= len(n.src) || !isIdentStart(n.src[i]) {
		return ""
	}
	j := i + 1
	for j < len(n.src) && isIdentPart(n.src[j]) {
		j++
	}
	return n.src[i:j]
}

// nextWord skips space and returns the word there and its offset.
func (n *normalizer) nextWord(i int) (string, int) {
	i = n.skipSpace(i)
	return n.word(i), i
}

func (n *normalizer) run() error {
	n.bareFunction = -1
	s := n.src
	if i := n.skipSpace(0); i < len(s) {
		w := n.word(i)
		j := i + len(w)
		if w == "async" {
			var w2 string
			w2, j = n.nextWord(j)
			if w2 != "function" {
				w = ""
			}
			j += len(w2)
		}
		if w == "async" || w == "function" {
			k := n.skipSpace(j)
			if k < len(s) && s[k] == '*' {
				k = n.skipSpace(k + 1)
			}
			if k < len(s) && s[k] == '(' {
				n.bareFunction = i
			}
		}
	}

	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/' && i+1 < len(s) && (s[i+1] == '/' || s[i+1] == '*'):
			i = n.skipSpace(i)
		case c == '\'' || c == '"':
			i = n.skipString(i)
			n.prev(tokString, "")
		case c == '`':
			i = n.skipTemplate(i + 1)
			n.prev(tokString, "")
		case c == '/':
			if n.slashIsRegexp() {
				i = n.skipRegexp(i)
				n.prev(tokRegexp, "")
			} else {
				i++
				n.prev(tokPunct, "/")
			}
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			i++
			for i < len(s) && (isIdentPart(s[i]) || s[i] == '.') {
				i++
			}
			n.prev(tokNumber, "")
		case isIdentStart(c):
			w := n.word(i)
			afterDot := n.prevKind == tokPunct && (n.prevText == "." || n.prevText == "?.")
			var err error
			next := i + len(w)
			switch {
			case w == "import" && !afterDot:
				err = n.checkImport(i)
			case w == "export" && !afterDot && n.depth == 0 && len(n.templates) == 0:
				next, err = n.rewriteExport(i)
			}
			if err != nil {
				return err
			}
			i = next
			n.prev(tokWord, w)
		case c == '(' || c == '[' || c == '{':
			n.depth++
			i++
			n.prev(tokPunct, string(c))
		case c == '}' && len(n.templates) > 0 && n.templates[len(n.templates)-1] == n.depth:
			n.templates = n.templates[:len(n.templates)-1]
			i = n.skipTemplate(i + 1)
			n.prev(tokString, "")
		case c == ')' || c == ']' || c == '}':
			if n.depth > 0 {
				n.depth--
			}
			i++
			n.prev(tokPunct, string(c))
		case c == '?' && i+1 < len(s) && s[i+1] == '.':
			i += 2
			n.prev(tokPunct, "?.")
		default:
			i++
			n.prev(tokPunct, string(c))
		}
	}
	return nil
}

func (n *normalizer) prev(k tokKind, text string) { n.prevKind, n.prevText = k, text }

func (n *normalizer) slashIsRegexp() bool {
	switch n.prevKind {
	case tokNumber, tokString, tokRegexp:
		return false
	case tokWord:
		return regexpAfter[n.prevText]
	case tokPunct:
		return n.prevText != ")" && n.prevText != "]" && n.prevText != "}"
	}
	return true
}

func (n *normalizer) skipString(i int) int {
	s, q := n.src, n.src[i]
	i++
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case q:
			return i + 1
		case '\n':
			return i // unterminated: the parser reports it
		}
		i++
	}
	return i
}

// skipTemplate scans template text from i (just after ` or }) to the closing
// backtick, or into a substitution, whose depth it records.
func (n *normalizer) skipTemplate(i int) int {
	s := n.src
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '`':
			return i + 1
		case '$':
			if i+1 < len(s) && s[i+1] == '{' {
				n.templates = append(n.templates, n.depth)
				return i + 2
			}
		}
		i++
	}
	return i
}

func (n *normalizer) skipRegexp(i int) int {
	s := n.src
	i++
	inClass := false
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if !inClass {
				i++
				for i < len(s) && isIdentPart(s[i]) {
					i++
				}
				return i
			}
		case '\n':
			return i
		}
		i++
	}
	return i
}

func (n *normalizer) checkImport(i int) error {
	j := n.skipSpace(i + len("import"))
	if j < len(n.src) {
		switch n.src[j] {
		case ':': // an object key
			return nil
		case '(':
			if n.prevKind == tokPunct && (n.prevText == "{" || n.prevText == ",") && n.depth > 0 {
				return nil // possibly a method named import; the parser decides
			}
			return n.errorAt(i, "dynamic import() is not supported: a task cannot load modules")
		case '.':
			return n.errorAt(i, "import.meta is not supported: a task is not a module")
		}
	}
	if n.depth == 0 {
		return n.errorAt(i, "import declarations are not supported: a task cannot load modules; put everything the task needs in main.js")
	}
	return nil
}

// blank replaces src[start:end] in the output with repl followed by spaces,
// keeping every newline of the original range where it was.
func (n *normalizer) blank(start, end int, repl string) {
	k := start
	for _, r := range []byte(repl) {
		if k < end && n.src[k] != '\n' {
			n.out[k] = r
			k++
		}
	}
	for ; k < end; k++ {
		if n.src[k] != '\n' && n.src[k] != '\r' {
			n.out[k] = ' '
		}
	}
}

// rewriteExport rewrites the export at i and returns where scanning goes on.
func (n *normalizer) rewriteExport(i int) (int, error) {
	afterExport := i + len("export")
	w, j := n.nextWord(afterExport)
	switch w {
	case "default":
		n.module = true
		afterDefault := j + len(w)
		decl, name := n.declaration(afterDefault)
		if decl && name != "" {
			n.blank(i, afterDefault, "")
			n.exports = append(n.exports, export{"default", name})
			return afterDefault, nil
		}
		if afterDefault-i < len(ExportsVar+".default =") || strings.Contains(n.src[i:afterDefault], "\n") {
			// Unusual spacing: give up on keeping columns on this line.
			return 0, n.errorAt(i, "write export default on one line, as `export default function (input) {...}`")
		}
		n.blank(i, afterDefault, ExportsVar+".default =")
		return afterDefault, nil
	case "async", "function", "class", "var", "let", "const":
		n.module = true
		decl, name := n.declaration(j)
		if !decl || name == "" {
			return 0, n.errorAt(i, "cannot export this declaration: only `export function name`, `export class name` and `export const name = ...` are supported")
		}
		n.blank(i, afterExport, "")
		n.exports = append(n.exports, export{name, name})
		return afterExport, nil
	}
	if j < len(n.src) && n.src[j] == '*' {
		return 0, n.errorAt(i, "export * from is not supported: a task cannot load modules")
	}
	if j < len(n.src) && n.src[j] == '{' {
		n.module = true
		end := strings.IndexByte(n.src[j:], '}')
		if end < 0 {
			return 0, n.errorAt(j, "unterminated export list")
		}
		end += j + 1
		specs, err := n.exportList(j+1, end-1)
		if err != nil {
			return 0, err
		}
		if from, k := n.nextWord(end); from == "from" {
			return 0, n.errorAt(k, "export ... from is not supported: a task cannot load modules")
		}
		if k := n.skipSpace(end); k < len(n.src) && n.src[k] == ';' {
			end = k + 1
		}
		n.blank(i, end, "")
		n.exports = append(n.exports, specs...)
		return end, nil
	}
	return afterExport, nil // not something we know: the parser reports it
}

// declaration reports whether a function, class or variable declaration
// starts at i, and the name it declares.
func (n *normalizer) declaration(i int) (bool, string) {
	w, j := n.nextWord(i)
	if w == "async" {
		w2, k := n.nextWord(j + len(w))
		if w2 != "function" {
			return false, ""
		}
		w, j = w2, k
	}
	switch w {
	case "function":
		k := n.skipSpace(j + len(w))
		if k < len(n.src) && n.src[k] == '*' {
			k++
		}
		name, _ := n.nextWord(k)
		return true, name
	case "class", "var", "let", "const":
		name, _ := n.nextWord(j + len(w))
		return true, name
	}
	return false, ""
}

// exportList parses the specifiers of `export { a, b as c }` between from and to.
func (n *normalizer) exportList(from, to int) ([]export, error) {
	var specs []export
	for _, part := range strings.Split(n.src[from:to], ",") {
		fields := strings.Fields(stripComments(part))
		switch {
		case len(fields) == 0:
			continue
		case len(fields) == 1:
			specs = append(specs, export{fields[0], fields[0]})
		case len(fields) == 3 && fields[1] == "as":
			specs = append(specs, export{fields[2], fields[0]})
		default:
			return nil, n.errorAt(from, "cannot read export list %q", strings.TrimSpace(n.src[from:to]))
		}
	}
	for _, s := range specs {
		if !validIdent(s.local) || !validIdent(s.exported) {
			return nil, n.errorAt(from, "cannot read export list %q", strings.TrimSpace(n.src[from:to]))
		}
	}
	return specs, nil
}

func stripComments(s string) string {
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], "*/")
		if j < 0 {
			return s[:i]
		}
		s = s[:i] + " " + s[i+j+2:]
	}
	if i := strings.Index(s, "//"); i >= 0 {
		if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
			return s[:i] + stripComments(s[i+j:])
		}
		return s[:i]
	}
	return s
}

func validIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) || s[0] == '\\' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentPart(s[i]) || s[i] == '\\' {
			return false
		}
	}
	return true
}
