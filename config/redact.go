package config

import (
	"reflect"
	"strings"
)

// Redaction is driven by the redact struct tag, so a new secret field is redacted everywhere
// (config show, /debug/config, error messages) by tagging it once:
//
//	redact:"secret"  the whole value
//	redact:"url"     the password in the userinfo and secret query parameters
//	redact:"headers" values of credential-bearing headers

// RedactedValue replaces secrets in printed configuration.
const RedactedValue = "***"

// Redacted returns a deep copy of c with every secret replaced by RedactedValue. Empty
// secrets stay empty, so the output still shows which are unset.
func (c *Config) Redacted() *Config {
	if c == nil {
		return nil
	}
	out := new(Config)
	copyRedacted(reflect.ValueOf(out).Elem(), reflect.ValueOf(c).Elem(), "")
	return out
}

func copyRedacted(dst, src reflect.Value, redact string) {
	switch src.Kind() {
	case reflect.Struct:
		t := src.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			copyRedacted(dst.Field(i), src.Field(i), t.Field(i).Tag.Get("redact"))
		}
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(src.Type().Elem()))
		copyRedacted(dst.Elem(), src.Elem(), redact)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			copyRedacted(dst.Index(i), src.Index(i), redact)
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
		iter := src.MapRange()
		for iter.Next() {
			v := reflect.New(src.Type().Elem()).Elem()
			copyRedacted(v, iter.Value(), redact)
			if redact == "headers" && v.Kind() == reflect.String && sensitiveName(iter.Key().String()) && v.String() != "" {
				v.SetString(RedactedValue)
			}
			dst.SetMapIndex(iter.Key(), v)
		}
	case reflect.String:
		dst.SetString(redactString(redact, src.String()))
	default:
		dst.Set(src)
	}
}

// redactString applies a redact tag to one string value.
func redactString(kind, s string) string {
	switch {
	case s == "":
		return s
	case kind == "secret":
		return RedactedValue
	case kind == "url":
		return RedactURL(s)
	}
	return s
}

// RedactURL hides the password of a URL or DSN (postgres://user:pass@host/db becomes
// postgres://user:***@host/db) and the values of secret query parameters. It works on the
// text, so it never re-encodes or reorders the rest of the URL.
func RedactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	head, rest := s[:i+3], s[i+3:]
	// The userinfo ends at the last "@" before the query: DSN passwords often hold an
	// unescaped "/" or "@", and over-redacting a path is better than leaking a password.
	end := strings.IndexAny(rest, "?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndexByte(rest[:end], '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + RedactedValue + rest[at:]
		}
	}
	tail := rest
	if q := strings.IndexByte(tail, '?'); q >= 0 {
		query, frag := tail[q+1:], ""
		if h := strings.IndexByte(query, '#'); h >= 0 {
			query, frag = query[:h], query[h:]
		}
		params := strings.Split(query, "&")
		for j, p := range params {
			if k, v, ok := strings.Cut(p, "="); ok && v != "" && sensitiveName(k) {
				params[j] = k + "=" + RedactedValue
			}
		}
		tail = tail[:q+1] + strings.Join(params, "&") + frag
	}
	return head + tail
}

// sensitiveName reports whether a header or query parameter name suggests a credential.
func sensitiveName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie", "pass", "pwd", "sig":
		return true
	}
	for _, w := range []string{"password", "secret", "token", "key", "signature", "auth", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
