-- Channel moderation (bans, mutes, robots), the live-stream dialects' credentials and
-- login tokens, and user passwords for those dialects' login flows.

-- A ban or mute of a user in a channel; one of each kind per user and channel.
-- until_at NULL = until lifted; a lapsed row is ignored by reads.
CREATE TABLE channel_restrictions (
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    until_at   INTEGER,
    reason     TEXT    NOT NULL DEFAULT '',
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id, kind)
) WITHOUT ROWID;

CREATE INDEX channel_restrictions_by_kind ON channel_restrictions (channel_id, kind, created_at);

-- Bot users attached to a live room (Tencent robots).
CREATE TABLE channel_robots (
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

-- One credential per application and dialect; the key is unique per dialect so a
-- request carrying it finds its application.
CREATE TABLE dialect_credentials (
    dialect TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    app_id  INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    secret  TEXT    NOT NULL,
    admins  TEXT    NOT NULL DEFAULT '[]',
    PRIMARY KEY (dialect, key)
) WITHOUT ROWID;

CREATE UNIQUE INDEX dialect_credentials_by_app ON dialect_credentials (app_id, dialect);

-- Login tokens of the dialects' auth flows, stored by hash.
CREATE TABLE dialect_tokens (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    app_id     INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id    INTEGER,
    expires_at INTEGER NOT NULL,
    data       TEXT    NOT NULL DEFAULT 'null',
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX dialect_tokens_by_user ON dialect_tokens (app_id, user_id, kind);

ALTER TABLE users ADD COLUMN password_hash TEXT;
