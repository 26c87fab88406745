package worker

import "golang.org/x/sys/unix"

// setOSMemoryLimit caps the process's data segment, which on Linux 4.7+
// counts every private writable mapping: the Go heap as the runtime maps it
// in, but not the address space it only reserves. RLIMIT_AS would count
// those reservations (and the race detector's shadow memory) and fail
// healthy processes. Under the race detector no OS limit is set at all.
func setOSMemoryLimit(limit uint64) (uint64, error) {
	if raceEnabled {
		return 0, nil
	}
	var cur unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_DATA, &cur); err != nil {
		return 0, err
	}
	if cur.Max != unix.RLIM_INFINITY && cur.Max < limit {
		limit = cur.Max
	}
	if err := unix.Setrlimit(unix.RLIMIT_DATA, &unix.Rlimit{Cur: limit, Max: limit}); err != nil {
		return 0, err
	}
	return limit, nil
}
