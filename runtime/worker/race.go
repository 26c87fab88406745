//go:build race

package worker

// raceEnabled: the race detector maps shadow memory that an OS memory limit
// would count.
const raceEnabled = true
