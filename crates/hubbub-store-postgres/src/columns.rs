//! Column lists every query selects, as macros so that `concat!` builds each SQL
//! statement once at compile time. Their order is the decoding order of
//! [`rows`](crate::rows).

macro_rules! application_columns {
    () => {
        "a.id, a.name, a.client_id, a.created_at, a.properties, a.settings"
    };
}

macro_rules! user_columns {
    () => {
        "u.id, u.app_id, u.name, u.display_name, u.display_picture_url, u.kind, u.is_guest, \
         u.presence_status, u.call_status, u.properties, u.created_at"
    };
}

macro_rules! channel_columns {
    () => {
        "c.id, c.app_id, c.kind, c.name, c.display_name, c.creator_id, c.properties, \
         c.created_at, c.epoch, c.last_seq, c.last_message_id, c.live"
    };
}

macro_rules! message_columns {
    () => {
        "m.id, m.app_id, m.channel_id, m.seq, m.user_id, m.kind, m.body, m.file, m.group_tag, \
         m.properties, m.created_at, m.edited_at, m.parent_id, m.nested_level, \
         m.idempotency_key, m.mentions, m.replies_count, m.report_count"
    };
}

/// A message with its author; an author that no longer exists joins as NULLs.
macro_rules! message_view_select {
    () => {
        concat!(
            "SELECT ",
            message_columns!(),
            ", ",
            user_columns!(),
            " FROM messages m LEFT JOIN users u ON u.id = m.user_id AND u.app_id = m.app_id"
        )
    };
}
