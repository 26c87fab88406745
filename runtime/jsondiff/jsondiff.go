// Package jsondiff compares JSON documents the way task tests do: deep
// equality with numbers equal by value and object keys in any order, and a
// readable list of differences by path.
package jsondiff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// decode reads JSON keeping numbers exact.
func decode(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Equal reports whether two JSON documents are equal: same structure, same
// strings and booleans, numbers equal by value (1, 1.0 and 1e0 are equal),
// object keys in any order.
func Equal(a, b []byte) (bool, error) {
	av, err := decode(a)
	if err != nil {
		return false, err
	}
	bv, err := decode(b)
	if err != nil {
		return false, err
	}
	return len(diff("$", av, bv, nil)) == 0, nil
}

// Diff lists the differences between expected and actual JSON, one line
// per differing path, such as `$.items[2].name: expected "a", got "b"`.
func Diff(expected, actual []byte) []string {
	ev, err := decode(expected)
	if err != nil {
		return []string{"expected output is not JSON: " + err.Error()}
	}
	av, err := decode(actual)
	if err != nil {
		return []string{"actual output is not JSON: " + err.Error()}
	}
	return diff("$", ev, av, nil)
}

func numEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	ra, ok1 := new(big.Rat).SetString(string(a))
	rb, ok2 := new(big.Rat).SetString(string(b))
	if ok1 && ok2 {
		return ra.Cmp(rb) == 0
	}
	fa, err1 := strconv.ParseFloat(string(a), 64)
	fb, err2 := strconv.ParseFloat(string(b), 64)
	return err1 == nil && err2 == nil && fa == fb
}

func diff(path string, e, a any, out []string) []string {
	switch ev := e.(type) {
	case map[string]any:
		av, ok := a.(map[string]any)
		if !ok {
			return append(out, fmt.Sprintf("%s: expected %s, got %s", path, short(e), short(a)))
		}
		keys := map[string]bool{}
		for k := range ev {
			keys[k] = true
		}
		for k := range av {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := path + member(k)
			ec, inE := ev[k]
			ac, inA := av[k]
			switch {
			case !inA:
				out = append(out, fmt.Sprintf("%s: missing (expected %s)", p, short(ec)))
			case !inE:
				out = append(out, fmt.Sprintf("%s: unexpected (got %s)", p, short(ac)))
			default:
				out = diff(p, ec, ac, out)
			}
		}
		return out
	case []any:
		av, ok := a.([]any)
		if !ok {
			return append(out, fmt.Sprintf("%s: expected %s, got %s", path, short(e), short(a)))
		}
		n := min(len(ev), len(av))
		for i := 0; i < n; i++ {
			out = diff(fmt.Sprintf("%s[%d]", path, i), ev[i], av[i], out)
		}
		if len(ev) != len(av) {
			out = append(out, fmt.Sprintf("%s: expected %d items, got %d", path, len(ev), len(av)))
			for i := n; i < len(ev); i++ {
				out = append(out, fmt.Sprintf("%s[%d]: missing (expected %s)", path, i, short(ev[i])))
			}
			for i := n; i < len(av); i++ {
				out = append(out, fmt.Sprintf("%s[%d]: unexpected (got %s)", path, i, short(av[i])))
			}
		}
		return out
	case json.Number:
		if an, ok := a.(json.Number); ok && numEqual(ev, an) {
			return out
		}
	default:
		if fmt.Sprintf("%T", e) == fmt.Sprintf("%T", a) && e == a {
			return out
		}
	}
	return append(out, fmt.Sprintf("%s: expected %s, got %s", path, short(e), short(a)))
}

func member(k string) string {
	ident := k != ""
	for i, r := range k {
		if !(r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9')) {
			ident = false
			break
		}
	}
	if ident {
		return "." + k
	}
	b, _ := json.Marshal(k)
	return "[" + string(b) + "]"
}

// short renders a JSON value on one line, cut at 80 characters.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// Pretty indents a JSON document for display.
func Pretty(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return strings.TrimSpace(b.String())
}
