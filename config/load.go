package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// LoadOptions says where Load reads the configuration from.
type LoadOptions struct {
	// File is a YAML file to read. Empty means defaults and environment only.
	File string
	// Data, when not nil, is the YAML content used instead of reading File; File then only
	// names the content in messages. It lets `ratchet config validate -` read stdin.
	Data []byte
	// LookupEnv reads environment variables, both RATCHET_* overrides and ${VAR} references.
	// Nil means os.LookupEnv; tests inject EnvMap so they do not depend on the process.
	LookupEnv func(key string) (string, bool)
}

// EnvMap returns a LookupEnv function reading from m.
func EnvMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// Warning is a problem that does not stop loading, such as an unknown key.
type Warning struct {
	// Key is the full key path, e.g. "server.prot".
	Key     string
	Message string
}

func (w Warning) String() string { return w.Key + ": " + w.Message }

// Load builds the configuration from the defaults, then the YAML file (when given), then the
// RATCHET_* environment, and validates it. Unknown keys are warnings; every invalid value is
// reported in one *ValidationError. A missing or malformed file is an error naming the file.
func Load(opts LoadOptions) (*Config, []Warning, error) {
	l := &loader{lookup: opts.LookupEnv, envSource: map[string]string{}}
	if l.lookup == nil {
		l.lookup = os.LookupEnv
	}
	s := getSchema()

	// A fresh viper per load: the global instance would leak state between loads and tests.
	v := viper.New()
	defaults := reflect.ValueOf(Default()).Elem()
	for _, lf := range s.leaves {
		v.SetDefault(lf.key, defaults.FieldByIndex(lf.index).Interface())
	}

	if opts.File != "" || opts.Data != nil {
		raw, err := readYAML(opts)
		if err != nil {
			return nil, nil, err
		}
		if raw != nil {
			cleaned, _ := l.walk("", s.root, raw)
			if m, ok := cleaned.(map[string]any); ok {
				if err := v.MergeConfigMap(m); err != nil {
					return nil, l.warnings, fmt.Errorf("config file %s: %w", fileName(opts), err)
				}
			}
		}
	}

	// Environment: every key is bound explicitly, because viper's AutomaticEnv only sees
	// keys that already have a value.
	for _, lf := range s.leaves {
		for _, name := range lf.env {
			val, ok := l.lookup(name)
			if !ok || val == "" {
				continue // an empty variable is unset, as viper treats it by default
			}
			l.envSource[lf.key] = name
			if out, keep := l.walk(lf.key, lf.node, val); keep {
				v.Set(lf.key, out)
			}
			break
		}
	}

	cfg := &Config{}
	err := v.Unmarshal(cfg, viper.DecodeHook(mapstructure.DecodeHookFuncType(decodeHook)))
	decodeProblems(err, &l.problems)
	bad := slices.Clone(l.problems.list)

	cfg.normalize()
	var vp problems
	cfg.validate(&vp)
	for _, fe := range vp.list {
		// A value that failed to decode would only repeat itself as a zero value here, but
		// the validation reason is the more precise one ("an integer between 1 and 65535").
		i := slices.IndexFunc(bad, func(b *FieldError) bool { return coveredBy(fe.Key, b.Key) })
		switch {
		case i < 0:
			l.problems.list = append(l.problems.list, fe)
		case bad[i].Key == fe.Key:
			bad[i].Reason = fe.Reason
		}
	}
	if err := l.problems.err(); err != nil {
		for _, fe := range l.problems.list {
			fe.Source = l.sourceOf(fe.Key)
		}
		return nil, l.warnings, err
	}
	return cfg, l.warnings, nil
}

func fileName(opts LoadOptions) string {
	if opts.File != "" {
		return opts.File
	}
	return "(config data)"
}

// readYAML returns the file's top-level mapping, or nil for an empty file.
func readYAML(opts LoadOptions) (map[string]any, error) {
	data := opts.Data
	if data == nil {
		var err error
		if data, err = os.ReadFile(opts.File); err != nil {
			return nil, fmt.Errorf("reading config file %s: %w", opts.File, err)
		}
	}
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parsing config file %s: %w", fileName(opts), err)
	}
	switch m := normalizeYAML(raw).(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	default:
		return nil, fmt.Errorf("config file %s: the top level must be a mapping of sections (server, execution, ...), not %s",
			fileName(opts), kindOf(raw))
	}
}

// normalizeYAML gives every mapping string keys (YAML allows others) and turns timestamps
// back into text, so the rest of the loader sees JSON-like values only.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeYAML(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[toKey(k)] = normalizeYAML(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = normalizeYAML(e)
		}
		return x
	case time.Time:
		if x.Equal(x.Truncate(24*time.Hour)) && x.Location() == time.UTC {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.RFC3339Nano)
	}
	return v
}

func toKey(k any) string {
	if s := toText(k); s != "" || k == "" {
		return s
	}
	return fmt.Sprint(k)
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	case string:
		return "a string"
	}
	return "a scalar"
}

type loader struct {
	lookup    func(string) (string, bool)
	warnings  []Warning
	problems  problems
	envSource map[string]string // key path -> environment variable that set it
}

func (l *loader) warn(key, msg string) {
	l.warnings = append(l.warnings, Warning{Key: key, Message: msg})
}

func (l *loader) sourceOf(key string) string {
	for k, env := range l.envSource {
		if coveredBy(key, k) {
			return env
		}
	}
	return ""
}

// coveredBy reports whether key is prefix or lies below it ("a.b[0].c" under "a.b").
func coveredBy(key, prefix string) bool {
	if !strings.HasPrefix(key, prefix) {
		return false
	}
	rest := key[len(prefix):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// walk checks a raw value against the schema node n: it lower-cases keys, drops unknown keys
// with a warning, expands ${VAR} in strings, rejects values of the wrong shape and fills
// defaults inside list elements. It returns false when the value must be left out (null, or
// reported as a problem) so the default applies.
func (l *loader) walk(path string, n *schemaNode, v any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch n.kind {
	case kindStruct:
		m, ok := v.(map[string]any)
		if !ok {
			l.problems.add(path, v, "must be a mapping")
			return nil, false
		}
		out := make(map[string]any, len(m))
		for _, k := range slices.Sorted(maps.Keys(m)) {
			lk := strings.ToLower(k)
			child := n.fields[lk]
			if child == nil {
				msg := "unknown key (ignored)"
				if c := closest(lk, n.names); c != "" {
					msg += "; did you mean " + joinKey(path, c) + "?"
				}
				l.warn(joinKey(path, k), msg)
				continue
			}
			if _, dup := out[lk]; dup {
				l.warn(joinKey(path, k), "duplicate key (keys are case-insensitive); this one wins")
			}
			if cv, keep := l.walk(joinKey(path, lk), child, m[k]); keep {
				out[lk] = cv
			} else {
				delete(out, lk)
			}
		}
		return out, true

	case kindList:
		switch x := v.(type) {
		case string:
			// Lists of mappings come from the environment as JSON.
			if strings.TrimSpace(x) == "" {
				return []any{}, true
			}
			var parsed any
			if err := json.Unmarshal([]byte(x), &parsed); err != nil {
				l.problems.add(path, x, "must be a list of mappings (a JSON array in the environment)")
				return nil, false
			}
			if _, isString := parsed.(string); isString {
				l.problems.add(path, x, "must be a list of mappings (a JSON array in the environment)")
				return nil, false
			}
			return l.walk(path, n, parsed)
		case map[string]any:
			return l.walk(path, n, []any{x})
		case []any:
			out := make([]any, 0, len(x))
			for i, e := range x {
				p := path + "[" + strconv.Itoa(i) + "]"
				ev, keep := l.walk(p, n.elem, e)
				m, isMap := ev.(map[string]any)
				if !keep || !isMap {
					m = map[string]any{}
				}
				elementDefaults(n.elem.typ, m)
				out = append(out, m)
			}
			return out, true
		default:
			l.problems.add(path, v, "must be a list of mappings")
			return nil, false
		}

	case kindMap:
		m, ok := v.(map[string]any)
		if !ok {
			l.problems.add(path, v, "must be a mapping of strings")
			return nil, false
		}
		out := make(map[string]any, len(m))
		for k, e := range m {
			if e == nil {
				continue
			}
			if !isScalar(e) {
				l.problems.add(joinKey(path, k), e, "must be a string")
				continue
			}
			out[k] = l.expandValue(joinKey(path, k), e)
		}
		return out, true
	}

	// kindLeaf: a scalar, or a list of scalars for slice fields.
	switch x := v.(type) {
	case map[string]any:
		l.problems.add(path, v, "must be "+describeType(n.typ))
		return nil, false
	case []any:
		if n.typ.Kind() != reflect.Slice {
			l.problems.add(path, v, "must be "+describeType(n.typ))
			return nil, false
		}
		out := make([]any, 0, len(x))
		for _, e := range x {
			if !isScalar(e) {
				l.problems.add(path, v, "must be "+describeType(n.typ))
				return nil, false
			}
			out = append(out, l.expandValue(path, e))
		}
		return out, true
	}
	return l.expandValue(path, v), true
}

func (l *loader) expandValue(path string, v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	out, missing := expand(s, l.lookup)
	for _, name := range missing {
		l.warn(path, "environment variable "+name+" is not set; ${"+name+"} expands to an empty string")
	}
	return out
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// elementDefaults fills, in a list element still in map form, the defaults whose zero value is
// meaningful and so cannot be filled after decoding.
func elementDefaults(t reflect.Type, m map[string]any) {
	switch t {
	case reflect.TypeFor[Destination]():
		if typ, _ := m["type"].(string); strings.EqualFold(strings.TrimSpace(typ), DestinationFilesystem) {
			if _, ok := m["create_dirs"]; !ok {
				m["create_dirs"] = true
			}
		}
	case reflect.TypeFor[RegistrySource]():
		c, ok := m["config"].(map[string]any)
		if !ok {
			c = map[string]any{}
			m["config"] = c
		}
		if _, ok := c["debounce_ms"]; !ok {
			c["debounce_ms"] = DefaultDebounceMS
		}
	}
}

// normalize canonicalises enum spellings and resolves automatic values, after decoding and
// before validation.
func (c *Config) normalize() {
	canon := func(s *string) { *s = strings.ToLower(strings.TrimSpace(*s)) }
	canon(&c.Logging.Level)
	if c.Logging.Level == "warning" {
		c.Logging.Level = LogLevelWarn
	}
	canon(&c.Logging.Format)
	canon(&c.Server.RateLimit.Profile)
	for i := range c.Server.CORS.AllowedMethods {
		c.Server.CORS.AllowedMethods[i] = strings.ToUpper(strings.TrimSpace(c.Server.CORS.AllowedMethods[i]))
	}
	for i := range c.Server.Auth.APIKeys {
		k := &c.Server.Auth.APIKeys[i]
		canon(&k.Role)
		if k.Role == "" {
			k.Role = RoleOperator
		}
	}
	emptySlices(reflect.ValueOf(c).Elem())
	if c.Server.Workers.WorkerCount == 0 {
		c.Server.Workers.WorkerCount = runtime.NumCPU()
	}
	for i := range c.Output.GlobalDestinations {
		d := &c.Output.GlobalDestinations[i]
		canon(&d.Type)
		canon(&d.Format)
		d.Method = strings.ToUpper(strings.TrimSpace(d.Method))
		if d.Auth != nil {
			canon(&d.Auth.Type)
		}
		d.SetDefaults(&c.Output)
	}
}

// emptySlices replaces nil slices with empty ones, so a list left out and a list written as []
// load the same and render as [].
func emptySlices(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			emptySlices(v.Field(i))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			emptySlices(v.Elem())
		}
	case reflect.Slice:
		if v.IsNil() {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		}
		for i := range v.Len() {
			emptySlices(v.Index(i))
		}
	}
}
