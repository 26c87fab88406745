-- Ratchet's initial schema. Rendered with text/template for the dialect:
-- {{.PK}} is an auto-increment 64-bit primary key, {{.Time}} a UTC timestamp
-- (TEXT in SQLite, written by bun in one sortable layout), {{.JSON}} a JSON
-- document kept byte for byte.

CREATE TABLE tasks (
    id {{.PK}},
    uuid TEXT NOT NULL,
    name TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    tags {{.JSON}},
    author TEXT NOT NULL DEFAULT '',
    timeout_ms BIGINT NOT NULL DEFAULT 0,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    input_schema {{.JSON}},
    output_schema {{.JSON}},
    metadata {{.JSON}},
    source TEXT NOT NULL DEFAULT '',
    load_error TEXT NOT NULL DEFAULT '',
    checksum TEXT NOT NULL DEFAULT '',
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX tasks_uuid_key ON tasks (uuid);
--bun:split
CREATE UNIQUE INDEX tasks_name_key ON tasks (name);
--bun:split
CREATE INDEX tasks_enabled_idx ON tasks (enabled);
--bun:split
CREATE INDEX tasks_created_at_idx ON tasks (created_at);
--bun:split
CREATE INDEX tasks_updated_at_idx ON tasks (updated_at);
--bun:split

CREATE TABLE task_versions (
    id {{.PK}},
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    version TEXT NOT NULL DEFAULT '',
    checksum TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    input_schema {{.JSON}},
    output_schema {{.JSON}},
    metadata {{.JSON}},
    tests {{.JSON}},
    created_at {{.Time}} NOT NULL
);
--bun:split
CREATE INDEX task_versions_task_id_idx ON task_versions (task_id, id);
--bun:split

CREATE TABLE schedules (
    id {{.PK}},
    uuid TEXT NOT NULL,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    cron_expression TEXT NOT NULL,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    input {{.JSON}},
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    max_executions INTEGER,
    execution_count INTEGER NOT NULL DEFAULT 0,
    next_run_at {{.Time}},
    last_run_at {{.Time}},
    output_destinations {{.JSON}},
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL
);
--bun:split
CREATE UNIQUE INDEX schedules_uuid_key ON schedules (uuid);
--bun:split
CREATE INDEX schedules_task_id_idx ON schedules (task_id);
--bun:split
CREATE INDEX schedules_name_idx ON schedules (name);
--bun:split
CREATE INDEX schedules_due_idx ON schedules (next_run_at) WHERE enabled;
--bun:split

-- jobs.execution_id references executions, created below: SQLite accepts
-- the forward reference, PostgreSQL gets the constraint by ALTER TABLE.
CREATE TABLE jobs (
    id {{.PK}},
    uuid TEXT NOT NULL,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    task_name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    priority SMALLINT NOT NULL DEFAULT 1,
    input {{.JSON}},
    output {{.JSON}},
    error_type TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL DEFAULT 0,
    retry_delay_seconds INTEGER NOT NULL DEFAULT 0,
    timeout_seconds INTEGER NOT NULL DEFAULT 0,
    process_at {{.Time}} NOT NULL,
    schedule_id BIGINT REFERENCES schedules (id) ON DELETE SET NULL,
    idempotency_key TEXT,
    execution_id BIGINT{{if not .Postgres}} REFERENCES executions (id) ON DELETE SET NULL{{end}},
    output_destinations {{.JSON}},
    metadata {{.JSON}},
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_expires_at {{.Time}},
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL,
    started_at {{.Time}},
    completed_at {{.Time}}
);
--bun:split
CREATE UNIQUE INDEX jobs_uuid_key ON jobs (uuid);
--bun:split
CREATE UNIQUE INDEX jobs_idempotency_key_key ON jobs (idempotency_key);
--bun:split
-- The claim query: ready jobs by priority, then age, then id.
CREATE INDEX jobs_claim_idx ON jobs (priority DESC, process_at, id) WHERE status IN ('queued', 'retrying');
--bun:split
-- Expired leases (ReclaimExpired).
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE status = 'processing';
--bun:split
-- List filters, queue depth and retention.
CREATE INDEX jobs_status_idx ON jobs (status, priority);
--bun:split
CREATE INDEX jobs_task_id_idx ON jobs (task_id, status, priority);
--bun:split
CREATE INDEX jobs_task_name_idx ON jobs (task_name);
--bun:split
CREATE INDEX jobs_schedule_id_idx ON jobs (schedule_id) WHERE schedule_id IS NOT NULL;
--bun:split
CREATE INDEX jobs_execution_id_idx ON jobs (execution_id) WHERE execution_id IS NOT NULL;
--bun:split
CREATE INDEX jobs_created_at_idx ON jobs (created_at);
--bun:split
CREATE INDEX jobs_completed_at_idx ON jobs (completed_at) WHERE completed_at IS NOT NULL;
--bun:split

CREATE TABLE executions (
    id {{.PK}},
    uuid TEXT NOT NULL,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    task_name TEXT NOT NULL DEFAULT '',
    task_version TEXT NOT NULL DEFAULT '',
    job_id BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    input {{.JSON}},
    output {{.JSON}},
    error_type TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    error_details {{.JSON}},
    logs {{.JSON}},
    http_requests {{.JSON}},
    worker_id TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 1,
    queued_at {{.Time}} NOT NULL,
    started_at {{.Time}},
    completed_at {{.Time}},
    duration_ms BIGINT
);
--bun:split
CREATE UNIQUE INDEX executions_uuid_key ON executions (uuid);
--bun:split
CREATE INDEX executions_task_id_idx ON executions (task_id, status);
--bun:split
CREATE INDEX executions_job_id_idx ON executions (job_id) WHERE job_id IS NOT NULL;
--bun:split
CREATE INDEX executions_status_idx ON executions (status);
--bun:split
CREATE INDEX executions_error_type_idx ON executions (error_type);
--bun:split
CREATE INDEX executions_worker_id_idx ON executions (worker_id);
--bun:split
CREATE INDEX executions_queued_at_idx ON executions (queued_at);
--bun:split
CREATE INDEX executions_completed_at_idx ON executions (completed_at) WHERE completed_at IS NOT NULL;
--bun:split
{{if .Postgres}}
ALTER TABLE jobs ADD CONSTRAINT jobs_execution_id_fkey
    FOREIGN KEY (execution_id) REFERENCES executions (id) ON DELETE SET NULL;
--bun:split
{{end}}

CREATE TABLE delivery_results (
    id {{.PK}},
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    execution_id BIGINT REFERENCES executions (id) ON DELETE CASCADE,
    destination_type TEXT NOT NULL,
    destination TEXT NOT NULL DEFAULT '',
    success BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    status_code INTEGER,
    error_message TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0,
    created_at {{.Time}} NOT NULL
);
--bun:split
CREATE INDEX delivery_results_job_id_idx ON delivery_results (job_id, id);
--bun:split
CREATE INDEX delivery_results_execution_id_idx ON delivery_results (execution_id) WHERE execution_id IS NOT NULL;
--bun:split
CREATE INDEX delivery_results_created_at_idx ON delivery_results (created_at);
--bun:split

-- Nodes are the ratchet serve processes sharing the database; each reports
-- its worker pool with every heartbeat, so GET /workers shows every node.
CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    hostname TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    started_at {{.Time}} NOT NULL,
    last_heartbeat_at {{.Time}} NOT NULL
);
--bun:split
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    node TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
    pid INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    current_execution_id BIGINT,
    executions_total BIGINT NOT NULL DEFAULT 0,
    failures_total BIGINT NOT NULL DEFAULT 0,
    restarts INTEGER NOT NULL DEFAULT 0,
    memory_bytes BIGINT NOT NULL DEFAULT 0,
    started_at {{.Time}} NOT NULL,
    last_heartbeat_at {{.Time}}
);
--bun:split
CREATE INDEX workers_node_idx ON workers (node);
--bun:split
CREATE INDEX workers_status_idx ON workers (status);
--bun:split

CREATE TABLE api_keys (
    id {{.PK}},
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    prefix TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    created_at {{.Time}} NOT NULL,
    last_used_at {{.Time}},
    revoked_at {{.Time}}
);
--bun:split
CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash);
