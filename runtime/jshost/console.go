package jshost

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/ratchet-go/ratchet/core"
)

// Console levels as recorded in core.LogEntry.Level. console.log and
// console.info are both "info"; console.trace is "debug".
const (
	LevelDebug = "debug"
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Console captures a task's console output. It is used by one execution.
type Console struct {
	// MaxEntries bounds the lines kept; later lines are counted, not kept.
	// Zero means 1000.
	MaxEntries int
	// MaxLineBytes truncates each line. Zero means 16 KiB.
	MaxLineBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries []core.LogEntry
	dropped int
}

// Entries returns the captured lines; when lines were dropped, a last
// warn line says how many.
func (c *Console) Entries() []core.LogEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]core.LogEntry(nil), c.entries...)
	if c.dropped > 0 {
		out = append(out, core.LogEntry{Time: c.now(), Level: LevelWarn, Message: fmt.Sprintf("%d more console lines were dropped (limit %d)", c.dropped, c.maxEntries())}) //nolint
	}
	return out
}

func (c *Console) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Console) maxEntries() int {
	if c.MaxEntries <= 0 {
		return 1000
	}
	return c.MaxEntries
}

func (c *Console) add(level, msg string) {
	limit := c.MaxLineBytes
	if limit <= 0 {
		limit = 16 << 10
	}
	if len(msg) > limit {
		msg = msg[:limit] + "… (truncated)"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.maxEntries() {
		c.dropped++
		return
	}
	c.entries = append(c.entries, core.LogEntry{Time: c.now().UTC(), Level: level, Message: msg})
}

// Install defines console in rt, writing into c.
func (c *Console) Install(rt *goja.Runtime) error {
	f := &formatter{rt: rt}
	console := rt.NewObject()
	for name, level := range map[string]string{
		"log": LevelInfo, "info": LevelInfo, "warn": LevelWarn, "error": LevelError,
		"debug": LevelDebug, "trace": LevelDebug,
	} {
		level := level
		if err := console.Set(name, func(call goja.FunctionCall) goja.Value {
			c.add(level, f.format(call.Arguments))
			return goja.Undefined()
		}); err != nil {
			return err
		}
	}
	return rt.Set("console", console)
}

// stringifySource formats an object as JSON, or returns undefined when it
// is nested too deeply (JSON.stringify is native code that cannot be
// interrupted) or cannot be serialised (cycles, BigInt).
const stringifySource = `(function (v) {
	var stack = [v], depths = [1], seen = new Set();
	while (stack.length > 0) {
		var x = stack.pop(), d = depths.pop();
		if (d > 100) return undefined;
		if (seen.has(x)) continue;
		seen.add(x);
		var keys = Object.keys(x);
		for (var i = 0; i < keys.length; i++) {
			var c = x[keys[i]];
			if (c !== null && typeof c === "object") { stack.push(c); depths.push(d + 1); }
		}
	}
	try { return JSON.stringify(v); } catch (e) { return undefined; }
})`

var (
	stringifyOnce sync.Once
	stringifyPrg  *goja.Program
)

type formatter struct {
	rt        *goja.Runtime
	stringify goja.Callable
}

// format joins the arguments the way Node's console does for the common
// cases: strings as they are, printf-style %s %d %i %f %o %O %j %%, objects
// as JSON, errors with their stack.
func (f *formatter) format(args []goja.Value) string {
	if len(args) == 0 {
		return ""
	}
	var parts []string
	rest := args
	if s, ok := args[0].Export().(string); ok && goja.IsString(args[0]) && strings.Contains(s, "%") && len(args) > 1 {
		var b strings.Builder
		i := 1
		for j := 0; j < len(s); j++ {
			if s[j] != '%' || j+1 == len(s) {
				b.WriteByte(s[j])
				continue
			}
			verb := s[j+1]
			if verb == '%' {
				b.WriteByte('%')
				j++
				continue
			}
			if !strings.ContainsRune("sdifoOjc", rune(verb)) || i >= len(args) {
				b.WriteByte(s[j])
				continue
			}
			a := args[i]
			i++
			j++
			switch verb {
			case 's':
				b.WriteString(f.value(a, false))
			case 'd', 'i':
				n := a.ToFloat()
				if verb == 'i' || n == float64(int64(n)) {
					b.WriteString(strconv.FormatInt(int64(n), 10))
				} else {
					b.WriteString(strconv.FormatFloat(n, 'g', -1, 64))
				}
			case 'f':
				b.WriteString(strconv.FormatFloat(a.ToFloat(), 'g', -1, 64))
			case 'c': // CSS: ignored
			default:
				b.WriteString(f.value(a, true))
			}
		}
		parts = append(parts, b.String())
		rest = args[i:]
	} else {
		parts = append(parts, f.value(args[0], false))
		rest = args[1:]
	}
	for _, a := range rest {
		parts = append(parts, f.value(a, false))
	}
	return strings.Join(parts, " ")
}

func (f *formatter) value(v goja.Value, quoteStrings bool) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		if quoteStrings && goja.IsString(v) {
			return strconv.Quote(v.String())
		}
		return v.String()
	}
	if _, isFn := goja.AssertFunction(v); isFn {
		name := obj.Get("name")
		if name == nil || name.String() == "" {
			return "[Function (anonymous)]"
		}
		return "[Function: " + name.String() + "]"
	}
	if IsError(obj) {
		if st := obj.Get("stack"); st != nil && !goja.IsUndefined(st) && st.String() != "" {
			return st.String()
		}
		return obj.String()
	}
	if f.stringify == nil {
		stringifyOnce.Do(func() { stringifyPrg = goja.MustCompile("ratchet:console", stringifySource, true) })
		if v, err := f.rt.RunProgram(stringifyPrg); err == nil {
			f.stringify, _ = goja.AssertFunction(v)
		}
	}
	if f.stringify != nil {
		if s, err := f.stringify(goja.Undefined(), v); err == nil && !goja.IsUndefined(s) {
			return s.String()
		}
	}
	return "[object " + obj.ClassName() + "]"
}

// IsError reports whether v is an Error object (an instance of Error or of
// a subclass).
func IsError(v goja.Value) bool {
	obj, ok := v.(*goja.Object)
	return ok && obj.ClassName() == "Error"
}
