package cronspec

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones must work on hosts without a zoneinfo database

	"github.com/robfig/cron/v3"

	"github.com/ratchet-go/ratchet/core"
)

// MaxExpressionLength bounds the expressions Parse accepts.
const MaxExpressionLength = 256

// parser reads 5- and 6-field expressions and descriptors. @every is handled
// before it (see parseEvery).
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// allHours is the bit set of an hour field that matches every hour.
const allHours = 1<<24 - 1

// Spec is a parsed schedule expression in a time zone. The zero Spec never
// fires. A Spec is immutable and safe for concurrent use.
type Spec struct {
	expr  string
	loc   *time.Location
	sched cron.Schedule
	// wallClock is set for cron fields with a fixed hour: DST changes are
	// handled as documented in the package comment.
	wallClock bool
	every     time.Duration
}

// Parse parses expr (5 fields, 6 fields with seconds first, or a descriptor)
// in time zone tz (an IANA name; empty means UTC). Errors are core errors of
// kind InvalidArgument naming the expression or the zone, with the field
// ("cron_expression" or "timezone") in their details.
func Parse(expr, tz string) (spec Spec, err error) {
	orig := expr
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return Spec{}, exprError(orig, "the expression is empty")
	case len(expr) > MaxExpressionLength:
		return Spec{}, exprError(orig[:32]+"...", fmt.Sprintf("the expression is longer than %d characters", MaxExpressionLength))
	}
	expr, tz, err = splitZonePrefix(orig, expr, tz)
	if err != nil {
		return Spec{}, err
	}
	loc, err := LoadLocation(tz)
	if err != nil {
		return Spec{}, err
	}
	spec = Spec{expr: expr, loc: loc}

	if strings.HasPrefix(expr, "@") {
		name, arg, _ := strings.Cut(expr, " ")
		name = strings.ToLower(name)
		if name == "@every" {
			d, err := parseEvery(orig, arg)
			if err != nil {
				return Spec{}, err
			}
			spec.every = d
			spec.sched = cron.Every(d)
			return spec, nil
		}
		if strings.TrimSpace(arg) != "" {
			return Spec{}, exprError(orig, fmt.Sprintf("descriptor %s takes no argument", name))
		}
		expr = name
	}

	sched, err := parseCron(expr)
	if err != nil {
		return Spec{}, exprError(orig, err.Error())
	}
	ss, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return Spec{}, exprError(orig, fmt.Sprintf("unexpected schedule type %T", sched))
	}
	// The zone is applied by Next; a Local schedule is evaluated in the zone
	// of the time it is given.
	ss.Location = time.Local
	spec.sched = ss
	spec.wallClock = ss.Hour&allHours != allHours
	if spec.Next(time.Now()).IsZero() {
		return Spec{}, exprError(orig, "it never fires (no matching date in the next five years)")
	}
	return spec, nil
}

// parseCron calls the robfig parser, turning a panic into an error.
func parseCron(expr string) (sched cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparsable: %v", r)
		}
	}()
	return parser.Parse(expr)
}

// parseEvery parses the duration of an @every descriptor.
func parseEvery(orig, arg string) (time.Duration, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return 0, exprError(orig, "@every needs a duration, such as @every 5m")
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return 0, exprError(orig, fmt.Sprintf("@every duration %q is not a Go duration such as 30s, 5m or 1h30m", arg))
	}
	if d < time.Second {
		return 0, exprError(orig, fmt.Sprintf("@every duration %s must be at least 1s", d))
	}
	if d%time.Second != 0 {
		return 0, exprError(orig, fmt.Sprintf("@every duration %s must be a whole number of seconds", d))
	}
	return d, nil
}

// splitZonePrefix removes a leading "CRON_TZ=Zone " or "TZ=Zone " from expr
// and returns the zone to use.
func splitZonePrefix(orig, expr, tz string) (string, string, error) {
	var prefix string
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if strings.HasPrefix(expr, p) {
			prefix = p
			break
		}
	}
	if prefix == "" {
		return expr, tz, nil
	}
	zone, rest, ok := strings.Cut(strings.TrimPrefix(expr, prefix), " ")
	rest = strings.TrimSpace(rest)
	if !ok || zone == "" || rest == "" {
		return "", "", exprError(orig, fmt.Sprintf("%s must be followed by a zone and a schedule, such as %sEurope/Paris 0 9 * * *", prefix, prefix))
	}
	if strings.HasPrefix(rest, "TZ=") || strings.HasPrefix(rest, "CRON_TZ=") {
		return "", "", exprError(orig, "it gives the time zone twice")
	}
	if tz = strings.TrimSpace(tz); tz != "" && tz != zone {
		return "", "", exprError(orig, fmt.Sprintf("its time zone %q differs from the schedule's timezone %q", zone, tz))
	}
	return rest, zone, nil
}

// LoadLocation resolves an IANA zone name; empty means UTC. "Local" and
// unknown names give an InvalidArgument error naming the zone.
func LoadLocation(tz string) (*time.Location, error) {
	name := strings.TrimSpace(tz)
	switch {
	case name == "":
		return time.UTC, nil
	case strings.EqualFold(name, "Local"):
		return nil, zoneError(tz, `"Local" depends on the server; give an IANA zone such as Europe/Paris, or UTC`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, zoneError(tz, "not a known IANA time zone (such as UTC, Europe/Paris or America/New_York)")
	}
	return loc, nil
}

// Validate reports whether expr and tz parse.
func Validate(expr, tz string) error {
	_, err := Parse(expr, tz)
	return err
}

// NextAfter parses expr in tz and returns its first run strictly after
// after, in UTC.
func NextAfter(expr, tz string, after time.Time) (time.Time, error) {
	s, err := Parse(expr, tz)
	if err != nil {
		return time.Time{}, err
	}
	return s.Next(after), nil
}

func exprError(expr, why string) *core.Error {
	return core.Errorf(core.KindInvalidArgument, "invalid cron expression %q: %s", expr, why).
		WithDetail("field", "cron_expression").WithDetail("value", expr)
}

func zoneError(tz, why string) *core.Error {
	return core.Errorf(core.KindInvalidArgument, "invalid time zone %q: %s", tz, why).
		WithDetail("field", "timezone").WithDetail("value", tz)
}

// String returns the expression as parsed (without a zone prefix).
func (s Spec) String() string { return s.expr }

// Expression returns the expression as parsed (without a zone prefix).
func (s Spec) Expression() string { return s.expr }

// Location returns the schedule's time zone (UTC for the zero Spec).
func (s Spec) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// Every returns the interval of an @every schedule, and 0 for others.
func (s Spec) Every() time.Duration { return s.every }

// IsZero reports whether s is the zero Spec.
func (s Spec) IsZero() bool { return s.sched == nil }

// Next returns the schedule's first run strictly after after, in UTC, or the
// zero time when there is none in the next five years (or s is zero).
// Runs are whole seconds.
func (s Spec) Next(after time.Time) time.Time {
	if s.sched == nil {
		return time.Time{}
	}
	after = after.In(s.Location())
	next := s.sched.Next(after)
	if next.IsZero() || !s.wallClock {
		return next.UTC()
	}
	if t, ok := s.gapRun(after, next); ok {
		return t.UTC()
	}
	// Skip second occurrences of a wall-clock time when clocks fall back.
	// The bound only guards against a zone database gone mad.
	for i := 0; i < 10_000 && !next.IsZero() && repeatedWallClock(next); i++ {
		next = s.sched.Next(next)
	}
	return next.UTC()
}

// gapRun finds a run whose wall-clock time was skipped by a spring-forward
// change between after and next: such a run happens at the instant of the
// change.
func (s Spec) gapRun(after, next time.Time) (time.Time, bool) {
	t := after
	for range 64 { // a few transitions a year, next is at most five years away
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(next) {
			return time.Time{}, false
		}
		_, before := t.Zone()
		_, afterChange := end.Zone()
		if gap := time.Duration(afterChange-before) * time.Second; gap > 0 {
			// Evaluate the schedule as if the old offset had continued: a run
			// before end+gap fell on a wall-clock time that did not exist.
			old := time.FixedZone("", before)
			if r := s.sched.Next(end.Add(-time.Second).In(old)); !r.IsZero() && r.Before(end.Add(gap)) {
				return end, true
			}
		}
		t = end
	}
	return time.Time{}, false
}

// repeatedWallClock reports whether t's wall-clock time already happened
// earlier because clocks were turned back.
func repeatedWallClock(t time.Time) bool {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, now := t.Zone()
	_, before := start.Add(-time.Nanosecond).Zone()
	back := time.Duration(before-now) * time.Second
	return back > 0 && t.Sub(start) < back
}

// Tick is the outcome of Advance.
type Tick struct {
	// Due is true when the stored next run is at or before now: enqueue one
	// job for it.
	Due bool
	// ScheduledAt is the run being fired (the stored next run) when Due.
	ScheduledAt time.Time
	// Missed counts further runs between ScheduledAt and now that are folded
	// into this one (0 when the scheduler was on time), capped at
	// MaxMissedCount.
	Missed int
	// Next is the run to store as next_run_at: the first run strictly after
	// now when Due, else the stored next run (or, when none was stored, the
	// first run after now). Zero when the schedule never fires again.
	Next time.Time
}

// MaxMissedCount caps Tick.Missed, so that a frequent schedule down for a
// long time costs little to advance.
const MaxMissedCount = 1000

// Advance decides what a scheduler does with a schedule whose stored
// next_run_at is nextRunAt (zero when none was computed yet) at time now.
// A tick at or before now is due and fires once however many runs were
// missed while the server was down; the next run is then the first one
// strictly after now.
func (s Spec) Advance(nextRunAt, now time.Time) Tick {
	now = now.UTC()
	switch {
	case s.sched == nil:
		return Tick{}
	case nextRunAt.IsZero():
		return Tick{Next: s.Next(now)}
	case nextRunAt.After(now):
		return Tick{Next: nextRunAt.UTC()}
	}
	t := Tick{Due: true, ScheduledAt: nextRunAt.UTC(), Next: s.Next(now)}
	for r := s.Next(nextRunAt); !r.IsZero() && !r.After(now) && t.Missed < MaxMissedCount; r = s.Next(r) {
		t.Missed++
	}
	return t
}

// Missed reports whether the run stored as nextRunAt was missed (it is at
// or before now and has not fired), and the next run strictly after now to
// store. A tick missed while down fires once, whatever the number of runs
// missed. See Advance for the details.
func (s Spec) Missed(nextRunAt, now time.Time) (missed bool, next time.Time) {
	t := s.Advance(nextRunAt, now)
	return t.Due, t.Next
}
