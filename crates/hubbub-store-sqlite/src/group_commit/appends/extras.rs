//! What an append writes besides its message row, in the same transaction, right after
//! the group's INSERTs — only for the messages that need it, so a plain message costs
//! nothing more:
//! * a reply adds one to its parent's `replies_count`;
//! * a message sent with [`MessageExtras`](hubbub_core::model::MessageExtras) stores
//!   its mentions on its row and inserts the notifications it causes
//!   ([`Store::append_message_with`](hubbub_core::store::Store::append_message_with)).
//!
//! Retries of stored messages are never planned as inserts, so they write nothing here.

use super::{Pending, Plan, Writer};
use crate::driver_error;
use crate::rows::{json_to_db, ts_to_db};
use hubbub_core::Result;
use sqlx::{QueryBuilder, Sqlite};

/// Notifications per INSERT statement (9 variables each).
const NOTIFICATIONS_PER_INSERT: usize = 500;

impl Writer {
    /// Writes the extras of the planned inserts `rows` of `pending`.
    pub(super) async fn write_extras(&mut self, pending: &[Pending], rows: &[usize]) -> Result<()> {
        for &i in rows {
            let p = &pending[i];
            let Plan::Insert { id, created_at, .. } = p.plan else {
                continue;
            };
            if let Some(parent) = p.new.parent_id {
                sqlx::query(
                    "UPDATE messages SET replies_count = replies_count + 1 \
                     WHERE app_id = ? AND id = ?",
                )
                .bind(p.app.0)
                .bind(parent.0)
                .execute(&mut self.conn)
                .await
                .map_err(driver_error::map)?;
            }
            let Some(extras) = &p.extras else {
                continue;
            };
            if !extras.mentions.is_empty() {
                sqlx::query("UPDATE messages SET mentions = ? WHERE id = ?")
                    .bind(json_to_db(&extras.mentions)?)
                    .bind(id)
                    .execute(&mut self.conn)
                    .await
                    .map_err(driver_error::map)?;
            }
            for chunk in extras.notifications.chunks(NOTIFICATIONS_PER_INSERT) {
                let mut insert: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
                    "INSERT INTO notifications (app_id, user_id, kind, title, body, \
                     channel_id, message_id, created_at, muted) ",
                );
                insert.push_values(chunk, |mut row, n| {
                    row.push_bind(p.app.0)
                        .push_bind(n.user_id.0)
                        .push_bind(n.kind.as_str())
                        .push_bind(n.title.as_str())
                        .push_bind(n.body.as_str())
                        .push_bind(p.new.channel_id.0)
                        .push_bind(id)
                        .push_bind(ts_to_db(created_at))
                        .push_bind(false);
                });
                insert
                    .build()
                    .execute(&mut self.conn)
                    .await
                    .map_err(driver_error::map)?;
            }
        }
        Ok(())
    }
}
