-- Background jobs (imports, analytics exports) and the idempotency keys of imports.
--
-- A job's progress, item errors and output file are JSON TEXT, written whole by the
-- runner as it goes. runner/heartbeat_at let any process tell a job whose process
-- went away (it is then marked FAILED "interrupted").

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id       INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    channel_id   INTEGER,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    ended_at     INTEGER,
    progress     TEXT    NOT NULL DEFAULT '{}',
    errors       TEXT    NOT NULL DEFAULT '[]',
    failure      TEXT,
    file         TEXT,
    runner       TEXT    NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

CREATE INDEX jobs_by_app ON jobs (app_id, id);
-- Heartbeats and sweeps touch only active jobs.
CREATE INDEX jobs_active ON jobs (runner, heartbeat_at) WHERE state IN ('PENDING', 'RUNNING');

-- The resource an import created for an item's idempotency key, per scope ("user",
-- "channel"), so a retried import recognises what it already did.
CREATE TABLE import_keys (
    app_id      INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    resource_id INTEGER NOT NULL,
    PRIMARY KEY (app_id, scope, key)
) WITHOUT ROWID;
