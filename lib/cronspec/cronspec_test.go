package cronspec_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/cronspec"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func mustParse(t *testing.T, expr, tz string) cronspec.Spec {
	t.Helper()
	s, err := cronspec.Parse(expr, tz)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", expr, tz, err)
	}
	return s
}

// runs returns the next n runs after from.
func runs(s cronspec.Spec, from time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for range n {
		from = s.Next(from)
		out = append(out, from)
	}
	return out
}

func checkRuns(t *testing.T, s cronspec.Spec, from string, want ...string) {
	t.Helper()
	got := runs(s, utc(from), len(want))
	for i, w := range want {
		if !got[i].Equal(utc(w)) {
			t.Fatalf("run %d after %s = %s, want %s (all: %v)", i+1, from, got[i].Format(time.RFC3339), w, got)
		}
		if got[i].Location() != time.UTC {
			t.Fatalf("run %d is in %s, want UTC", i+1, got[i].Location())
		}
	}
}

func TestParseAndNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		{"5 fields step", "*/5 * * * *", "", "2026-01-01T00:02:00Z",
			[]string{"2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"}},
		{"5 fields exact time is excluded", "*/5 * * * *", "", "2026-01-01T00:05:00Z",
			[]string{"2026-01-01T00:10:00Z"}},
		{"5 fields weekdays", "0 9 * * MON-FRI", "", "2026-01-02T10:00:00Z", // a Friday
			[]string{"2026-01-05T09:00:00Z", "2026-01-06T09:00:00Z"}},
		{"5 fields lowercase names", "0 12 1 jan,jul *", "", "2026-01-01T13:00:00Z",
			[]string{"2026-07-01T12:00:00Z", "2027-01-01T12:00:00Z"}},
		{"5 fields dom or dow", "0 0 13 * 5", "", "2026-02-01T00:00:00Z", // Fridays and the 13th
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"}},
		{"5 fields question mark", "0 0 ? * *", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-02T00:00:00Z"}},
		{"5 fields extra spaces", "  0   9 * *  * ", "", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T09:00:00Z"}},
		{"5 fields leap day", "0 0 29 2 *", "", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"6 fields seconds", "*/10 * * * * *", "", "2026-01-01T00:00:05Z",
			[]string{"2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z"}},
		{"6 fields fixed", "15 30 9 * * *", "", "2026-01-01T09:30:15Z",
			[]string{"2026-01-02T09:30:15Z"}},
		{"6 fields every second", "* * * * * *", "", "2026-01-01T00:00:00.5Z",
			[]string{"2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"}},
		{"@hourly", "@hourly", "", "2026-01-01T00:30:00Z", []string{"2026-01-01T01:00:00Z"}},
		{"@daily", "@daily", "", "2026-01-01T00:30:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"@midnight", "@midnight", "", "2026-01-01T00:30:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"@weekly", "@weekly", "", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z"}}, // Sunday
		{"@monthly", "@monthly", "", "2026-01-15T00:00:00Z", []string{"2026-02-01T00:00:00Z"}},
		{"@yearly", "@yearly", "", "2026-01-15T00:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"@annually", "@annually", "", "2026-01-15T00:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"descriptor case", "@DAILY", "", "2026-01-01T00:30:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"@every minutes", "@every 5m", "", "2026-01-01T00:02:30Z",
			[]string{"2026-01-01T00:07:30Z", "2026-01-01T00:12:30Z"}},
		{"@every compound", "@every 1h30m", "", "2026-01-01T00:00:00Z", []string{"2026-01-01T01:30:00Z"}},
		{"@every ignores zone", "@every 1h", "America/New_York", "2026-11-01T05:00:00Z", // across fall back
			[]string{"2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
		{"zone Paris winter", "0 9 * * *", "Europe/Paris", "2026-01-10T00:00:00Z", []string{"2026-01-10T08:00:00Z"}},
		{"zone Paris summer", "0 9 * * *", "Europe/Paris", "2026-07-10T00:00:00Z", []string{"2026-07-10T07:00:00Z"}},
		{"zone Tokyo day boundary", "0 9 * * MON", "Asia/Tokyo", "2026-01-04T23:00:00Z", // Sunday UTC = Monday Tokyo
			[]string{"2026-01-05T00:00:00Z"}},
		{"zone Kolkata half hour", "0 0 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", []string{"2026-01-01T18:30:00Z"}},
		{"zone UTC explicit", "0 9 * * *", "UTC", "2026-01-01T00:00:00Z", []string{"2026-01-01T09:00:00Z"}},
		{"zone with spaces", "0 9 * * *", " Europe/Paris ", "2026-01-10T00:00:00Z", []string{"2026-01-10T08:00:00Z"}},
		{"CRON_TZ prefix", "CRON_TZ=Asia/Tokyo 0 9 * * *", "", "2026-01-01T01:00:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"TZ prefix agreeing", "TZ=Asia/Tokyo 0 9 * * *", "Asia/Tokyo", "2026-01-01T01:00:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"descriptor in zone", "@daily", "America/New_York", "2026-01-01T00:00:00Z", []string{"2026-01-01T05:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRuns(t, mustParse(t, tt.expr, tt.tz), tt.from, tt.want...)
		})
	}
}

// New York: clocks spring forward on 2026-03-08 at 02:00 EST (07:00Z) to
// 03:00 EDT, and fall back on 2026-11-01 at 02:00 EDT (06:00Z) to 01:00 EST.
func TestDaylightSaving(t *testing.T) {
	t.Parallel()
	const ny = "America/New_York"
	tests := []struct {
		name, expr, tz, from string
		want                 []string
	}{
		{"spring: nonexistent time fires at the change", "30 2 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"}},
		{"spring: 6 fields too", "0 30 2 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"spring: several runs in the gap fire once", "*/20 2 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:20:00Z"}},
		{"spring: time after the gap unchanged", "0 3 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T07:00:00Z"}},
		{"spring: time before the gap unchanged", "30 1 * * *", ny, "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T06:30:00Z", "2026-03-09T05:30:00Z"}},
		{"spring: hourly follows real time", "0 * * * *", ny, "2026-03-08T04:30:00Z",
			[]string{"2026-03-08T05:00:00Z", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"}},
		{"fall: repeated time fires once", "30 1 * * *", ny, "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"fall: several repeated times fire once each", "0,30 1 * * *", ny, "2026-11-01T04:00:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:00:00Z"}},
		{"fall: hourly follows real time", "0 * * * *", ny, "2026-11-01T03:30:00Z",
			[]string{"2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
		{"fall: time after the change unchanged", "0 2 * * *", ny, "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T07:00:00Z", "2026-11-02T07:00:00Z"}},
		{"fall: every 15 minutes follows real time", "*/15 * * * *", ny, "2026-11-01T05:50:00Z",
			[]string{"2026-11-01T06:00:00Z", "2026-11-01T06:15:00Z"}},
		{"spring: Europe at 01:00 UTC", "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"spring: midnight skipped in Sao Paulo 2018", "0 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00Z",
			[]string{"2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"}},
		{"fall: midnight once in Sao Paulo 2019", "0 0 * * *", "America/Sao_Paulo", "2019-02-15T12:00:00Z",
			[]string{"2019-02-16T02:00:00Z", "2019-02-17T03:00:00Z"}},
		{"spring: half-hour change on Lord Howe", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
			[]string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkRuns(t, mustParse(t, tt.expr, tt.tz), tt.from, tt.want...)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("1,", 200) + "2 * * * *"
	tests := []struct {
		name, expr, tz string
		field          string // detail "field"
		wantIn         []string
	}{
		{"empty", "", "", "cron_expression", []string{`""`, "empty"}},
		{"blank", "   ", "", "cron_expression", []string{"empty"}},
		{"four fields", "* * * *", "", "cron_expression", []string{`"* * * *"`, "fields"}},
		{"seven fields", "* * * * * * *", "", "cron_expression", []string{"fields"}},
		{"minute out of range", "60 * * * *", "", "cron_expression", []string{`"60 * * * *"`, "above maximum"}},
		{"day of week 7", "0 0 * * 7", "", "cron_expression", []string{"above maximum"}},
		{"zero step", "*/0 * * * *", "", "cron_expression", []string{"step"}},
		{"bad range", "5-1 * * * *", "", "cron_expression", []string{"beyond end"}},
		{"garbage", "every monday", "", "cron_expression", []string{`"every monday"`}},
		{"never fires", "0 0 30 2 *", "", "cron_expression", []string{"never fires"}},
		{"unknown descriptor", "@fortnightly", "", "cron_expression", []string{"@fortnightly"}},
		{"descriptor argument", "@daily 5", "", "cron_expression", []string{"no argument"}},
		{"every without duration", "@every", "", "cron_expression", []string{"needs a duration"}},
		{"every zero", "@every 0s", "", "cron_expression", []string{"at least 1s"}},
		{"every negative", "@every -5m", "", "cron_expression", []string{"at least 1s"}},
		{"every sub-second", "@every 500ms", "", "cron_expression", []string{"at least 1s"}},
		{"every fractional", "@every 1.5s", "", "cron_expression", []string{"whole number of seconds"}},
		{"every not a duration", "@every fortnight", "", "cron_expression", []string{`"fortnight"`}},
		{"TZ without schedule", "TZ=UTC", "", "cron_expression", []string{"followed by a zone and a schedule"}},
		{"CRON_TZ empty", "CRON_TZ=", "", "cron_expression", []string{"followed by"}},
		{"CRON_TZ empty zone", "CRON_TZ= 0 * * * *", "", "cron_expression", []string{"followed by"}},
		{"TZ twice", "TZ=UTC TZ=Asia/Tokyo 0 * * * *", "", "cron_expression", []string{"twice"}},
		{"TZ conflicting", "TZ=Asia/Tokyo 0 9 * * *", "Europe/Paris", "cron_expression", []string{"Asia/Tokyo", "Europe/Paris"}},
		{"TZ prefix unknown zone", "TZ=Nowhere/Land 0 * * * *", "", "timezone", []string{`"Nowhere/Land"`}},
		{"too long", long, "", "cron_expression", []string{"longer than"}},
		{"unknown zone", "0 9 * * *", "Mars/Olympus_Mons", "timezone", []string{`invalid time zone "Mars/Olympus_Mons"`}},
		{"Local zone", "0 9 * * *", "Local", "timezone", []string{`"Local"`}},
		{"zone path traversal", "0 9 * * *", "../../etc/passwd", "timezone", []string{"../../etc/passwd"}},
		{"zone absolute path", "0 9 * * *", "/etc/localtime", "timezone", []string{"/etc/localtime"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := cronspec.Parse(tt.expr, tt.tz)
			if err == nil {
				t.Fatal("want an error")
			}
			if !errors.Is(err, core.ErrInvalidArgument) {
				t.Errorf("error %v is not InvalidArgument", err)
			}
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Details["field"] != tt.field {
				t.Errorf("error details %v, want field %q", ce.Details, tt.field)
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if verr := cronspec.Validate(tt.expr, tt.tz); verr == nil {
				t.Error("Validate accepted it")
			}
			if _, nerr := cronspec.NextAfter(tt.expr, tt.tz, time.Now()); nerr == nil {
				t.Error("NextAfter accepted it")
			}
		})
	}
}

func TestSpecAccessors(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "CRON_TZ=Europe/Paris  0 9 * * * ", "")
	if s.String() != "0 9 * * *" || s.Expression() != "0 9 * * *" {
		t.Errorf("expression = %q", s.String())
	}
	if s.Location().String() != "Europe/Paris" {
		t.Errorf("location = %s", s.Location())
	}
	if s.Every() != 0 || s.IsZero() {
		t.Errorf("every = %s, zero = %v", s.Every(), s.IsZero())
	}
	if e := mustParse(t, "@every 90s", ""); e.Every() != 90*time.Second {
		t.Errorf("every = %s", e.Every())
	}
	var zero cronspec.Spec
	if !zero.IsZero() || !zero.Next(time.Now()).IsZero() || zero.Location() != time.UTC {
		t.Error("zero Spec must never fire")
	}
	next, err := cronspec.NextAfter("0 * * * *", "", utc("2026-01-01T00:30:00Z"))
	if err != nil || !next.Equal(utc("2026-01-01T01:00:00Z")) {
		t.Errorf("NextAfter = %v, %v", next, err)
	}
}

func TestLoadLocation(t *testing.T) {
	t.Parallel()
	for tz, want := range map[string]string{"": "UTC", "UTC": "UTC", "America/New_York": "America/New_York"} {
		loc, err := cronspec.LoadLocation(tz)
		if err != nil || loc.String() != want {
			t.Errorf("LoadLocation(%q) = %v, %v; want %s", tz, loc, err, want)
		}
	}
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	every5 := mustParse(t, "*/5 * * * *", "")
	everySecond := mustParse(t, "@every 1s", "")
	daily := mustParse(t, "0 9 * * *", "Europe/Paris")
	tests := []struct {
		name      string
		spec      cronspec.Spec
		nextRunAt string // "" = zero
		now       string
		want      cronspec.Tick
	}{
		{"never computed", every5, "", "2026-01-01T10:07:00Z",
			cronspec.Tick{Next: utc("2026-01-01T10:10:00Z")}},
		{"not yet due", every5, "2026-01-01T10:10:00Z", "2026-01-01T10:07:00Z",
			cronspec.Tick{Next: utc("2026-01-01T10:10:00Z")}},
		{"due exactly now", every5, "2026-01-01T10:10:00Z", "2026-01-01T10:10:00Z",
			cronspec.Tick{Due: true, ScheduledAt: utc("2026-01-01T10:10:00Z"), Next: utc("2026-01-01T10:15:00Z")}},
		{"a little late", every5, "2026-01-01T10:10:00Z", "2026-01-01T10:10:00.2Z",
			cronspec.Tick{Due: true, ScheduledAt: utc("2026-01-01T10:10:00Z"), Next: utc("2026-01-01T10:15:00Z")}},
		{"down for an hour fires once", every5, "2026-01-01T10:05:00Z", "2026-01-01T11:07:00Z",
			cronspec.Tick{Due: true, ScheduledAt: utc("2026-01-01T10:05:00Z"), Missed: 12, Next: utc("2026-01-01T11:10:00Z")}},
		{"down over a daily run", daily, "2026-01-10T08:00:00Z", "2026-01-12T12:00:00Z",
			cronspec.Tick{Due: true, ScheduledAt: utc("2026-01-10T08:00:00Z"), Missed: 2, Next: utc("2026-01-13T08:00:00Z")}},
		{"missed count is capped", everySecond, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z",
			cronspec.Tick{Due: true, ScheduledAt: utc("2025-01-01T00:00:00Z"), Missed: cronspec.MaxMissedCount, Next: utc("2026-01-01T00:00:01Z")}},
		{"zero spec", cronspec.Spec{}, "2026-01-01T10:05:00Z", "2026-01-01T11:07:00Z", cronspec.Tick{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var nra time.Time
			if tt.nextRunAt != "" {
				nra = utc(tt.nextRunAt)
			}
			got := tt.spec.Advance(nra, utc(tt.now))
			if got.Due != tt.want.Due || !got.ScheduledAt.Equal(tt.want.ScheduledAt) ||
				got.Missed != tt.want.Missed || !got.Next.Equal(tt.want.Next) {
				t.Fatalf("Advance = %+v, want %+v", got, tt.want)
			}
			missed, next := tt.spec.Missed(nra, utc(tt.now))
			if missed != tt.want.Due || !next.Equal(tt.want.Next) {
				t.Fatalf("Missed = %v, %v; want %v, %v", missed, next, tt.want.Due, tt.want.Next)
			}
		})
	}
}

// TestAdvanceFiresOncePerTick simulates a scheduler loop that stores Next
// and is restarted at arbitrary moments: every run fires exactly once while
// it is up, and a downtime fires once.
func TestAdvanceFiresOncePerTick(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "*/10 * * * * *", "")
	start := utc("2026-01-01T00:00:00Z")
	next := s.Advance(time.Time{}, start).Next
	var fired []time.Time
	for now := start; now.Before(start.Add(2 * time.Minute)); now = now.Add(time.Second) {
		if now.After(start.Add(30*time.Second)) && now.Before(start.Add(65*time.Second)) {
			continue // the server is down
		}
		tick := s.Advance(next, now)
		if tick.Due {
			fired = append(fired, tick.ScheduledAt)
		}
		next = tick.Next
	}
	// Up: 10s, 20s, 30s; down 31s..64s (40s, 50s, 60s missed → one fire for 40s at 65s);
	// up again: 70s ... 110s.
	want := []string{"00:00:10", "00:00:20", "00:00:30", "00:00:40", "00:01:10", "00:01:20", "00:01:30", "00:01:40", "00:01:50"}
	if len(fired) != len(want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	for i, w := range want {
		if got := fired[i].Format("15:04:05"); got != w {
			t.Fatalf("fire %d at %s, want %s (all %v)", i, got, w, fired)
		}
	}
}

// TestNextIsStrictlyIncreasing walks several schedules through a year in
// zones with DST changes: every run is after the previous one and repeats
// never happen.
func TestNextIsStrictlyIncreasing(t *testing.T) {
	t.Parallel()
	exprs := []string{"30 2 * * *", "0 */6 * * *", "*/20 1-3 * * *", "0 0 * * *", "0 0 0 * * SUN", "@every 25h", "0 30 1 1,15 * *"}
	zones := []string{"UTC", "America/New_York", "Europe/London", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Tehran"}
	for _, tz := range zones {
		for _, expr := range exprs {
			s := mustParse(t, expr, tz)
			from := utc("2018-01-01T00:00:00Z")
			end := utc("2019-01-01T00:00:00Z") // both hemispheres' changes
			for prev := from; prev.Before(end); {
				n := s.Next(prev)
				if n.IsZero() || !n.After(prev) {
					t.Fatalf("%q in %s: Next(%s) = %s", expr, tz, prev, n)
				}
				prev = n
			}
		}
	}
}
