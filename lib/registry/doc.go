// Package registry loads tasks from the configured registry sources into the
// database, keeps them in sync while they change on disk, and creates,
// updates and deletes the tasks uploaded through the API (SPEC §2.1, §3
// Registry).
//
// # Sources
//
// A source is a file:// URI or a plain path (relative paths are resolved
// against the working directory at New) naming one of:
//
//   - a task folder (it holds a main.js or a metadata.json) or a task .zip:
//     the source is that one task;
//   - a folder of tasks: each sub-folder holding a main.js or a
//     metadata.json, and each .zip file directly inside it, is a task.
//     Hidden entries (".git") and entries matching the source's ignore
//     patterns are skipped.
//
// Start (and Reload) load every source: each task is saved by name with
// sqlstore's TaskRepo.Save, so an unchanged checksum adds no version and a
// changed one adds a version. The task's source column holds the source's
// URI as configured. A task that does not load (a syntax error, an invalid
// schema, a missing main.js) does not stop the others: its load_error is
// recorded on its row, which is created (disabled, with no version) when the
// task was never loaded before, keyed by the name in its metadata.json or
// else the folder or zip name. Its last good version, if any, stays the
// current one. When it loads again, load_error is cleared.
//
// # Removed tasks
//
// A task whose folder or zip is gone from its source (or whose folder no
// longer holds a main.js or metadata.json, or whose source path is gone) is
// disabled, not deleted: its versions, jobs and executions are kept, and its
// load_error says it was removed. When it comes back it is enabled again.
// Other disabled tasks keep the enabled flag a user gave them.
//
// # Ownership
//
// A source only writes tasks it owns: tasks whose source is its URI, or a
// registry source no longer configured (a source moved in the config takes
// its tasks over). A task of the same name created through the API, by a
// plugin or by another configured source is left alone and the clash is
// reported as a failed load. Conversely, UpdateFromFiles refuses tasks
// owned by a configured source: their files on disk are the truth. Delete
// works on any task; a task still on disk comes back at the next reload.
//
// # Watching
//
// With watch on, a source is watched with fsnotify: its folder and the
// folders below it down to a task's tests folder (two levels; new ones are
// added as they appear), or the folder holding a zip source. Events whose
// path relative to the source, or any of its parent folders or base name,
// matches one of ignore_patterns are dropped (patterns are path.Match globs
// where "**" also matches any number of folders: "*.tmp", ".git/**",
// "node_modules"). Events are debounced per source (debounce_ms, default
// 500): a burst of writes gives one reload, of the affected tasks only.
//
// # Changes
//
// Every operation reports what it did as Changes, and Config.OnChange
// receives the ones that changed something (not TaskUnchanged), for
// example so that a task content cache can drop old checksums.
//
// # Content and checksums
//
// A version holds the task's code, schemas, metadata.json and its test
// files as a JSON array of objects (each test file's object with a "file"
// member naming it, the form the API takes). The checksum covers all of
// them: a changed test makes a new version too. VersionFiles turns a version
// back into files.
package registry
