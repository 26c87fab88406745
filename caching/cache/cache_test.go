package cache_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/caching/cache"
)

// clock is a fake clock safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// evictions records OnEvict calls as "key=value".
type evictions struct {
	mu  sync.Mutex
	log []string
}

func (e *evictions) record(k string, v string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, k+"="+v)
}

func (e *evictions) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.log, " ")
}

func newCache(t *testing.T, opts cache.Options[string, string]) *cache.Cache[string, string] {
	t.Helper()
	c, err := cache.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func byLen(v string) int64 { return int64(len(v)) }

// contents lists the keys present, in sorted order, without touching recency.
func contents(c *cache.Cache[string, string], keys ...string) string {
	var present []string
	for _, k := range keys {
		if _, ok := c.Peek(k); ok {
			present = append(present, k)
		}
	}
	slices.Sort(present)
	return strings.Join(present, ",")
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts cache.Options[string, string]
		want string
	}{
		{"no bound", cache.Options[string, string]{}, "set MaxEntries or MaxBytes"},
		{"negative entries", cache.Options[string, string]{MaxEntries: -1}, "MaxEntries must not be negative"},
		{"negative bytes", cache.Options[string, string]{MaxBytes: -1, MaxEntries: 1}, "MaxBytes must not be negative"},
		{"negative TTL", cache.Options[string, string]{MaxEntries: 1, TTL: -time.Second}, "TTL must not be negative"},
		{"bytes without SizeOf", cache.Options[string, string]{MaxBytes: 10}, "MaxBytes needs SizeOf"},
		{"entries only", cache.Options[string, string]{MaxEntries: 1}, ""},
		{"bytes only", cache.Options[string, string]{MaxBytes: 1, SizeOf: byLen}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := cache.New(tt.opts)
			if tt.want == "" {
				if err != nil || c == nil {
					t.Errorf("New() = %v, %v; want a cache", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestGetSetDelete(t *testing.T) {
	t.Parallel()
	c := newCache(t, cache.Options[string, string]{MaxEntries: 10})
	if _, ok := c.Get("a"); ok {
		t.Fatal("Get on empty cache found a value")
	}
	c.Set("a", "1")
	c.Set("b", "2")
	if v, ok := c.Get("a"); !ok || v != "1" {
		t.Errorf("Get(a) = %q, %v; want 1, true", v, ok)
	}
	c.Set("a", "one")
	if v, _ := c.Get("a"); v != "one" {
		t.Errorf("Get(a) after overwrite = %q, want one", v)
	}
	if c.Len() != 2 {
		t.Errorf("Len() = %d, want 2", c.Len())
	}
	if !c.Delete("a") || c.Delete("a") {
		t.Error("Delete(a) should report true once, then false")
	}
	if _, ok := c.Get("a"); ok {
		t.Error("Get(a) after Delete found a value")
	}
	c.Purge()
	if c.Len() != 0 {
		t.Errorf("Len() after Purge = %d", c.Len())
	}
}

func TestEvictionOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ops     []string // "set:k" or "get:k"
		want    string   // keys left
		evicted string   // OnEvict calls in order
	}{
		{"oldest goes first", []string{"set:a", "set:b", "set:c", "set:d"}, "b,c,d", "a=a"},
		{"get refreshes", []string{"set:a", "set:b", "set:c", "get:a", "set:d"}, "a,c,d", "b=b"},
		{"overwrite refreshes", []string{"set:a", "set:b", "set:c", "set:a", "set:d", "set:e"}, "a,d,e", "b=b c=c"},
		{"overwrite does not evict", []string{"set:a", "set:b", "set:c", "set:c", "set:b"}, "a,b,c", ""},
		{"peek does not refresh", []string{"set:a", "set:b", "set:c", "peek:a", "set:d"}, "b,c,d", "a=a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := &evictions{}
			c := newCache(t, cache.Options[string, string]{MaxEntries: 3, OnEvict: ev.record})
			for _, op := range tt.ops {
				verb, key, _ := strings.Cut(op, ":")
				switch verb {
				case "set":
					c.Set(key, key)
				case "get":
					c.Get(key)
				case "peek":
					c.Peek(key)
				}
			}
			if got := contents(c, "a", "b", "c", "d", "e"); got != tt.want {
				t.Errorf("keys = %s, want %s", got, tt.want)
			}
			if got := ev.String(); got != tt.evicted {
				t.Errorf("evicted = %q, want %q", got, tt.evicted)
			}
			if got := c.Stats().Evictions; got != uint64(len(strings.Fields(tt.evicted))) {
				t.Errorf("Stats().Evictions = %d, want %d", got, len(strings.Fields(tt.evicted)))
			}
		})
	}
}

func TestByteBound(t *testing.T) {
	t.Parallel()
	ev := &evictions{}
	c := newCache(t, cache.Options[string, string]{MaxBytes: 10, SizeOf: byLen, OnEvict: ev.record})
	c.Set("a", "aaaa") // 4
	c.Set("b", "bbbb") // 8
	if c.Bytes() != 8 {
		t.Fatalf("Bytes() = %d, want 8", c.Bytes())
	}
	c.Get("a")         // b is now least recently used
	c.Set("c", "cccc") // 12 > 10: evict b
	if got := contents(c, "a", "b", "c"); got != "a,c" {
		t.Errorf("keys = %s, want a,c", got)
	}
	if c.Bytes() != 8 {
		t.Errorf("Bytes() = %d, want 8", c.Bytes())
	}
	c.Set("d", "dddddddddd") // 10 bytes alone: evicts a and c
	if got := contents(c, "a", "b", "c", "d"); got != "d" || c.Bytes() != 10 {
		t.Errorf("keys = %s, bytes %d; want d, 10", got, c.Bytes())
	}
	c.Set("d", "dd") // overwrite shrinks
	if c.Bytes() != 2 {
		t.Errorf("Bytes() after shrinking overwrite = %d, want 2", c.Bytes())
	}
	c.Set("e", "eeeeeeeeeee") // 11 > MaxBytes: not stored, nothing evicted
	if _, ok := c.Get("e"); ok {
		t.Error("a value larger than MaxBytes was stored")
	}
	if got := contents(c, "d", "e"); got != "d" {
		t.Errorf("keys = %s, want d", got)
	}
	c.Set("d", "ddddddddddddddd") // oversize overwrite removes the old value
	if _, ok := c.Get("d"); ok || c.Bytes() != 0 {
		t.Errorf("oversize overwrite left d (bytes %d)", c.Bytes())
	}
	if got, want := ev.String(), "b=bbbb a=aaaa c=cccc"; got != want {
		t.Errorf("evicted = %q, want %q", got, want)
	}
	c.Set("x", "xx")
	if !c.Delete("x") || c.Bytes() != 0 {
		t.Errorf("Bytes() after Delete = %d, want 0", c.Bytes())
	}
}

func TestCountAndByteBoundsTogether(t *testing.T) {
	t.Parallel()
	c := newCache(t, cache.Options[string, string]{MaxEntries: 2, MaxBytes: 100, SizeOf: byLen})
	c.Set("a", "1")
	c.Set("b", "2")
	c.Set("c", "3")
	if got := contents(c, "a", "b", "c"); got != "b,c" || c.Bytes() != 2 {
		t.Errorf("keys = %s, bytes = %d; want b,c and 2", got, c.Bytes())
	}
}

func TestNegativeSizeCountsAsZero(t *testing.T) {
	t.Parallel()
	c := newCache(t, cache.Options[string, string]{MaxEntries: 2, SizeOf: func(string) int64 { return -5 }})
	c.Set("a", "x")
	if c.Bytes() != 0 {
		t.Errorf("Bytes() = %d, want 0", c.Bytes())
	}
}

func TestTTL(t *testing.T) {
	t.Parallel()
	clk := newClock()
	ev := &evictions{}
	c := newCache(t, cache.Options[string, string]{MaxEntries: 10, TTL: time.Minute, Now: clk.Now, OnEvict: ev.record, SizeOf: byLen})
	c.Set("a", "1")
	c.SetWithTTL("long", "2", time.Hour)
	c.SetWithTTL("forever", "3", 0)

	clk.Advance(time.Minute - time.Nanosecond)
	if _, ok := c.Get("a"); !ok {
		t.Fatal("a expired before its TTL")
	}
	clk.Advance(time.Nanosecond)
	if _, ok := c.Peek("a"); ok {
		t.Error("Peek returned an expired entry")
	}
	if c.Len() != 3 {
		t.Errorf("Len() = %d, want 3: Peek must not drop entries", c.Len())
	}
	if _, ok := c.Get("a"); ok {
		t.Error("Get returned an expired entry")
	}
	if c.Len() != 2 || c.Bytes() != 2 {
		t.Errorf("after lazy expiry Len() = %d, Bytes() = %d; want 2, 2", c.Len(), c.Bytes())
	}

	clk.Advance(time.Hour)
	if n := c.PruneExpired(); n != 1 {
		t.Errorf("PruneExpired() = %d, want 1", n)
	}
	if got := contents(c, "a", "long", "forever"); got != "forever" {
		t.Errorf("keys = %s, want forever", got)
	}
	if n := c.PruneExpired(); n != 0 {
		t.Errorf("second PruneExpired() = %d, want 0", n)
	}
	s := c.Stats()
	if s.Expirations != 2 || s.Evictions != 0 {
		t.Errorf("Stats() = %+v, want 2 expirations, 0 evictions", s)
	}
	if got := ev.String(); got != "a=1 long=2" {
		t.Errorf("OnEvict calls = %q, want a=1 long=2", got)
	}

	c.Set("a", "again") // setting again restarts the TTL
	clk.Advance(30 * time.Second)
	if v, ok := c.Get("a"); !ok || v != "again" {
		t.Errorf("Get(a) = %q, %v after re-set", v, ok)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := newCache(t, cache.Options[string, string]{MaxEntries: 2, TTL: time.Second, Now: clk.Now, SizeOf: byLen})
	c.Set("a", "xx")
	c.Get("a")  // hit
	c.Get("a")  // hit
	c.Get("b")  // miss
	c.Peek("a") // not counted
	c.Set("b", "y")
	c.Set("c", "z") // evicts a
	clk.Advance(time.Second)
	c.Get("b") // expired: miss
	want := cache.Stats{Hits: 2, Misses: 2, Evictions: 1, Expirations: 1, Entries: 1, Bytes: 1}
	if got := c.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if r := want.HitRatio(); r != 0.5 {
		t.Errorf("HitRatio() = %v, want 0.5", r)
	}
	if r := (cache.Stats{}).HitRatio(); r != 0 {
		t.Errorf("HitRatio() of no lookups = %v, want 0", r)
	}
	c.Purge()
	if got := c.Stats(); got.Entries != 0 || got.Bytes != 0 || got.Hits != 2 {
		t.Errorf("Stats() after Purge = %+v, want no entries and counters kept", got)
	}
}

func TestOnEvictMayUseTheCache(t *testing.T) {
	t.Parallel()
	var c *cache.Cache[string, string]
	var seen []int
	c = newCache(t, cache.Options[string, string]{MaxEntries: 1, OnEvict: func(string, string) {
		seen = append(seen, c.Len()) // would deadlock if called under the lock
	}})
	c.Set("a", "1")
	c.Set("b", "2")
	if fmt.Sprint(seen) != "[1]" {
		t.Errorf("OnEvict saw Len() %v, want [1]", seen)
	}
}

func TestGetOrLoad(t *testing.T) {
	t.Parallel()
	c := newCache(t, cache.Options[string, string]{MaxEntries: 10})
	loads := 0
	load := func() (string, error) { loads++; return "v", nil }
	for range 3 {
		if v, err := c.GetOrLoad("k", load); err != nil || v != "v" {
			t.Fatalf("GetOrLoad() = %q, %v", v, err)
		}
	}
	if loads != 1 {
		t.Errorf("load called %d times, want 1", loads)
	}
	if s := c.Stats(); s.Hits != 2 || s.Misses != 1 {
		t.Errorf("Stats() = %+v, want 2 hits, 1 miss", s)
	}

	boom := errors.New("boom")
	if _, err := c.GetOrLoad("bad", func() (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Errorf("GetOrLoad() error = %v, want %v", err, boom)
	}
	if _, ok := c.Get("bad"); ok {
		t.Error("a failed load was cached")
	}
	if v, err := c.GetOrLoad("bad", func() (string, error) { return "ok", nil }); err != nil || v != "ok" {
		t.Errorf("GetOrLoad() after a failed load = %q, %v; want a new load", v, err)
	}
}

func TestGetOrLoadDedupes(t *testing.T) {
	t.Parallel()
	c, err := cache.New(cache.Options[string, int]{MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	const callers = 16
	var loads atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]int, callers)
	load := func() (int, error) {
		if loads.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42, nil
	}
	wg.Go(func() { results[0], _ = c.GetOrLoad("k", load) })
	<-started // the first load is in flight
	for i := 1; i < callers; i++ {
		wg.Go(func() { results[i], _ = c.GetOrLoad("k", load) })
	}
	// Wait until every caller has looked up the key and is waiting.
	for c.Stats().Misses < callers {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("load called %d times, want 1", n)
	}
	for i, r := range results {
		if r != 42 {
			t.Errorf("caller %d got %d, want 42", i, r)
		}
	}
}

func TestGetOrLoadSharesErrors(t *testing.T) {
	t.Parallel()
	c, err := cache.New(cache.Options[string, int]{MaxEntries: 10})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	release := make(chan struct{})
	started := make(chan struct{})
	var errs [2]error
	var wg sync.WaitGroup
	wg.Go(func() {
		_, errs[0] = c.GetOrLoad("k", func() (int, error) { close(started); <-release; return 0, boom })
	})
	<-started
	wg.Go(func() {
		_, errs[1] = c.GetOrLoad("k", func() (int, error) { t.Error("second load ran"); return 0, nil })
	})
	for c.Stats().Misses < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, boom) {
			t.Errorf("caller %d got %v, want %v", i, err, boom)
		}
	}
}

func TestGetOrLoadInvalidatedWhileLoading(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		invalidate func(c *cache.Cache[string, string])
		want       string // value left under k, "" for none
	}{
		{"delete", func(c *cache.Cache[string, string]) { c.Delete("k") }, ""},
		{"purge", func(c *cache.Cache[string, string]) { c.Purge() }, ""},
		{"set", func(c *cache.Cache[string, string]) { c.Set("k", "new") }, "new"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCache(t, cache.Options[string, string]{MaxEntries: 10})
			release := make(chan struct{})
			started := make(chan struct{})
			var got string
			var wg sync.WaitGroup
			wg.Go(func() {
				got, _ = c.GetOrLoad("k", func() (string, error) { close(started); <-release; return "stale", nil })
			})
			<-started
			tt.invalidate(c)
			// A caller arriving after the invalidation does not join the stale load.
			if tt.want == "" {
				if v, _ := c.GetOrLoad("k", func() (string, error) { return "fresh", nil }); v != "fresh" {
					t.Errorf("GetOrLoad after invalidation = %q, want a fresh load", v)
				}
				c.Delete("k")
			}
			close(release)
			wg.Wait()
			if got != "stale" {
				t.Errorf("first caller got %q, want the value it loaded", got)
			}
			v, _ := c.Peek("k")
			if v != tt.want {
				t.Errorf("value left under k = %q, want %q: the stale load must not be stored", v, tt.want)
			}
		})
	}
}

func TestGetOrLoadPanic(t *testing.T) {
	t.Parallel()
	c := newCache(t, cache.Options[string, string]{MaxEntries: 10})
	release := make(chan struct{})
	started := make(chan struct{})
	var waiterErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() {
			if recover() == nil {
				t.Error("the loader's panic was swallowed")
			}
		}()
		_, _ = c.GetOrLoad("k", func() (string, error) { close(started); <-release; panic("bug") })
	})
	<-started
	wg.Go(func() { _, waiterErr = c.GetOrLoad("k", func() (string, error) { return "", nil }) })
	for c.Stats().Misses < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if waiterErr == nil || !strings.Contains(waiterErr.Error(), "panicked") {
		t.Errorf("waiter got %v, want a panic error", waiterErr)
	}
	if v, err := c.GetOrLoad("k", func() (string, error) { return "ok", nil }); v != "ok" || err != nil {
		t.Errorf("GetOrLoad after a panicked load = %q, %v", v, err)
	}
}

func TestConcurrentAccess(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var evicted atomic.Int64
	c, err := cache.New(cache.Options[int, []byte]{
		MaxEntries: 64,
		MaxBytes:   2048,
		TTL:        time.Second,
		SizeOf:     func(b []byte) int64 { return int64(len(b)) },
		OnEvict:    func(int, []byte) { evicted.Add(1) },
		Now:        clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (g*31 + i) % 200
				switch i % 7 {
				case 0:
					c.Set(k, make([]byte, k%50))
				case 1:
					_, _ = c.GetOrLoad(k, func() ([]byte, error) { return make([]byte, 10), nil })
				case 2:
					c.Delete(k)
				case 3:
					if i%100 == 3 {
						clk.Advance(100 * time.Millisecond)
						c.PruneExpired()
					}
				case 4:
					_ = c.Stats()
				default:
					c.Get(k)
				}
			}
		})
	}
	wg.Wait()
	c.PruneExpired()
	s := c.Stats()
	if s.Entries > 64 || s.Bytes > 2048 || s.Bytes < 0 {
		t.Errorf("bounds broken: %+v", s)
	}
	if got := int64(s.Evictions + s.Expirations); got != evicted.Load() {
		t.Errorf("OnEvict called %d times, stats count %d", evicted.Load(), got)
	}
	var sum int64
	n := 0
	for k := range 200 {
		if v, ok := c.Peek(k); ok {
			sum += int64(len(v))
			n++
		}
	}
	if s.Bytes != sum || s.Entries != n {
		t.Errorf("Stats() = %+v, but the cache holds %d entries of %d bytes", s, n, sum)
	}
}

func BenchmarkGetHit(b *testing.B) {
	c, _ := cache.New(cache.Options[int, int]{MaxEntries: 1024})
	for i := range 1024 {
		c.Set(i, i)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.Get(i & 1023)
			i++
		}
	})
}
