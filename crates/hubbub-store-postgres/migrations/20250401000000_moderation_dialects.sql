-- Channel moderation (bans, mutes, robots), the live-stream dialects' credentials and
-- login tokens, and user passwords for those dialects' login flows. Same tables as
-- the SQLite store's migration of the same name.

-- A ban or mute of a user in a channel; one of each kind per user and channel.
-- until_at NULL = until lifted; a lapsed row is ignored by reads.
CREATE TABLE channel_restrictions (
    app_id     BIGINT      NOT NULL,
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT        NOT NULL,
    until_at   TIMESTAMPTZ,
    reason     TEXT        NOT NULL DEFAULT '',
    created_by BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel_id, user_id, kind)
);

CREATE INDEX channel_restrictions_by_kind ON channel_restrictions (channel_id, kind, created_at);
CREATE INDEX channel_restrictions_by_user ON channel_restrictions (user_id);

-- Bot users attached to a live room (Tencent robots).
CREATE TABLE channel_robots (
    app_id     BIGINT      NOT NULL,
    channel_id BIGINT      NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

CREATE INDEX channel_robots_by_user ON channel_robots (user_id);

-- One credential per application and dialect; the key is unique per dialect so a
-- request carrying it finds its application.
CREATE TABLE dialect_credentials (
    dialect TEXT   NOT NULL,
    key     TEXT   NOT NULL,
    app_id  BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    secret  TEXT   NOT NULL,
    admins  JSON   NOT NULL DEFAULT '[]',
    PRIMARY KEY (dialect, key)
);

CREATE UNIQUE INDEX dialect_credentials_by_app ON dialect_credentials (app_id, dialect);

-- Login tokens of the dialects' auth flows, stored by hash.
CREATE TABLE dialect_tokens (
    token_hash TEXT        NOT NULL PRIMARY KEY,
    kind       TEXT        NOT NULL,
    app_id     BIGINT      NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id    BIGINT,
    expires_at TIMESTAMPTZ NOT NULL,
    data       JSON        NOT NULL DEFAULT 'null',
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX dialect_tokens_by_user ON dialect_tokens (app_id, user_id, kind);

ALTER TABLE users ADD COLUMN password_hash TEXT;
