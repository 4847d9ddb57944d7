-- Threads, mentions, read receipts, notifications, invites, reports and sessions.
-- Same conventions as the initial schema: app_id on every row, INTEGER microseconds,
-- JSON as TEXT, AUTOINCREMENT ids.

-- A message's mentions (JSON array, NULL when it has none) and its counters, kept by
-- the writer: replies_count when a reply is appended or deleted, report_count when the
-- message is reported. Plain appends write none of these columns.
ALTER TABLE messages ADD COLUMN mentions TEXT;
ALTER TABLE messages ADD COLUMN replies_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN report_count INTEGER NOT NULL DEFAULT 0;

-- Reply threads are read by parent. Partial: only replies pay for it on append.
CREATE INDEX messages_by_parent ON messages (parent_id, id) WHERE parent_id IS NOT NULL;

-- Every advance of a read mark: user_id read channel_id up to up_to_seq at read_at.
-- A message's receipts are the users with a row at or above its seq (the earliest such
-- row says when they read it). read_marks stays the fast path for unread counts.
CREATE TABLE read_receipts (
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    up_to_seq  INTEGER NOT NULL,
    read_at    INTEGER NOT NULL,
    PRIMARY KEY (channel_id, up_to_seq, user_id)
) WITHOUT ROWID;

-- A user's history in a channel (how far their receipts reach), and their deletion.
CREATE INDEX read_receipts_by_user ON read_receipts (user_id, channel_id, up_to_seq);

-- When a read mark last moved.
ALTER TABLE read_marks ADD COLUMN read_at INTEGER;

-- Written in the same transaction as the message that causes them. The message (and
-- its parent, for replies) is joined at read time; deleting a message deletes them.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER,
    muted      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX notifications_by_user ON notifications (user_id, id);
CREATE INDEX notifications_by_message ON notifications (message_id);
CREATE INDEX notifications_by_channel ON notifications (channel_id);

-- Pending while the user is not a member of the channel.
CREATE TABLE channel_invites (
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_by INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE INDEX channel_invites_by_user ON channel_invites (user_id);

-- user_id is NULL for reports by the application's backend; a user reports a message
-- once.
CREATE TABLE message_reports (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    user_id    INTEGER,
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX message_reports_by_channel ON message_reports (channel_id, message_id);
CREATE INDEX message_reports_by_message ON message_reports (message_id);
CREATE UNIQUE INDEX message_reports_once_per_user
    ON message_reports (message_id, user_id) WHERE user_id IS NOT NULL;

-- One per connected realtime client of a user; ended_at NULL while ACTIVE.
CREATE TABLE user_sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent TEXT,
    created_at INTEGER NOT NULL,
    ended_at   INTEGER
);

CREATE INDEX user_sessions_by_app ON user_sessions (app_id, id);
CREATE INDEX user_sessions_active ON user_sessions (id) WHERE ended_at IS NULL;

-- One per user session per subscribed channel.
CREATE TABLE chat_sessions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id          INTEGER NOT NULL,
    user_session_id INTEGER NOT NULL REFERENCES user_sessions (id) ON DELETE CASCADE,
    channel_id      INTEGER NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER
);

CREATE INDEX chat_sessions_by_app ON chat_sessions (app_id, id);
CREATE INDEX chat_sessions_by_user_session ON chat_sessions (user_session_id);
CREATE INDEX chat_sessions_by_channel ON chat_sessions (channel_id);
CREATE INDEX chat_sessions_active ON chat_sessions (id) WHERE ended_at IS NULL;
