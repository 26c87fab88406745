package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
)

// FieldError is one invalid configuration value.
type FieldError struct {
	// Key is the full key path, e.g. "server.port" or "registry.sources[0].uri".
	Key string
	// Value is the offending value as text, with secrets redacted.
	Value string
	// Source is the environment variable that supplied the value, or "" for the file or code.
	Source string
	// Reason says what is allowed.
	Reason string
}

func (e *FieldError) Error() string {
	src := ""
	if e.Source != "" {
		src = " (from " + e.Source + ")"
	}
	return fmt.Sprintf("%s: invalid value %q%s: %s", e.Key, e.Value, src, e.Reason)
}

// ValidationError lists every invalid value found, so one run shows all of them.
type ValidationError struct {
	Errors []*FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Errors) == 1 {
		return "invalid configuration: " + e.Errors[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Errors))
	for _, fe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap gives errors.As access to each FieldError.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}

// Fields returns the key paths that have errors.
func (e *ValidationError) Fields() []string {
	out := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe.Key
	}
	return out
}

// problems accumulates FieldErrors.
type problems struct {
	list []*FieldError
}

func (p *problems) add(key string, value any, reason string) {
	p.list = append(p.list, &FieldError{Key: key, Value: displayValue(key, value), Reason: reason})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Errors: p.list}
}

// displayValue renders a value for an error message without leaking secrets.
func displayValue(key string, v any) string {
	s := ""
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	if n := getSchema().lookup(key); n != nil {
		s = redactString(n.redact, s)
	} else if i := strings.LastIndexByte(key, '.'); i >= 0 {
		// A header under a destination's headers map.
		if parent := getSchema().lookup(key[:i]); parent != nil && parent.redact == "headers" && sensitiveName(key[i+1:]) && s != "" {
			s = RedactedValue
		}
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// typeError is returned by decode hooks: the value rejected and what the key accepts.
type typeError struct {
	value  any
	reason string
}

func (e *typeError) Error() string { return e.reason }

func badValue(value any, reason string) error {
	return &typeError{value: value, reason: reason}
}

// decodeProblems turns mapstructure's errors into FieldErrors named by key path.
func decodeProblems(err error, p *problems) {
	for _, leafErr := range flattenErrors(err) {
		var de *mapstructure.DecodeError
		if !errors.As(leafErr, &de) {
			p.add("", nil, leafErr.Error())
			continue
		}
		var te *typeError
		var pe *mapstructure.ParseError
		var ue *mapstructure.UnconvertibleTypeError
		switch {
		case errors.As(de, &te):
			p.add(de.Name(), te.value, te.reason)
		case errors.As(de, &pe):
			p.add(de.Name(), pe.Value, "must be "+describeType(pe.Expected.Type()))
		case errors.As(de, &ue):
			p.add(de.Name(), ue.Value, "must be "+describeType(ue.Expected.Type()))
		default:
			p.add(de.Name(), nil, de.Unwrap().Error())
		}
	}
}

// flattenErrors lists the leaves of an error tree, stopping at mapstructure's DecodeErrors,
// which carry the key path.
func flattenErrors(err error) []error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*mapstructure.DecodeError); ok {
		return []error{err}
	}
	switch x := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range x.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	case interface{ Unwrap() error }:
		if inner := x.Unwrap(); inner != nil {
			return flattenErrors(inner)
		}
	}
	return []error{err}
}

// describeType says in words what values a Go type accepts.
func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return durationReason[len("must be "):]
	case t == fileModeType:
		return "an octal file mode such as 0644"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		switch {
		case isStructType(t.Elem()):
			return "a list of mappings"
		case t.Elem().Kind() == reflect.String:
			return "a list of strings"
		}
		return "a list"
	case reflect.Map:
		return "a mapping of strings"
	case reflect.Struct, reflect.Pointer:
		return "a mapping"
	}
	return t.String()
}
