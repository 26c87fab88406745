package delivery

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// Format is how a filesystem destination encodes the output.
type Format string

// The file formats.
const (
	// FormatJSON is indented JSON (two spaces) and a newline.
	FormatJSON Format = "json"
	// FormatJSONCompact is JSON on one line and a newline.
	FormatJSONCompact Format = "json_compact"
	// FormatYAML is block YAML, keys in the output's order.
	FormatYAML Format = "yaml"
	// FormatCSV is a header and rows: see EncodeOutput.
	FormatCSV Format = "csv"
	// FormatRaw writes a string output as is and anything else as compact
	// JSON, with no newline added.
	FormatRaw Format = "raw"
)

// Formats lists the formats.
var Formats = []Format{FormatJSON, FormatJSONCompact, FormatYAML, FormatCSV, FormatRaw}

// Webhook auth types.
const (
	AuthBearer = "bearer"
	AuthBasic  = "basic"
	AuthAPIKey = "api_key"
)

// Defaults of destination settings.
const (
	DefaultFileMode        fs.FileMode = 0o644
	DefaultMethod                      = "POST"
	DefaultAPIKeyHeader                = "X-API-Key"
	DefaultSignatureHeader             = "X-Ratchet-Signature"
)

// Limits on destination settings.
const (
	MaxTimeout     = time.Hour
	MaxAttempts    = 20
	MaxDelay       = time.Hour
	MaxMultiplier  = 100.0
	maxTemplateLen = 4096
)

// Destination is a parsed, validated output destination: exactly one of
// Filesystem and Webhook is set, matching Type.
type Destination struct {
	Type       string
	Filesystem *Filesystem
	Webhook    *Webhook
}

// Filesystem writes the output to a file.
type Filesystem struct {
	// Path is a template (see Vars); relative paths are relative to the
	// server's working directory.
	Path string
	// Format defaults to FormatJSON.
	Format Format
	// Permissions of the file written, default 0644 (not subject to umask).
	Permissions fs.FileMode
	// CreateDirs creates missing parent directories (mode 0755). Default true.
	CreateDirs bool
	// Overwrite replaces an existing file atomically. When false (the
	// default), an existing file is kept and the output goes to the first
	// free name among NAME-1.EXT, NAME-2.EXT, ...
	Overwrite bool
}

// Webhook sends the output in a JSON envelope (see Envelope) over HTTP.
type Webhook struct {
	// URL is a template (see Vars); variable values are URL-escaped.
	URL string
	// Method is POST (default), PUT or PATCH.
	Method string
	// Headers are added to every request (Auth and Signature win).
	Headers   map[string]string
	Auth      *Auth
	Signature *Signature
	// Timeout bounds each attempt; 0 means Config.DefaultTimeout.
	Timeout time.Duration
	// Retry overrides Config.DefaultRetry when set.
	Retry *RetryPolicy
}

// Auth authenticates webhook requests: bearer sends "Authorization: Bearer
// Token"; basic sends Username and Password; api_key sends Key in Header
// (default X-API-Key).
type Auth struct {
	Type     string
	Token    string
	Username string
	Password string
	Header   string
	Key      string
}

// Signature makes every webhook request carry Header (default
// X-Ratchet-Signature): "sha256=" and the hex HMAC-SHA256 of the request
// body keyed by Secret.
type Signature struct {
	Secret string
	Header string
}

// RetryPolicy is a webhook's own retry policy. Zero fields take the value of
// Config.DefaultRetry.
type RetryPolicy struct {
	MaxAttempts       int
	InitialDelay      time.Duration
	MaxDelay          time.Duration
	BackoffMultiplier float64
}

// problems collects invalid fields.
type problems []fieldProblem

type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, fieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err turns the problems into one InvalidArgument error naming each field,
// prefixed with prefix ("" or "output_destinations[2].").
func (p problems) err(prefix string) error {
	if len(p) == 0 {
		return nil
	}
	parts := make([]string, len(p))
	list := make([]map[string]any, len(p))
	for i, fp := range p {
		parts[i] = prefix + fp.Field + ": " + fp.Message
		list[i] = map[string]any{"field": prefix + fp.Field, "message": fp.Message}
	}
	return core.Errorf(core.KindInvalidArgument, "invalid output destination: %s", strings.Join(parts, "; ")).
		WithDetail("field", prefix+p[0].Field).WithDetail("problems", list)
}

// ValidateDestination checks a destination as a user gave it (a job's
// output_destinations from the API): an InvalidArgument error names every
// invalid field ("type", "config.path", "config.auth.token", ...), with the
// first in Details["field"] and all in Details["problems"]. It never reads
// the environment; "${VAR}" is plain text here.
func ValidateDestination(d core.OutputDestination) error {
	_, err := ParseDestination(d)
	return err
}

// ValidateDestinations checks each destination, naming fields as
// "output_destinations[i].config.path".
func ValidateDestinations(ds []core.OutputDestination) error {
	for i, d := range ds {
		if _, err := parseDestination(d, fmt.Sprintf("output_destinations[%d].", i)); err != nil {
			return err
		}
	}
	return nil
}

// ParseDestination reads and validates d, filling in defaults (format json,
// permissions 0644, create_dirs true, overwrite false; method POST, header
// names). The webhook timeout and retry policy stay unset when not given:
// the Deliverer's defaults apply.
//
// Config keys: filesystem: path, format, permissions (an octal string such
// as "0644", or a number that is the mode itself: 420), create_dirs,
// overwrite. webhook: url, method, headers (string values), auth {type,
// token, username, password, header, key}, signature {secret, header},
// timeout (seconds as a number, or a string: "30", "30s", "1m"),
// retry_policy {max_attempts, initial_delay_ms, max_delay_ms,
// backoff_multiplier}. Unknown keys are errors.
func ParseDestination(d core.OutputDestination) (Destination, error) {
	return parseDestination(d, "")
}

func parseDestination(d core.OutputDestination, prefix string) (Destination, error) {
	var p problems
	typ := strings.ToLower(strings.TrimSpace(d.Type))
	r := reader{p: &p, prefix: "config."}
	var out Destination
	switch typ {
	case core.DestinationFilesystem:
		out = Destination{Type: typ, Filesystem: r.filesystem(d.Config)}
	case core.DestinationWebhook:
		out = Destination{Type: typ, Webhook: r.webhook(d.Config)}
	case "":
		p.add("type", "is required: %s or %s", core.DestinationFilesystem, core.DestinationWebhook)
	default:
		p.add("type", "%q is not a destination type: use %s or %s", d.Type, core.DestinationFilesystem, core.DestinationWebhook)
	}
	if err := p.err(prefix); err != nil {
		return Destination{}, err
	}
	return out, nil
}

// OutputDestination converts d back to the form jobs and the API carry;
// ParseDestination of the result gives d again. The composition root uses it
// to turn configured destinations into Config.GlobalDestinations.
func (d Destination) OutputDestination() core.OutputDestination {
	c := map[string]any{}
	switch {
	case d.Filesystem != nil:
		f := d.Filesystem
		c["path"] = f.Path
		if f.Format != "" {
			c["format"] = string(f.Format)
		}
		if f.Permissions != 0 {
			c["permissions"] = fmt.Sprintf("%04o", uint32(f.Permissions.Perm()))
		}
		c["create_dirs"] = f.CreateDirs
		c["overwrite"] = f.Overwrite
	case d.Webhook != nil:
		w := d.Webhook
		c["url"] = w.URL
		if w.Method != "" {
			c["method"] = w.Method
		}
		if len(w.Headers) > 0 {
			h := make(map[string]any, len(w.Headers))
			for k, v := range w.Headers {
				h[k] = v
			}
			c["headers"] = h
		}
		if a := w.Auth; a != nil {
			m := map[string]any{"type": a.Type}
			for k, v := range map[string]string{"token": a.Token, "username": a.Username, "password": a.Password, "header": a.Header, "key": a.Key} {
				if v != "" {
					m[k] = v
				}
			}
			c["auth"] = m
		}
		if s := w.Signature; s != nil {
			m := map[string]any{"secret": s.Secret}
			if s.Header != "" {
				m["header"] = s.Header
			}
			c["signature"] = m
		}
		if w.Timeout > 0 {
			c["timeout"] = w.Timeout.String()
		}
		if rp := w.Retry; rp != nil {
			m := map[string]any{}
			if rp.MaxAttempts != 0 {
				m["max_attempts"] = rp.MaxAttempts
			}
			if rp.InitialDelay != 0 {
				m["initial_delay_ms"] = rp.InitialDelay.Milliseconds()
			}
			if rp.MaxDelay != 0 {
				m["max_delay_ms"] = rp.MaxDelay.Milliseconds()
			}
			if rp.BackoffMultiplier != 0 {
				m["backoff_multiplier"] = rp.BackoffMultiplier
			}
			c["retry_policy"] = m
		}
	}
	return core.OutputDestination{Type: d.Type, Config: c}
}

// reader reads typed values out of a config map, recording problems.
type reader struct {
	p      *problems
	prefix string
}

func (r reader) sub(key string) reader { return reader{p: r.p, prefix: r.prefix + key + "."} }

func (r reader) add(key, format string, args ...any) { r.p.add(r.prefix+key, format, args...) }

// known reports keys of m not in allowed.
func (r reader) known(m map[string]any, allowed ...string) {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		r.add(k, "unknown setting (known: %s)", strings.Join(allowed, ", "))
	}
}

func (r reader) str(m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		r.add(key, "must be a string, got %s", kindName(v))
		return "", false
	}
	return s, true
}

func (r reader) boolean(m map[string]any, key string, def bool) bool {
	v, ok := m[key]
	if !ok || v == nil {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		r.add(key, "must be true or false, got %s", kindName(v))
		return def
	}
	return b
}

// number reads a JSON number (float64) or any Go numeric value.
func (r reader) number(m map[string]any, key string) (float64, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false
	}
	f, isNum := toFloat(v)
	if !isNum {
		r.add(key, "must be a number, got %s", kindName(v))
		return 0, false
	}
	return f, true
}

func (r reader) integer(m map[string]any, key string, lo, hi int64) (int64, bool) {
	f, ok := r.number(m, key)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		r.add(key, "must be a whole number between %d and %d, got %v", lo, hi, f)
		return 0, false
	}
	return int64(f), true
}

func (r reader) object(m map[string]any, key string) (map[string]any, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, false
	}
	switch o := v.(type) {
	case map[string]any:
		return o, true
	case map[string]string:
		out := make(map[string]any, len(o))
		for k, s := range o {
			out[k] = s
		}
		return out, true
	}
	r.add(key, "must be an object, got %s", kindName(v))
	return nil, false
}

func (r reader) filesystem(m map[string]any) *Filesystem {
	r.known(m, "path", "format", "permissions", "create_dirs", "overwrite")
	f := &Filesystem{Format: FormatJSON, Permissions: DefaultFileMode}
	path, isStr := r.str(m, "path")
	f.Path = path
	if strings.TrimSpace(path) == "" {
		if isStr || m["path"] == nil { // a non-string was reported by str
			r.add("path", "is required for a filesystem destination, such as /var/log/ratchet/{{task_name}}_{{job_uuid}}.json")
		}
	} else if err := checkTemplate(f.Path); err != "" {
		r.add("path", "%s", err)
	} else if strings.HasSuffix(f.Path, "/") || strings.HasSuffix(f.Path, `\`) {
		r.add("path", "must name a file, not a directory")
	}
	if s, ok := r.str(m, "format"); ok && strings.TrimSpace(s) != "" {
		f.Format = Format(strings.ToLower(strings.TrimSpace(s)))
		if !slices.Contains(Formats, f.Format) {
			r.add("format", "%q is not a format: use %s", s, joinFormats())
		}
	}
	if v, ok := m["permissions"]; ok && v != nil {
		mode, err := parseMode(v)
		if err != "" {
			r.add("permissions", "%s", err)
		} else {
			f.Permissions = mode
		}
	}
	f.CreateDirs = r.boolean(m, "create_dirs", true)
	f.Overwrite = r.boolean(m, "overwrite", false)
	return f
}

func (r reader) webhook(m map[string]any) *Webhook {
	r.known(m, "url", "method", "headers", "auth", "signature", "timeout", "retry_policy")
	w := &Webhook{Method: DefaultMethod}
	if u, ok := r.str(m, "url"); ok {
		w.URL = strings.TrimSpace(u)
	}
	if w.URL == "" {
		r.add("url", "is required for a webhook destination")
	} else if err := checkTemplate(w.URL); err != "" {
		r.add("url", "%s", err)
	} else if err := checkURL(w.URL); err != "" {
		r.add("url", "%s", err)
	}
	if s, ok := r.str(m, "method"); ok && strings.TrimSpace(s) != "" {
		w.Method = strings.ToUpper(strings.TrimSpace(s))
		if !slices.Contains([]string{"POST", "PUT", "PATCH"}, w.Method) {
			r.add("method", "%q is not allowed: use POST, PUT or PATCH", s)
		}
	}
	if h, ok := r.object(m, "headers"); ok {
		hr := r.sub("headers")
		w.Headers = make(map[string]string, len(h))
		for _, name := range sortedKeys(h) {
			v, isStr := h[name].(string)
			switch {
			case !validHeaderName(name):
				hr.add(name, "is not a valid header name")
			case !isStr:
				hr.add(name, "must be a string, got %s", kindName(h[name]))
			case !validHeaderValue(v):
				hr.add(name, "must not contain control characters")
			default:
				w.Headers[name] = v
			}
		}
	}
	if a, ok := r.object(m, "auth"); ok {
		w.Auth = r.sub("auth").auth(a)
	}
	if s, ok := r.object(m, "signature"); ok {
		w.Signature = r.sub("signature").signature(s)
	}
	if v, ok := m["timeout"]; ok && v != nil {
		d, err := parseTimeout(v)
		if err != "" {
			r.add("timeout", "%s", err)
		} else {
			w.Timeout = d
		}
	}
	if rp, ok := r.object(m, "retry_policy"); ok {
		w.Retry = r.sub("retry_policy").retryPolicy(rp)
	}
	return w
}

func (r reader) auth(m map[string]any) *Auth {
	r.known(m, "type", "token", "username", "password", "header", "key")
	a := &Auth{}
	fields := []struct {
		key string
		dst *string
	}{{"token", &a.Token}, {"username", &a.Username}, {"password", &a.Password}, {"header", &a.Header}, {"key", &a.Key}}
	for _, f := range fields {
		if s, ok := r.str(m, f.key); ok {
			*f.dst = s
		}
	}
	typ, _ := r.str(m, "type")
	a.Type = strings.ToLower(strings.TrimSpace(typ))
	switch a.Type {
	case AuthBearer:
		if a.Token == "" {
			r.add("token", "is required for bearer auth")
		}
	case AuthBasic:
		if a.Username == "" {
			r.add("username", "is required for basic auth")
		}
	case AuthAPIKey:
		if a.Key == "" {
			r.add("key", "is required for api_key auth")
		}
		if a.Header == "" {
			a.Header = DefaultAPIKeyHeader
		} else if !validHeaderName(a.Header) {
			r.add("header", "%q is not a valid header name", a.Header)
		}
	case "":
		r.add("type", "is required: %s, %s or %s", AuthBearer, AuthBasic, AuthAPIKey)
	default:
		r.add("type", "%q is not an auth type: use %s, %s or %s", typ, AuthBearer, AuthBasic, AuthAPIKey)
	}
	for _, f := range fields {
		if f.key != "header" && !validHeaderValue(*f.dst) {
			r.add(f.key, "must not contain control characters")
		}
	}
	if a.Type == AuthBasic && strings.Contains(a.Username, ":") {
		r.add("username", "must not contain ':' for basic auth")
	}
	return a
}

func (r reader) signature(m map[string]any) *Signature {
	r.known(m, "secret", "header")
	s := &Signature{Header: DefaultSignatureHeader}
	if v, ok := r.str(m, "secret"); ok {
		s.Secret = v
	}
	if s.Secret == "" {
		r.add("secret", "is required for a signature")
	}
	if h, ok := r.str(m, "header"); ok && h != "" {
		if !validHeaderName(h) {
			r.add("header", "%q is not a valid header name", h)
		}
		s.Header = h
	}
	return s
}

func (r reader) retryPolicy(m map[string]any) *RetryPolicy {
	r.known(m, "max_attempts", "initial_delay_ms", "max_delay_ms", "backoff_multiplier")
	rp := &RetryPolicy{}
	if n, ok := r.integer(m, "max_attempts", 1, MaxAttempts); ok {
		rp.MaxAttempts = int(n)
	}
	maxMS := MaxDelay.Milliseconds()
	if n, ok := r.integer(m, "initial_delay_ms", 0, maxMS); ok {
		rp.InitialDelay = time.Duration(n) * time.Millisecond
	}
	if n, ok := r.integer(m, "max_delay_ms", 0, maxMS); ok {
		rp.MaxDelay = time.Duration(n) * time.Millisecond
		if rp.MaxDelay > 0 && rp.InitialDelay > rp.MaxDelay {
			r.add("max_delay_ms", "must be at least initial_delay_ms (%d)", rp.InitialDelay.Milliseconds())
		}
	}
	if f, ok := r.number(m, "backoff_multiplier"); ok {
		if !(f >= 1 && f <= MaxMultiplier) {
			r.add("backoff_multiplier", "must be a number between 1 and %v, got %v", MaxMultiplier, f)
		} else {
			rp.BackoffMultiplier = f
		}
	}
	return rp
}

// parseMode reads file permissions: an octal string ("0644", "644",
// "0o644") or a number that is the mode value itself (420 for 0644).
func parseMode(v any) (fs.FileMode, string) {
	const hint = `must be an octal file mode between 0001 and 0777 given as a string, such as "0644"`
	var n uint64
	switch x := v.(type) {
	case string:
		s := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(x), "0o"), "0O")
		u, err := strconv.ParseUint(s, 8, 32)
		if err != nil || s == "" {
			return 0, fmt.Sprintf("%q %s", x, hint)
		}
		n = u
	case fs.FileMode:
		n = uint64(x)
	default:
		f, ok := toFloat(v)
		if !ok || f != math.Trunc(f) || f < 0 || f > math.MaxUint32 {
			return 0, fmt.Sprintf("%s, got %s", hint, kindName(v))
		}
		n = uint64(f)
	}
	if n == 0 || n > 0o777 {
		return 0, fmt.Sprintf("%04o %s", n, hint)
	}
	return fs.FileMode(n), ""
}

// parseTimeout reads a timeout: a number of seconds, or a string holding
// seconds or a Go duration.
func parseTimeout(v any) (time.Duration, string) {
	const hint = `must be a positive number of seconds or a duration such as "30s"`
	var d time.Duration
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			if math.IsNaN(n) || n <= 0 || n > MaxTimeout.Seconds() {
				return 0, fmt.Sprintf("%q %s, at most %s", x, hint, MaxTimeout)
			}
			d = time.Duration(n * float64(time.Second))
		} else if pd, err := time.ParseDuration(s); err == nil {
			d = pd
		} else {
			return 0, fmt.Sprintf("%q %s", x, hint)
		}
	case time.Duration:
		d = x
	default:
		f, ok := toFloat(v)
		if !ok {
			return 0, fmt.Sprintf("%s, got %s", hint, kindName(v))
		}
		if math.IsNaN(f) || f <= 0 || f > MaxTimeout.Seconds() {
			return 0, fmt.Sprintf("%s, at most %s, got %v", hint, MaxTimeout, f)
		}
		d = time.Duration(f * float64(time.Second))
	}
	if d <= 0 || d > MaxTimeout {
		return 0, fmt.Sprintf("%s, at most %s, got %s", hint, MaxTimeout, d)
	}
	return d, ""
}

// checkURL checks a URL template, with every variable replaced by a
// placeholder.
func checkURL(tmpl string) string {
	u, err := url.Parse(placeholderRender(tmpl))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "must be an http:// or https:// URL with a host"
	}
	return ""
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case bool, string, nil:
		return 0, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any, map[string]string:
		return "an object"
	case []any:
		return "an array"
	}
	if _, ok := toFloat(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

func joinFormats() string {
	s := make([]string, len(Formats))
	for i, f := range Formats {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validHeaderName reports whether s is an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
