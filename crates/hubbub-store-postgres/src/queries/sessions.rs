//! Reads of user sessions and chat sessions (each with its user).

use super::filters::{count, push_limit, push_order_by, served};
use crate::driver_error;
use crate::rows::{col, user_at};
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, ChatSessionId, UserSessionId};
use hubbub_core::model::{ChatSession, SessionState, UserSession};
use hubbub_core::paging::{Page, PageRequest, SortField};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

/// `s.id, s.app_id, s.user_agent, s.created_at, s.ended_at` then the user's columns.
macro_rules! user_session_columns {
    () => {
        concat!(
            "s.id, s.app_id, s.user_agent, s.created_at, s.ended_at, ",
            user_columns!()
        )
    };
}

macro_rules! chat_session_columns {
    () => {
        concat!(
            "cs.id, cs.app_id, cs.channel_id, cs.created_at, cs.ended_at, ",
            user_session_columns!()
        )
    };
}

macro_rules! user_sessions_from {
    () => {
        " FROM user_sessions s JOIN users u ON u.id = s.user_id AND u.app_id = s.app_id"
    };
}

macro_rules! chat_sessions_from {
    () => {
        " FROM chat_sessions cs \
         JOIN user_sessions s ON s.id = cs.user_session_id AND s.app_id = cs.app_id \
         JOIN users u ON u.id = s.user_id AND u.app_id = s.app_id"
    };
}

fn user_session_at(row: &PgRow, base: usize) -> Result<UserSession> {
    Ok(UserSession {
        id: UserSessionId(col(row, base)?),
        app_id: AppId(col(row, base + 1)?),
        user_agent: col(row, base + 2)?,
        created_at: col(row, base + 3)?,
        ended_at: col(row, base + 4)?,
        user: user_at(row, base + 5)?,
    })
}

/// `chat_session_columns!`: the chat session, then its user session.
fn chat_session_at(row: &PgRow) -> Result<ChatSession> {
    Ok(ChatSession {
        id: ChatSessionId(col(row, 0)?),
        app_id: AppId(col(row, 1)?),
        channel_id: ChannelId(col(row, 2)?),
        created_at: col(row, 3)?,
        ended_at: col(row, 4)?,
        user_session: user_session_at(row, 5)?,
    })
}

pub(crate) async fn get_user_session<'e, E>(
    e: E,
    app: AppId,
    session: UserSessionId,
) -> Result<Option<UserSession>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        user_session_columns!(),
        user_sessions_from!(),
        " WHERE s.app_id = $1 AND s.id = $2"
    ))
    .bind(app.0)
    .bind(session.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| user_session_at(&r, 0)).transpose()
}

pub(crate) async fn get_chat_session<'e, E>(
    e: E,
    app: AppId,
    session: ChatSessionId,
) -> Result<Option<ChatSession>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        chat_session_columns!(),
        chat_sessions_from!(),
        " WHERE cs.app_id = $1 AND cs.id = $2"
    ))
    .bind(app.0)
    .bind(session.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| chat_session_at(&r)).transpose()
}

fn push_state(qb: &mut QueryBuilder<'_, Postgres>, alias: &str, state: Option<SessionState>) {
    match state {
        None => {}
        Some(SessionState::Active) => {
            qb.push(format!(" AND {alias}.ended_at IS NULL"));
        }
        Some(SessionState::Ended) => {
            qb.push(format!(" AND {alias}.ended_at IS NOT NULL"));
        }
    }
}

async fn count_sessions(
    conn: &mut PgConnection,
    from: &str,
    alias: &str,
    app: AppId,
    state: Option<SessionState>,
) -> Result<u64> {
    let mut qb = QueryBuilder::new(format!("SELECT count(*){from} WHERE {alias}.app_id = "));
    qb.push_bind(app.0);
    push_state(&mut qb, alias, state);
    let total: i64 = qb
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(count(total))
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_user_sessions(
    conn: &mut PgConnection,
    app: AppId,
    state: Option<SessionState>,
    page: &PageRequest,
) -> Result<Page<UserSession>> {
    let mut select = QueryBuilder::new(concat!(
        "SELECT ",
        user_session_columns!(),
        user_sessions_from!(),
        " WHERE s.app_id = "
    ));
    select.push_bind(app.0);
    push_state(&mut select, "s", state);
    push_order_by(
        &mut select,
        &page.sort,
        |f| match f {
            SortField::CreatedTime => "s.created_at",
            _ => "s.id",
        },
        "s.id",
        "s.id",
    );
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows
        .iter()
        .map(|r| user_session_at(r, 0))
        .collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        request: served(page),
        total: count_sessions(conn, user_sessions_from!(), "s", app, state).await?,
    })
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_chat_sessions(
    conn: &mut PgConnection,
    app: AppId,
    state: Option<SessionState>,
    page: &PageRequest,
) -> Result<Page<ChatSession>> {
    let mut select = QueryBuilder::new(concat!(
        "SELECT ",
        chat_session_columns!(),
        chat_sessions_from!(),
        " WHERE cs.app_id = "
    ));
    select.push_bind(app.0);
    push_state(&mut select, "cs", state);
    push_order_by(
        &mut select,
        &page.sort,
        |f| match f {
            SortField::CreatedTime => "cs.created_at",
            _ => "cs.id",
        },
        "cs.id",
        "cs.id",
    );
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows
        .iter()
        .map(chat_session_at)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page {
        items,
        request: served(page),
        total: count_sessions(conn, chat_sessions_from!(), "cs", app, state).await?,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn session_widths_match_their_columns() {
        // 5 session columns, then the user's 11 (decoded by `user_at`).
        assert_eq!(user_session_columns!().split(',').count(), 5 + 11);
        assert_eq!(chat_session_columns!().split(',').count(), 5 + 5 + 11);
    }
}
