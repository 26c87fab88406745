package worker

import (
	"bytes"
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// DefaultMemoryLimitMB is a worker's memory limit when none is configured.
const DefaultMemoryLimitMB = 512

// watchInterval is how often the watchdog samples the heap while an
// execution runs. Executions shorter than this never pay for a sample.
const watchInterval = 10 * time.Millisecond

// memoryGuard enforces a worker's memory limit in three layers:
//
//   - debug.SetMemoryLimit makes the Go runtime collect harder as the
//     process nears the limit, so garbage never counts against a task;
//   - a watchdog samples the heap while an execution runs and interrupts
//     it with MemoryLimitError when the live heap passes 90% of the limit
//     (or the heap, garbage included, passes the limit: the collector is
//     losing);
//   - an OS limit on the data segment (RLIMIT_DATA, a generous multiple of
//     the limit) kills the process when an allocation outruns the
//     watchdog, such as one huge string built by a single call; the pool
//     reports that as WorkerCrashError.
type memoryGuard struct {
	limit     int64 // bytes; 0 means no limit
	threshold int64 // live heap that trips the watchdog
}

func newMemoryGuard(limitBytes int64) *memoryGuard {
	if limitBytes <= 0 {
		return &memoryGuard{}
	}
	return &memoryGuard{limit: limitBytes, threshold: limitBytes / 10 * 9}
}

// apply sets the Go and OS limits for this process. It answers the OS limit
// it set, 0 when none.
func (g *memoryGuard) apply() (osLimit uint64, err error) {
	if g.limit <= 0 {
		return 0, nil
	}
	debug.SetMemoryLimit(g.limit)
	return setOSMemoryLimit(osMemoryLimit(g.limit))
}

// osMemoryLimit is the backstop: twice the limit plus room for the
// runtime's own mappings, so only a runaway allocation ever reaches it.
func osMemoryLimit(limit int64) uint64 {
	return uint64(2*limit + 256<<20)
}

func (g *memoryGuard) limitError() *core.Error {
	return core.Errorf(core.KindMemoryLimit, "execution exceeded the worker's memory limit of %d MB", g.limit>>20).
		WithDetail("memory_limit_bytes", g.limit)
}

// release returns the memory of an execution that hit the limit to the OS.
func (g *memoryGuard) release() { debug.FreeOSMemory() }

// watchdog watches one execution.
type watchdog struct {
	g      *memoryGuard
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	fired   bool
}

// watch starts watching an execution; cancel interrupts it.
func (g *memoryGuard) watch(cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{g: g, cancel: cancel}
	if g.limit > 0 {
		w.mu.Lock()
		w.timer = time.AfterFunc(watchInterval, w.check)
		w.mu.Unlock()
	}
	return w
}

func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	live, objects := heapSample()
	if live >= w.g.threshold || objects >= w.g.limit {
		w.fired = true
		w.cancel(w.g.limitError())
		return
	}
	w.timer.Reset(watchInterval)
}

// stop ends the watch and tells whether the watchdog interrupted the
// execution.
func (w *watchdog) stop() (fired bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	return w.fired
}

const (
	metricHeapLive    = "/gc/heap/live:bytes"
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
)

// heapSample reads the live heap (as of the last GC) and the bytes in heap
// objects, live or not yet swept.
func heapSample() (live, objects int64) {
	s := [2]metrics.Sample{{Name: metricHeapLive}, {Name: metricHeapObjects}}
	metrics.Read(s[:])
	return sampleInt(s[0]), sampleInt(s[1])
}

func heapLive() int64 {
	s := [1]metrics.Sample{{Name: metricHeapLive}}
	metrics.Read(s[:])
	return sampleInt(s[0])
}

func sampleInt(s metrics.Sample) int64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s.Value.Uint64())
}

// procStats reads the process's resident set size from /proc/self/statm,
// kept open so that a read is one pread.
type procStats struct {
	mu   sync.Mutex
	f    *os.File
	buf  [128]byte
	page int64
}

func openProcStats() *procStats {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return &procStats{}
	}
	return &procStats{f: f, page: int64(os.Getpagesize())}
}

// rss answers the resident set size in bytes, 0 when unknown.
func (p *procStats) rss() int64 {
	if p.f == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n, _ := p.f.ReadAt(p.buf[:], 0)
	// statm: size resident shared text lib data dt (in pages)
	fields := bytes.Fields(p.buf[:n])
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * p.page
}
