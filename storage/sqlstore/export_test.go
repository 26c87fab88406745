package sqlstore

// SetSQLiteWriters sets the size of SQLite's write pool for stores opened
// afterwards (benchmarks compare 1 with more).
func SetSQLiteWriters(n int) { sqliteWriters = n }
