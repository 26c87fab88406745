DROP TABLE IF EXISTS api_keys;
--bun:split
DROP TABLE IF EXISTS workers;
--bun:split
DROP TABLE IF EXISTS nodes;
--bun:split
DROP TABLE IF EXISTS delivery_results;
--bun:split
{{if .Postgres}}
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_execution_id_fkey;
--bun:split
{{else}}
UPDATE jobs SET execution_id = NULL;
--bun:split
{{end}}
DROP TABLE IF EXISTS executions;
--bun:split
DROP TABLE IF EXISTS jobs;
--bun:split
DROP TABLE IF EXISTS schedules;
--bun:split
DROP TABLE IF EXISTS task_versions;
--bun:split
DROP TABLE IF EXISTS tasks;
