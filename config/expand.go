package config

import "strings"

// expand replaces ${VAR}, ${VAR:-default} (default when unset or empty) and ${VAR-default}
// (default when unset) in s. "$${" stays a literal "${". Only the braced form is expanded:
// a bare "$" is common in passwords. It returns the names of variables that were unset and
// had no default, so the caller can warn instead of silently using "".
func expand(s string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var missing []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), missing
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			b.WriteString(s)
			return b.String(), missing
		}
		b.WriteString(s[:i])
		expr := s[i+2 : i+2+end]
		s = s[i+3+end:]

		name, def, op := expr, "", ""
		if j := strings.Index(expr, ":-"); j >= 0 {
			name, def, op = expr[:j], expr[j+2:], ":-"
		} else if j := strings.IndexByte(expr, '-'); j >= 0 {
			name, def, op = expr[:j], expr[j+1:], "-"
		}
		if !validEnvName(name) {
			// Not a variable reference: keep the text as written.
			b.WriteString("${" + expr + "}")
			continue
		}
		val, ok := lookup(name)
		switch {
		case op == ":-" && (!ok || val == ""):
			val = def
		case op == "-" && !ok:
			val = def
		case !ok && op == "":
			missing = append(missing, name)
		}
		b.WriteString(val)
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
