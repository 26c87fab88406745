package cronspec_test

import (
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/lib/cronspec"
)

// FuzzParse checks that Parse never panics, and that a parsed spec's Next and
// Advance behave on arbitrary input.
func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ expr, tz string }{
		{"*/5 * * * *", ""}, {"0 30 9 * * MON-FRI", "Europe/Paris"}, {"@every 5m", ""}, {"@daily", "America/New_York"},
		{"TZ=UTC", ""}, {"CRON_TZ=", ""}, {"CRON_TZ=Asia/Tokyo 0 9 * * *", ""}, {"*/0 * * * *", ""},
		{"0 0 30 2 *", ""}, {"1-2-3 * * * *", ""}, {"@every -1s", "Local"}, {"0 0 ? * *", "../x"},
		{"5/0 * * * *", ""}, {"*/4294967297 * * * *", ""}, {"- * * * *", ""}, {"0 2 * * *", "America/Sao_Paulo"},
	} {
		f.Add(seed.expr, seed.tz)
	}
	from := time.Date(2026, 3, 8, 6, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, tz string) {
		s, err := cronspec.Parse(expr, tz)
		if err != nil {
			if !s.IsZero() {
				t.Fatalf("Parse(%q, %q) returned a spec with an error", expr, tz)
			}
			return
		}
		n := s.Next(from)
		if n.IsZero() || !n.After(from) {
			t.Fatalf("Parse(%q, %q): Next(%s) = %s, want a later time", expr, tz, from, n)
		}
		if n2 := s.Next(n); !n2.IsZero() && !n2.After(n) {
			t.Fatalf("Parse(%q, %q): Next(%s) = %s", expr, tz, n, n2)
		}
		tick := s.Advance(from.Add(-time.Hour), from)
		if !tick.Due || tick.Next.IsZero() || !tick.Next.After(from) {
			t.Fatalf("Parse(%q, %q): Advance = %+v", expr, tz, tick)
		}
	})
}
