package jsform

import (
	"errors"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

func call(t *testing.T, src string) goja.Value {
	t.Helper()
	p, err := Compile("main.js", src)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	rt := goja.New()
	fn, _, err := p.Run(rt)
	if err != nil {
		t.Fatalf("Run: %v\ncode:\n%s", err, p.Source.Code)
	}
	v, err := fn(goja.Undefined(), rt.ToValue(map[string]any{"a": 2, "b": 3}))
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	if p, ok := v.Export().(*goja.Promise); ok {
		if p.State() != goja.PromiseStateFulfilled {
			t.Fatalf("promise %v: %v", p.State(), p.Result())
		}
		return p.Result()
	}
	return v
}

func TestFunctionForms(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src string }{
		{"parenthesised", "(function(input){ return input.a + input.b })"},
		{"parenthesised arrow", "(input) => input.a + input.b"},
		{"bare function", "function(input){ return input.a + input.b }"},
		{"bare function after comment", "// adds\n/* two */ function (input) {\n  return input.a + input.b\n}\n// end"},
		{"bare async function", "async function(input){ return input.a + input.b }"},
		{"bare generator-free async with space", "  async function (input) { return input.a + input.b }"},
		{"named main", "function main(input){ return input.a + input.b }"},
		{"named main with trailing name", "function main(input){ return input.a + input.b }\nmain;"},
		{"named main trailing no semicolon", "function main(input){ return input.a + input.b }\nmain"},
		{"named handler", "function handler(input){ return input.a + input.b }"},
		{"single other name", "function add(input){ return input.a + input.b }"},
		{"helpers and main", "function helper(x){return x}\nfunction main(input){ return helper(input.a) + input.b }"},
		{"async main", "async function main(input){ const x = await Promise.resolve(input.a); return x + input.b }"},
		{"module.exports", "module.exports = function(input){ return input.a + input.b }"},
		{"module.exports arrow then more", "module.exports = (input) => input.a + input.b;\nvar x = 1;"},
		{"module.exports object handler", "module.exports = { handler: function(input){ return input.a + input.b } }"},
		{"exports.handler", "exports.handler = function(input){ return input.a + input.b }"},
		{"exports.handler async", "exports.handler = async (input) => input.a + input.b;"},
		{"export default function", "export default function(input){ return input.a + input.b }"},
		{"export default named function", "export default function add(input){ return input.a + input.b }\nconst y = add.name;"},
		{"export default async function", "export default async function (input) { return input.a + input.b }"},
		{"export default arrow", "export default (input) => input.a + input.b;"},
		{"export default identifier", "function add(input){ return input.a + input.b }\nexport default add;"},
		{"export async function handler", "export async function handler(input) {\n  return input.a + input.b\n}"},
		{"export function with helpers", "const k = 0;\nexport function helperNot(x) { return x }\nexport function handler(input) { return input.a + input.b + k }"},
		{"export list", "function run(input){ return input.a + input.b }\nexport { run as default };"},
		{"export const arrow", "export const handler = (input) => input.a + input.b;"},
		{"export in string is not touched", "const s = 'export default 1'; const t = `export ${'x'} default`;\nexport default function(input){ return input.a + input.b + s.length*0 + t.length*0 }"},
		{"regexp with export", "const re = /export default/;\nexport default function(input){ return re.test('export default') ? input.a + input.b : 0 }"},
		{"use strict", "'use strict';\nfunction main(input){ return input.a + input.b }"},
		{"object key import", "function main(input){ const o = {import: 1, export: 2}; return input.a + input.b + o.import - 1 + o.export - 2 }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := call(t, tt.src).ToInteger(); got != 5 {
				t.Fatalf("got %d, want 5", got)
			}
		})
	}
}

func TestNoFunction(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"var x = 1;", "", "module.exports = 42", "function a(){}\nfunction b(){}"} {
		p, err := Compile("main.js", src)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		if _, _, err := p.Run(goja.New()); err == nil {
			t.Errorf("Run(%q) found a function", src)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"missing brace", "function main(input) {\n  return input.a +;\n}", 2, 19, "Unexpected token"},
		{"line 3", "function main(input) {\n  var x = 1;\n  x = = 2;\n}", 3, 7, "Unexpected token"},
		{"import", "import x from 'y';\nexport default function(){}", 1, 1, "import declarations are not supported"},
		{"dynamic import", "function main(){\n  return import('fs')\n}", 2, 10, "dynamic import()"},
		{"export star", "export * from 'x'", 1, 1, "export * from"},
		{"export from", "export { a } from 'x'", 1, 14, "export ... from"},
		{"bare function at start", "function(input){ return input +; }", 1, 32, "Unexpected token"},
		{"redeclared let", "let a = 1;\nlet a = 2;", 2, 5, "already been declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile("main.js", tt.src)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SyntaxError", err)
			}
			if se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Message, tt.msg) || se.File != "main.js" {
				t.Fatalf("got %s, want line %d col %d containing %q", se, tt.line, tt.col, tt.msg)
			}
		})
	}
}

func TestRewriteKeepsLines(t *testing.T) {
	t.Parallel()
	src := "export default function (input) {\n  return input.a\n}\nexport { x as y }\nconst x = 1;"
	s, err := Normalize("main.js", src)
	if err != nil {
		t.Fatal(err)
	}
	orig := strings.Split(src, "\n")
	got := strings.Split(s.Code, "\n")
	if len(got) < len(orig) {
		t.Fatalf("lines lost:\n%s", s.Code)
	}
	for i := range orig {
		if len(got[i]) != len(orig[i]) {
			t.Errorf("line %d changed length: %q -> %q", i+1, orig[i], got[i])
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"export default function(i){return i}", "function(i){}", "`${`${'}'}`}` export", "/re/ / 2 /x/g",
		"export { a as b, c }", "import('x')", "async function(){}", "a = b / c / d", "/* export */ export const x = 1",
		"export default\n1", "'unterminated", "`unterminated ${", "export {", "x?.import(1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := Normalize("main.js", src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Column < 1 {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if strings.Count(s.Code, "\n") < strings.Count(src, "\n") {
			t.Fatalf("normalisation lost lines")
		}
		if len(s.Code) < len(src) {
			t.Fatalf("normalisation lost text")
		}
		_, _ = Compile("main.js", src)
	})
}
