package config

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var (
	durationType = reflect.TypeFor[time.Duration]()
	fileModeType = reflect.TypeFor[os.FileMode]()
)

const durationReason = "must be a duration such as 30s or 5m, or a whole number of seconds"

// decodeHook converts the values viper holds (YAML scalars, environment strings, typed
// defaults) into field types. It replaces mapstructure's weak conversions for numbers, bools
// and durations because those are too lenient (80.5 silently becomes 80, an integer duration
// becomes nanoseconds) and give errors that do not say what is allowed.
func decodeHook(_, to reflect.Type, data any) (any, error) {
	if data == nil {
		return data, nil
	}
	switch to {
	case durationType:
		return toDuration(data)
	case fileModeType:
		return toFileMode(data)
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return toInt(data)
	case reflect.Float32, reflect.Float64:
		return toFloat(data)
	case reflect.Bool:
		return toBool(data)
	case reflect.String:
		if !isScalar(data) {
			return nil, badValue(data, "must be a string")
		}
	case reflect.Slice:
		if to.Elem().Kind() == reflect.String {
			return toStringSlice(data)
		}
	case reflect.Map:
		if _, ok := data.(map[string]any); !ok && reflect.TypeOf(data) != to {
			return nil, badValue(data, "must be a mapping of strings")
		}
	}
	return data, nil
}

func isScalar(v any) bool {
	switch reflect.ValueOf(v).Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// maxSeconds keeps seconds*time.Second from overflowing.
const maxSeconds = math.MaxInt64 / int64(time.Second)

func toDuration(data any) (any, error) {
	if d, ok := data.(time.Duration); ok {
		return d, nil
	}
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n := rv.Int(); n >= -maxSeconds && n <= maxSeconds {
			return time.Duration(n) * time.Second, nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n := rv.Uint(); n <= uint64(maxSeconds) {
			return time.Duration(n) * time.Second, nil
		}
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); math.Abs(f) <= float64(maxSeconds) {
			return time.Duration(f * float64(time.Second)), nil
		}
	case reflect.String:
		s := strings.TrimSpace(rv.String())
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return toDuration(n)
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXnN") {
			return toDuration(f)
		}
		if d, err := time.ParseDuration(s); err == nil {
			return d, nil
		}
	}
	return nil, badValue(data, durationReason)
}

func toFileMode(data any) (any, error) {
	const reason = "must be an octal file mode such as 0644"
	if m, ok := data.(os.FileMode); ok {
		return m, nil
	}
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// YAML reads 0644 as the octal number it is.
		if n := rv.Int(); n >= 0 && n <= math.MaxUint32 {
			return os.FileMode(n), nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n := rv.Uint(); n <= math.MaxUint32 {
			return os.FileMode(n), nil
		}
	case reflect.String:
		s := strings.TrimSpace(rv.String())
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
		if n, err := strconv.ParseUint(s, 8, 32); err == nil {
			return os.FileMode(n), nil
		}
	}
	return nil, badValue(data, reason)
}

func toInt(data any) (any, error) {
	const reason = "must be an integer"
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n := rv.Uint(); n <= math.MaxInt64 {
			return int64(n), nil
		}
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), nil
		}
	case reflect.String:
		if n, err := strconv.ParseInt(strings.TrimSpace(rv.String()), 10, 64); err == nil {
			return n, nil
		}
	}
	return nil, badValue(data, reason)
}

func toFloat(data any) (any, error) {
	rv := reflect.ValueOf(data)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		if f, err := strconv.ParseFloat(strings.TrimSpace(rv.String()), 64); err == nil {
			return f, nil
		}
	}
	return nil, badValue(data, "must be a number")
}

func toBool(data any) (any, error) {
	switch x := data.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on", "1":
			return true, nil
		case "false", "no", "off", "0":
			return false, nil
		}
	}
	return nil, badValue(data, "must be true or false")
}

// toStringSlice accepts a list, a JSON array or a comma-separated string (the form
// environment variables use).
func toStringSlice(data any) (any, error) {
	const reason = "must be a list of strings (or a comma-separated string)"
	switch x := data.(type) {
	case []string:
		return x, nil
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "[") {
			var out []string
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				return nil, badValue(data, reason)
			}
			return out, nil
		}
		out := []string{}
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if !isScalar(e) {
				return nil, badValue(data, reason)
			}
			out = append(out, toText(e))
		}
		return out, nil
	}
	return nil, badValue(data, reason)
}

func toText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(rv.Uint(), 10)
	}
	return ""
}
