package jsform

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dop251/goja"
	jsast "github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// Program is a compiled main.js. It is not tied to a runtime and may be run
// by many runtimes at once.
type Program struct {
	Program *goja.Program
	Source  Source
	// Functions are the names of the functions main.js declares at its top
	// level, in source order.
	Functions []string
}

// Compile normalises and compiles src. Syntax errors are *SyntaxError with
// the line and column in the original file.
func Compile(file, src string) (*Program, error) {
	s, err := Normalize(file, src)
	if err != nil {
		return nil, err
	}
	// Source maps are disabled: a sourceMappingURL comment must never make
	// the parser read a file from the host.
	ast, err := parser.ParseFile(nil, file, s.Code, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, s.syntaxError(file, err)
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		return nil, s.syntaxError(file, err)
	}
	var fns []string
	for _, st := range ast.Body {
		if d, ok := st.(*jsast.FunctionDeclaration); ok && d.Function != nil && d.Function.Name != nil {
			fns = append(fns, string(d.Function.Name.Name))
		}
	}
	return &Program{Program: prg, Source: s, Functions: fns}, nil
}

func (s Source) syntaxError(file string, err error) error {
	var list parser.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		msg := e.Message
		if len(list) > 1 {
			msg += fmt.Sprintf(" (and %d more errors)", len(list)-1)
		}
		return s.at(file, e.Position.Line, e.Position.Column, msg)
	}
	var pe *parser.Error
	if errors.As(err, &pe) {
		return s.at(file, pe.Position.Line, pe.Position.Column, pe.Message)
	}
	var ce *goja.CompilerSyntaxError
	if errors.As(err, &ce) && ce.File != nil {
		p := ce.File.Position(ce.Offset)
		return s.at(file, p.Line, p.Column, ce.Message)
	}
	var re *goja.CompilerReferenceError
	if errors.As(err, &re) && re.File != nil {
		p := re.File.Position(re.Offset)
		return s.at(file, p.Line, p.Column, re.Message)
	}
	return &SyntaxError{File: file, Line: 1, Column: 1, Message: err.Error()}
}

func (s Source) at(file string, line, col int, msg string) *SyntaxError {
	if line == 1 && col > s.lineOneShift {
		col -= s.lineOneShift
	}
	if line < 1 {
		line = 1
	}
	if col < 1 {
		col = 1
	}
	if line > s.lines {
		// An error in what was appended: report the end of the file.
		line, col = s.lines, s.lastLineLen+1
	}
	return &SyntaxError{File: file, Line: line, Column: col, Message: msg}
}

// Resolve finds the task function after p has run in rt. completion is the
// value RunProgram returned; declared are the functions the script declares
// at its top level (the last fallback: exactly one of them).
func Resolve(rt *goja.Runtime, completion goja.Value, declared []string) (goja.Value, error) {
	isFn := func(v goja.Value) bool {
		_, ok := goja.AssertFunction(v)
		return ok
	}
	global := rt.GlobalObject()
	// module.exports = fn, or exports.handler / exports.main / exports.default.
	if m, ok := global.Get("module").(*goja.Object); ok && m != nil {
		ex := m.Get("exports")
		if isFn(ex) {
			return ex, nil
		}
		if o, ok := ex.(*goja.Object); ok && o != nil {
			for _, k := range []string{"handler", "main", "default"} {
				if v := o.Get(k); isFn(v) {
					return v, nil
				}
			}
		}
	}
	if o, ok := global.Get(ExportsVar).(*goja.Object); ok && o != nil {
		for _, k := range []string{"default", "handler", "main"} {
			if v := o.Get(k); isFn(v) {
				return v, nil
			}
		}
		var fns []string
		for _, k := range o.Keys() {
			if isFn(o.Get(k)) {
				fns = append(fns, k)
			}
		}
		if len(fns) == 1 {
			return o.Get(fns[0]), nil
		}
	}
	if completion != nil && isFn(completion) {
		return completion, nil
	}
	for _, k := range []string{"main", "handler"} {
		if v := global.Get(k); isFn(v) {
			return v, nil
		}
	}
	switch len(declared) {
	case 0:
	case 1:
		if v := global.Get(declared[0]); isFn(v) {
			return v, nil
		}
	default:
		return nil, fmt.Errorf("main.js declares several functions (%s) and none is named main or handler: name the task function main, or end the file with the function's name", strings.Join(declared, ", "))
	}
	return nil, errors.New("main.js does not yield a function: write `function main(input, context) {...}`, `module.exports = function (input) {...}` or `export default function (input) {...}`")
}

// Prepare defines in rt the globals that the forms of main.js assign to:
// module, exports and the hidden exports object of rewritten module syntax.
// Call it before running the program.
func Prepare(rt *goja.Runtime) {
	module := rt.NewObject()
	exports := rt.NewObject()
	_ = module.Set("exports", exports)
	_ = rt.Set("module", module)
	_ = rt.Set("exports", exports)
	_ = rt.Set(ExportsVar, rt.NewObject())
}

// Run prepares rt, runs p in it and resolves the task function.
func (p *Program) Run(rt *goja.Runtime) (goja.Callable, goja.Value, error) {
	Prepare(rt)
	completion, err := rt.RunProgram(p.Program)
	if err != nil {
		return nil, nil, err
	}
	v, err := Resolve(rt, completion, p.Functions)
	if err != nil {
		return nil, nil, err
	}
	fn, _ := goja.AssertFunction(v)
	return fn, v, nil
}
