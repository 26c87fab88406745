// Package cronspec parses schedule expressions and computes their run times:
// the cron part of Ratchet's scheduler (SPEC §3 Schedules).
//
// # Expressions
//
// Parse accepts, through github.com/robfig/cron/v3:
//
//   - 5 fields: minute hour day-of-month month day-of-week ("*/5 * * * *");
//   - 6 fields, seconds first: second minute hour dom month dow ("*/10 * * * * *");
//   - descriptors: @yearly (@annually), @monthly, @weekly, @daily (@midnight),
//     @hourly, and @every DURATION (a Go duration of at least one second and
//     a whole number of seconds: "@every 5m", "@every 1h30m").
//
// Fields take numbers, ranges (1-5), steps (*/15, 10-50/10), lists (1,15)
// and month/day names (JAN-DEC, SUN-SAT, case-insensitive); day-of-week runs
// 0-6 from Sunday; "?" means "*" in the day fields. When both day fields are
// restricted a day matching either one fires, as in Vixie cron.
// A leading "CRON_TZ=Zone " or "TZ=Zone " is accepted as another way to give
// the time zone; it must agree with the tz argument when both are given.
// Expressions that can never fire (30 February) are rejected.
//
// # Time zones and daylight saving time
//
// The time zone is an IANA name ("Europe/Paris"); empty means UTC. "Local" is
// refused: it would make a schedule fire at different instants on nodes with
// different system zones. The zone database is embedded (time/tzdata), so
// zones work on hosts without /usr/share/zoneinfo.
//
// Expressions are evaluated in wall-clock time of the zone. Around DST
// changes, fixed-hour schedules behave like Vixie cron:
//
//   - a wall-clock time that does not exist on the day clocks spring forward
//     (02:30 in New York) fires once, at the instant of the change (03:00
//     EDT), instead of being skipped for the day;
//   - a wall-clock time that happens twice when clocks fall back (01:30 in
//     New York) fires once, at its first occurrence.
//
// Schedules whose hour field is "*" (every hour, every 15 minutes) follow
// real time instead: they fire at every wall-clock match, so an hourly
// schedule fires every real hour across both changes. @every schedules are
// plain durations and ignore zones.
//
// All times returned are in UTC; convert with Spec.Location for display.
//
// # Missed ticks
//
// A scheduler stores each schedule's next_run_at. Spec.Advance tells it,
// given that stored time and now, whether a tick is due and which tick comes
// next. However many ticks passed while the server was down, the result
// fires once, for the oldest missed tick (Tick.ScheduledAt), and Next is the
// first tick strictly after now. Ticks are identified by ScheduledAt, so a
// scheduler that advances next_run_at from ScheduledAt to Next with a
// compare-and-set, or keys the job's idempotency on (schedule, ScheduledAt),
// enqueues exactly one job per tick across restarts and nodes.
package cronspec
