package registry

import (
	"fmt"
	"path"
	"strings"
)

// matcher holds a source's ignore patterns.
type matcher struct{ patterns [][]string }

// newMatcher checks and splits glob patterns.
func newMatcher(patterns []string) (matcher, error) {
	var m matcher
	for _, p := range patterns {
		p = strings.TrimSpace(filepathToSlash(p))
		p = strings.TrimPrefix(strings.TrimSuffix(p, "/"), "./")
		if p == "" {
			return matcher{}, fmt.Errorf("empty ignore pattern")
		}
		segs := strings.Split(p, "/")
		for _, s := range segs {
			if _, err := path.Match(s, ""); err != nil {
				return matcher{}, fmt.Errorf("ignore pattern %q: %w", p, err)
			}
		}
		m.patterns = append(m.patterns, segs)
	}
	return m, nil
}

func filepathToSlash(p string) string { return strings.ReplaceAll(p, "\\", "/") }

// Ignored reports whether rel (slash-separated, relative to the source)
// is ignored: a pattern matches rel, one of its parent folders, or the base
// name of one of them.
func (m matcher) Ignored(rel string) bool {
	if len(m.patterns) == 0 || rel == "" || rel == "." {
		return false
	}
	segs := strings.Split(rel, "/")
	for _, p := range m.patterns {
		for i := 1; i <= len(segs); i++ {
			if globMatch(p, segs[:i]) || globMatch(p, segs[i-1:i]) {
				return true
			}
		}
	}
	return false
}

// globMatch matches path segments against pattern segments, where "**"
// matches zero or more segments.
func globMatch(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			rest := pat[1:]
			for i := 0; i <= len(segs); i++ {
				if globMatch(rest, segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}
