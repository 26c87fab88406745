package jshost

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/ratchet-go/ratchet/core"
)

func newRuntime(t *testing.T) *goja.Runtime {
	t.Helper()
	rt := goja.New()
	if err := InstallErrors(rt); err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	for _, k := range core.JSErrorClasses {
		src := `(function(){ const e = new ` + string(k) + `("m"); return [e instanceof Error, e instanceof ` + string(k) + `, e.name, e.message, String(e), ` + string(k) + `.name].join("|") })()`
		if k == core.KindHTTP {
			src = `(function(){ const e = new HttpError(418, "m"); return [e instanceof Error, e instanceof HttpError, e.name, e.message, String(e), HttpError.name, e.status].join("|") })()`
		}
		v, err := rt.RunString(src)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		want := "true|true|" + string(k) + "|m|" + string(k) + ": m|" + string(k)
		if k == core.KindHTTP {
			want += "|418"
		}
		if v.String() != want {
			t.Errorf("%s: %s, want %s", k, v, want)
		}
	}
	// Subclasses and default messages.
	v, err := rt.RunString(`class Quota extends RateLimitError {}; const q = new Quota("x"); [q instanceof RateLimitError, q.name, new HttpError(500).message, new ValidationError().message, new DataError("m", {a: 1}).details.a].join("|")`)
	if err != nil || v.String() != "true|RateLimitError|HTTP 500||1" {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestNewErrorAndThrow(t *testing.T) {
	t.Parallel()
	rt := newRuntime(t)
	rt.Set("boom", func(call goja.FunctionCall) goja.Value {
		Throw(rt, core.ErrorKind(call.Argument(0).String()), "went wrong", map[string]any{"status": 503})
		return nil
	})
	for kind, want := range map[string]string{
		"NetworkError": "NetworkError|went wrong|503|true|true",
		"HttpError":    "HttpError|went wrong|503|true|true",
		"TypeError":    "TypeError|went wrong|503|true|true",
		"OddError":     "OddError|went wrong|503|true|false",
	} {
		v, err := rt.RunString(`(function(){ try { boom("` + kind + `") } catch (e) { return [e.name, e.message, e.status, e instanceof Error, typeof globalThis[e.name] === "function"].join("|") } })()`)
		if err != nil || v.String() != want {
			t.Errorf("%s: %v %v, want %s", kind, v, err, want)
		}
	}
}

func TestConsoleFormatting(t *testing.T) {
	t.Parallel()
	rt := goja.New()
	c := &Console{MaxLineBytes: 20}
	if err := c.Install(rt); err != nil {
		t.Fatal(err)
	}
	_, err := rt.RunString(`const a = {}; a.self = a;
		console.log(a); console.log("%s=%i%%", "n", 4.7); console.log("x".repeat(50)); console.trace("t"); console.log()`)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Entries()
	want := []string{"[object Object]", "n=4%", strings.Repeat("x", 20) + "… (truncated)", "t", ""}
	if len(got) != len(want) {
		t.Fatalf("entries = %+v", got)
	}
	for i := range want {
		if got[i].Message != want[i] {
			t.Errorf("entry %d = %q, want %q", i, got[i].Message, want[i])
		}
	}
	if got[3].Level != LevelDebug {
		t.Errorf("trace level = %s", got[3].Level)
	}
}

func TestTimers(t *testing.T) {
	t.Parallel()
	rt := goja.New()
	tm := &Timers{}
	if err := tm.Install(rt); err != nil {
		t.Fatal(err)
	}
	_, err := rt.RunString(`var order = [];
		setTimeout(function(x){ order.push(x) }, 300, "late");
		setTimeout(function(){ order.push("early") }, 1);
		var cancelled = setTimeout(function(){ order.push("never") }, 5);
		clearTimeout(cancelled);
		var n = 0; var iv = setInterval(function(){ if (++n === 3) clearInterval(iv); order.push("tick") }, 1);`)
	if err != nil {
		t.Fatal(err)
	}
	for {
		ran, err := tm.RunNext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			break
		}
	}
	if v := rt.Get("order").String(); v != "early,tick,tick,tick,late" {
		t.Fatalf("order = %s", v)
	}
	rt.RunString(`setTimeout(function(){}, 60000)`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := tm.RunNext(ctx); err == nil {
		t.Fatal("RunNext ignored the context")
	}
}
