package config

import (
	"reflect"
	"sort"
	"strings"
	"sync"
)

// The schema is derived from the Config struct tags once, so that defaults, environment
// bindings, unknown-key detection, redaction and rendering can never disagree about the keys.

type nodeKind int

const (
	kindLeaf   nodeKind = iota // a scalar or a list of scalars
	kindStruct                 // a mapping with a fixed set of keys
	kindList                   // a list of structs
	kindMap                    // a mapping with free keys (headers)
)

type schemaNode struct {
	kind   nodeKind
	typ    reflect.Type // the field's type (pointers removed for structs)
	redact string       // the redact tag of the field
	fields map[string]*schemaNode
	names  []string    // field keys in declaration order
	elem   *schemaNode // element of a kindList
}

// leaf is a key that the environment and the defaults address as a whole.
type leaf struct {
	key   string // e.g. "server.database.url"
	index []int  // field index path from Config
	node  *schemaNode
	env   []string // environment variable names, most specific first
}

type schema struct {
	root   *schemaNode
	leaves []leaf
}

// envShortcuts are the documented short environment names (SPEC §4.4). The canonical name
// is checked first, so it wins when both are set.
var envShortcuts = map[string][]string{
	"server.database.url":                   {"RATCHET_DATABASE_URL"},
	"logging.level":                         {"RATCHET_LOG_LEVEL"},
	"cache.task_content_cache_size":         {"RATCHET_CACHE_SIZE"},
	"server.rate_limit.requests_per_minute": {"RATCHET_RATE_LIMIT_REQUESTS_PER_MINUTE"},
	// RATCHET_SERVER_PORT and RATCHET_HTTP_TIMEOUT are the canonical names already.
}

// EnvPrefix starts every environment variable the configuration reads.
const EnvPrefix = "RATCHET_"

var getSchema = sync.OnceValue(func() *schema {
	s := &schema{root: buildNode(reflect.TypeFor[Config](), "")}
	s.collect(s.root, "", nil)
	return s
})

func buildNode(t reflect.Type, redact string) *schemaNode {
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		t = t.Elem()
	}
	n := &schemaNode{typ: t, redact: redact}
	switch {
	case t.Kind() == reflect.Struct:
		n.kind = kindStruct
		n.fields = map[string]*schemaNode{}
		for i := range t.NumField() {
			f := t.Field(i)
			name := tagName(f)
			if name == "" {
				continue
			}
			n.fields[name] = buildNode(f.Type, f.Tag.Get("redact"))
			n.names = append(n.names, name)
		}
	case t.Kind() == reflect.Slice && isStructType(t.Elem()):
		n.kind = kindList
		n.elem = buildNode(t.Elem(), "")
	case t.Kind() == reflect.Map:
		n.kind = kindMap
	default:
		n.kind = kindLeaf
	}
	return n
}

func isStructType(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// tagName is the key of a struct field: its mapstructure tag without options.
func tagName(f reflect.StructField) string {
	tag := f.Tag.Get("mapstructure")
	if i := strings.IndexByte(tag, ','); i >= 0 {
		tag = tag[:i]
	}
	if tag == "-" {
		return ""
	}
	return tag
}

func (s *schema) collect(n *schemaNode, prefix string, index []int) {
	for i, name := range n.names {
		child := n.fields[name]
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		idx := append(append([]int(nil), index...), i)
		if child.kind == kindStruct {
			s.collect(child, key, idx)
			continue
		}
		env := []string{EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))}
		env = append(env, envShortcuts[key]...)
		s.leaves = append(s.leaves, leaf{key: key, index: idx, node: child, env: env})
	}
}

// lookup finds the node of a key path such as "output.global_destinations[2].auth.token".
func (s *schema) lookup(key string) *schemaNode {
	n := s.root
	for part := range strings.SplitSeq(key, ".") {
		if i := strings.IndexByte(part, '['); i >= 0 {
			part = part[:i]
		}
		if n.kind == kindList {
			n = n.elem
		}
		if n.kind != kindStruct {
			return nil
		}
		n = n.fields[strings.ToLower(part)]
		if n == nil {
			return nil
		}
	}
	if n.kind == kindList && strings.HasSuffix(key, "]") {
		n = n.elem
	}
	return n
}

// Key describes one configuration key that can be set as a whole from the environment.
type Key struct {
	// Path is the dotted key, e.g. "server.database.url".
	Path string
	// Env lists the environment variables that set it, the one checked first first.
	Env []string
}

// Keys lists every configuration key and its environment variables, in file order.
func Keys() []Key {
	s := getSchema()
	out := make([]Key, len(s.leaves))
	for i, l := range s.leaves {
		out[i] = Key{Path: l.key, Env: append([]string(nil), l.env...)}
	}
	return out
}

// closest returns the name among names nearest to s when it is a plausible typo.
func closest(s string, names []string) string {
	best, bestD := "", 3
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
