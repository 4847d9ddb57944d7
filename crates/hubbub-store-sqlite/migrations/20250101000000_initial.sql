-- hubbub's SQLite schema.
--
-- Conventions:
-- * Every table carries app_id and every query filters by it (tenant isolation).
-- * Timestamps are INTEGER microseconds since the Unix epoch (UTC).
-- * Properties, settings, live-room attributes and file refs are JSON TEXT.
-- * Ids use AUTOINCREMENT so an id is never handed out twice, even after the newest
--   row was deleted: message ids are cursors, and a reused user id would silently
--   adopt a deleted user's messages.

CREATE TABLE applications (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT    NOT NULL,
    client_id          TEXT    NOT NULL UNIQUE,
    client_secret_hash TEXT    NOT NULL,
    signing_secret     TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    properties         TEXT    NOT NULL DEFAULT '{}',
    settings           TEXT    NOT NULL DEFAULT '{}'
);

CREATE TABLE access_tokens (
    token_hash TEXT    PRIMARY KEY,
    app_id     INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX access_tokens_by_expiry ON access_tokens (expires_at);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id              INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    display_name        TEXT    NOT NULL,
    display_picture_url TEXT,
    kind                TEXT    NOT NULL,
    is_guest            INTEGER NOT NULL DEFAULT 0,
    presence_status     TEXT    NOT NULL,
    call_status         TEXT    NOT NULL,
    properties          TEXT    NOT NULL DEFAULT '{}',
    created_at          INTEGER NOT NULL,
    UNIQUE (app_id, name)
);

CREATE TABLE user_secrets (
    app_id  INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name    TEXT    NOT NULL,
    value   TEXT    NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

CREATE TABLE channels (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id          INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    name            TEXT,
    display_name    TEXT,
    creator_id      INTEGER,
    properties      TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    epoch           TEXT    NOT NULL,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    last_message_id INTEGER,
    live            TEXT    NOT NULL DEFAULT '{}',
    direct_key      TEXT,
    UNIQUE (app_id, name),
    UNIQUE (app_id, direct_key)
);

CREATE INDEX channels_by_created ON channels (app_id, created_at);

CREATE TABLE channel_members (
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE INDEX channel_members_by_user ON channel_members (user_id, channel_id);

CREATE TABLE channel_moderators (
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE INDEX channel_moderators_by_user ON channel_moderators (user_id, channel_id);

-- Every index and constraint on messages is paid on every append, the hot path of a
-- live chat, so messages carry only what their reads need:
-- * UNIQUE (channel_id, seq) serves channel history, recovery by seq and unread counts.
--   Within a channel ids and seqs grow together (the single writer assigns both in the
--   same order), so history paged by id cursors is read in seq order through it.
-- * (app_id, id) serves application-wide lists (and sender filters without a channel).
-- * The idempotency index holds only keyed messages.
-- There is no index by author: with many authors its inserts land on scattered pages.
-- There is no foreign key to channels: the writer checks the channel of every append,
-- and deleting a channel deletes its messages explicitly (a foreign key would also
-- force a statement journal onto every multi-row INSERT).
-- user_id is kept when the author is deleted (the message stays a user message whose
-- author no longer resolves). sender_key is the user id, or 0 for system messages: the
-- scope of an idempotency key.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id          INTEGER NOT NULL,
    channel_id      INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    user_id         INTEGER,
    sender_key      INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    body            TEXT,
    file            TEXT,
    group_tag       TEXT,
    properties      TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    edited_at       INTEGER,
    parent_id       INTEGER,
    nested_level    INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT,
    UNIQUE (channel_id, seq)
);

CREATE INDEX messages_by_app ON messages (app_id, id);
CREATE UNIQUE INDEX messages_idempotency
    ON messages (app_id, sender_key, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE read_marks (
    app_id        INTEGER NOT NULL,
    channel_id    INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_read_seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

CREATE INDEX read_marks_by_channel ON read_marks (channel_id);
