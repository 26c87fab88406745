package middleware_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

func TestEffectiveRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile    string
		rpm, burst int
		want       middleware.RateProfile
	}{
		{"default", 60, 10, middleware.RateProfile{RequestsPerMinute: 60, Burst: 10}},
		{"", 60, 10, middleware.RateProfile{RequestsPerMinute: 60, Burst: 10}},
		{"permissive", 60, 10, middleware.RateProfile{RequestsPerMinute: 1000, Burst: 100}},
		{"strict", 60, 10, middleware.RateProfile{RequestsPerMinute: 30, Burst: 5}},
		{"strict", 0, 0, middleware.RateProfile{RequestsPerMinute: 30, Burst: 5}},
		{"strict", 120, 10, middleware.RateProfile{RequestsPerMinute: 120, Burst: 5}},
		{"permissive", 60, 7, middleware.RateProfile{RequestsPerMinute: 1000, Burst: 7}},
		{"default", 5, 1, middleware.RateProfile{RequestsPerMinute: 5, Burst: 1}},
		{"default", 0, 0, middleware.RateProfile{RequestsPerMinute: 60, Burst: 10}},
	}
	for _, tt := range tests {
		got, err := middleware.EffectiveRateLimit(config.RateLimitConfig{Enabled: true, Profile: tt.profile, RequestsPerMinute: tt.rpm, BurstSize: tt.burst})
		if err != nil || got != tt.want {
			t.Errorf("%q %d/%d: %+v %v, want %+v", tt.profile, tt.rpm, tt.burst, got, err, tt.want)
		}
	}
	if _, err := middleware.EffectiveRateLimit(config.RateLimitConfig{Profile: "lax"}); err == nil {
		t.Error("unknown profile accepted")
	}
}

// clock is a manual clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }

func TestRateLimiterRefill(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	l, err := middleware.NewRateLimiter(middleware.RateLimitConfig{
		RateProfile: middleware.RateProfile{RequestsPerMinute: 60, Burst: 3}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		d := l.Allow("a")
		if !d.Allowed || d.Remaining != 2-i || d.Limit != 60 {
			t.Fatalf("request %d: %+v", i+1, d)
		}
	}
	d := l.Allow("a")
	if d.Allowed || d.RetryAfter != time.Second || d.Remaining != 0 {
		t.Fatalf("4th: %+v", d)
	}
	if want := clk.now.Add(3 * time.Second); !d.Reset.Equal(want) {
		t.Errorf("reset %v, want %v", d.Reset, want)
	}
	clk.advance(time.Second) // one token back
	if d := l.Allow("a"); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after 1 s: %+v", d)
	}
	if d := l.Allow("a"); d.Allowed {
		t.Fatalf("second after 1 s: %+v", d)
	}
	clk.advance(time.Hour)
	if d := l.Allow("a"); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("after an hour: %+v", d)
	}
}

func TestRateLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	l, err := middleware.NewRateLimiter(middleware.RateLimitConfig{
		RateProfile: middleware.RateProfile{RequestsPerMinute: 60, Burst: 10}, Now: clk.Now, MaxClients: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		l.Allow(fmt.Sprintf("ip:%d", i))
		if n := l.Clients(); n > 100 {
			t.Fatalf("%d buckets after %d clients, max 100", n, i+1)
		}
	}
	// Idle buckets go at the next sweep: refill time (10 s) + 1 min.
	clk.advance(71 * time.Second)
	l.Allow("new")
	if n := l.Clients(); n != 1 {
		t.Fatalf("%d buckets after the idle ones expired, want 1", n)
	}
	// An active client's bucket survives sweeps while it is used.
	for range 5 {
		l.Allow("busy")
	}
	for range 3 {
		clk.advance(40 * time.Second)
		l.Allow("busy")
		l.Allow(fmt.Sprint("other", clk.now.Unix()))
	}
	if d := l.Allow("busy"); d.Remaining == 9 {
		t.Error("the busy client's bucket was dropped")
	}
}

func TestNewRateLimiterRefusesZero(t *testing.T) {
	t.Parallel()
	if _, err := middleware.NewRateLimiter(middleware.RateLimitConfig{}); err == nil {
		t.Fatal("zero limits accepted")
	}
}
