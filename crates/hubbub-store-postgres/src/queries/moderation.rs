//! Reads of channel restrictions and robots, dialect credentials and tokens, and user
//! passwords.

use super::channels::require_channel;
use super::filters::{count, push_limit, served};
use crate::driver_error;
use crate::rows::{col, corrupt, json_col, user_at};
use hubbub_core::Result;
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{
    Dialect, DialectCredential, DialectToken, DialectTokenKind, Restriction, RestrictionKind,
    Timestamp, User,
};
use hubbub_core::paging::{Page, PageRequest};
use sqlx::postgres::PgRow;
use sqlx::{Executor, PgConnection, Postgres, QueryBuilder};

macro_rules! restriction_select {
    () => {
        concat!(
            "SELECT r.channel_id, r.kind, r.until_at, r.reason, r.created_by, r.created_at, ",
            user_columns!(),
            " FROM channel_restrictions r JOIN users u ON u.id = r.user_id"
        )
    };
}

fn restriction_at(row: &PgRow) -> Result<Restriction> {
    let kind: &str = col(row, 1)?;
    Ok(Restriction {
        channel_id: ChannelId(col(row, 0)?),
        kind: RestrictionKind::parse(kind).ok_or_else(|| corrupt("restriction kind", kind))?,
        until: col(row, 2)?,
        reason: col(row, 3)?,
        created_by: col::<Option<i64>>(row, 4)?.map(UserId),
        created_at: col(row, 5)?,
        user: user_at(row, 6)?,
    })
}

/// The user's restriction of `kind` in the channel, lapsed or not.
pub(crate) async fn get_restriction<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    kind: RestrictionKind,
) -> Result<Option<Restriction>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        restriction_select!(),
        " WHERE r.app_id = $1 AND r.channel_id = $2 AND r.user_id = $3 AND r.kind = $4"
    ))
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(kind.as_str())
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| restriction_at(&r)).transpose()
}

pub(crate) async fn active_restrictions<'e, E>(
    e: E,
    app: AppId,
    channel: ChannelId,
    user: UserId,
    now: Timestamp,
) -> Result<Vec<Restriction>>
where
    E: Executor<'e, Database = Postgres>,
{
    let rows = sqlx::query(concat!(
        restriction_select!(),
        " WHERE r.app_id = $1 AND r.channel_id = $2 AND r.user_id = $3 \
         AND (r.until_at IS NULL OR r.until_at > $4) ORDER BY r.kind"
    ))
    .bind(app.0)
    .bind(channel.0)
    .bind(user.0)
    .bind(now)
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(restriction_at).collect()
}

/// Run inside a read transaction, so the page and its total agree.
pub(crate) async fn list_restrictions(
    conn: &mut PgConnection,
    app: AppId,
    channel: ChannelId,
    kind: RestrictionKind,
    now: Timestamp,
    page: &PageRequest,
) -> Result<Page<Restriction>> {
    require_channel(&mut *conn, app, channel).await?;
    let mut select = QueryBuilder::new(concat!(restriction_select!(), " WHERE r.app_id = "));
    select
        .push_bind(app.0)
        .push(" AND r.channel_id = ")
        .push_bind(channel.0)
        .push(" AND r.kind = ")
        .push_bind(kind.as_str())
        .push(" AND (r.until_at IS NULL OR r.until_at > ")
        .push_bind(now)
        .push(") ORDER BY r.created_at, r.user_id");
    push_limit(&mut select, page);
    let rows = select
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    let items = rows
        .iter()
        .map(restriction_at)
        .collect::<Result<Vec<_>>>()?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM channel_restrictions r \
         WHERE r.app_id = $1 AND r.channel_id = $2 AND r.kind = $3 \
         AND (r.until_at IS NULL OR r.until_at > $4)",
    )
    .bind(app.0)
    .bind(channel.0)
    .bind(kind.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: served(page),
        total: count(total),
    })
}

pub(crate) async fn list_robots<'e, E>(e: E, app: AppId, channel: ChannelId) -> Result<Vec<User>>
where
    E: Executor<'e, Database = Postgres>,
{
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM channel_robots r JOIN users u ON u.id = r.user_id \
         WHERE r.app_id = $1 AND r.channel_id = $2 ORDER BY r.created_at, r.user_id"
    ))
    .bind(app.0)
    .bind(channel.0)
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| user_at(r, 0)).collect()
}

macro_rules! credential_columns {
    () => {
        "dialect, key, secret, admins, app_id"
    };
}

fn credential_at(row: &PgRow) -> Result<(AppId, DialectCredential)> {
    let dialect: &str = col(row, 0)?;
    Ok((
        AppId(col(row, 4)?),
        DialectCredential {
            dialect: Dialect::parse(dialect).ok_or_else(|| corrupt("dialect", dialect))?,
            key: col(row, 1)?,
            secret: col(row, 2)?,
            admins: json_col(row, 3, "dialect admins")?,
        },
    ))
}

pub(crate) async fn list_dialect_credentials<'e, E>(
    e: E,
    app: AppId,
) -> Result<Vec<DialectCredential>>
where
    E: Executor<'e, Database = Postgres>,
{
    // Byte order, as SQLite sorts the dialect names.
    let rows = sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM dialect_credentials WHERE app_id = $1 ORDER BY dialect COLLATE \"C\""
    ))
    .bind(app.0)
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter()
        .map(|r| credential_at(r).map(|(_, c)| c))
        .collect()
}

pub(crate) async fn find_dialect_credential<'e, E>(
    e: E,
    dialect: Dialect,
    key: &str,
) -> Result<Option<(AppId, DialectCredential)>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM dialect_credentials WHERE dialect = $1 AND key = $2"
    ))
    .bind(dialect.as_str())
    .bind(key)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| credential_at(&r)).transpose()
}

/// The columns [`token_at`] decodes, in order.
macro_rules! token_columns {
    () => {
        "token_hash, kind, app_id, user_id, expires_at, data, created_at"
    };
}
pub(crate) use token_columns;

pub(crate) fn token_at(row: &PgRow) -> Result<DialectToken> {
    let kind: &str = col(row, 1)?;
    Ok(DialectToken {
        token_hash: col(row, 0)?,
        kind: DialectTokenKind::parse(kind).ok_or_else(|| corrupt("token kind", kind))?,
        app_id: AppId(col(row, 2)?),
        user_id: col::<Option<i64>>(row, 3)?.map(UserId),
        expires_at: col(row, 4)?,
        data: json_col(row, 5, "token data")?,
        created_at: col(row, 6)?,
    })
}

pub(crate) async fn find_dialect_token<'e, E>(
    e: E,
    kind: DialectTokenKind,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<DialectToken>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        token_columns!(),
        " FROM dialect_tokens WHERE token_hash = $1 AND kind = $2 AND expires_at > $3"
    ))
    .bind(token_hash)
    .bind(kind.as_str())
    .bind(now)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| token_at(&r)).transpose()
}

pub(crate) async fn get_user_password<'e, E>(
    e: E,
    app: AppId,
    user: UserId,
) -> Result<Option<String>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE app_id = $1 AND id = $2")
            .bind(app.0)
            .bind(user.0)
            .fetch_optional(e)
            .await
            .map_err(driver_error::map)?;
    Ok(row.flatten())
}
