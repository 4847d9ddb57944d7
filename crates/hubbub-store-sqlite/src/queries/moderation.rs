//! Reads of channel restrictions and robots, dialect credentials and tokens, and user
//! passwords.

use super::channels::channel_exists;
use super::filters::{page_size, push_limit};
use crate::driver_error;
use crate::rows::{col, ts_from_db, ts_to_db, user_at};
use hubbub_core::ids::{AppId, ChannelId, UserId};
use hubbub_core::model::{
    Dialect, DialectCredential, DialectToken, DialectTokenKind, Restriction, RestrictionKind,
    Timestamp, User,
};
use hubbub_core::paging::{Page, PageRequest};
use hubbub_core::{Error, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection};

const RESTRICTION_COLUMNS: &str = concat!(
    "r.channel_id, r.kind, r.until_at, r.reason, r.created_by, r.created_at, ",
    user_columns!()
);

/// In force at `now`: no end, or an end still ahead.
const IN_FORCE: &str = "(r.until_at IS NULL OR r.until_at > ?)";

fn restriction_at(row: &SqliteRow) -> Result<Restriction> {
    let kind: String = col(row, 1)?;
    Ok(Restriction {
        channel_id: ChannelId(col(row, 0)?),
        kind: RestrictionKind::parse(&kind)
            .ok_or_else(|| Error::internal(format!("unknown restriction kind {kind:?}")))?,
        until: col::<Option<i64>>(row, 2)?.map(ts_from_db).transpose()?,
        reason: col(row, 3)?,
        created_by: col::<Option<i64>>(row, 4)?.map(UserId),
        created_at: ts_from_db(col(row, 5)?)?,
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
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT {RESTRICTION_COLUMNS} FROM channel_restrictions r \
         JOIN users u ON u.id = r.user_id \
         WHERE r.app_id = ? AND r.channel_id = ? AND r.user_id = ? AND r.kind = ?"
    );
    let row = sqlx::query(&sql)
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
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT {RESTRICTION_COLUMNS} FROM channel_restrictions r \
         JOIN users u ON u.id = r.user_id \
         WHERE r.app_id = ? AND r.channel_id = ? AND r.user_id = ? AND {IN_FORCE} \
         ORDER BY r.kind"
    );
    let rows = sqlx::query(&sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(user.0)
        .bind(ts_to_db(now))
        .fetch_all(e)
        .await
        .map_err(driver_error::map)?;
    rows.iter().map(restriction_at).collect()
}

/// Every channel with a restriction row (in force or lapsed), for the read cache.
pub(crate) async fn restricted_channels<'e, E>(e: E) -> Result<std::collections::HashSet<ChannelId>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let ids: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT channel_id FROM channel_restrictions")
        .fetch_all(e)
        .await
        .map_err(driver_error::map)?;
    Ok(ids.into_iter().map(ChannelId).collect())
}

pub(crate) async fn list_restrictions(
    conn: &mut SqliteConnection,
    app: AppId,
    channel: ChannelId,
    kind: RestrictionKind,
    now: Timestamp,
    page: &PageRequest,
) -> Result<Page<Restriction>> {
    if !channel_exists(&mut *conn, app, channel).await? {
        return Err(Error::not_found("channel"));
    }
    let mut select = QueryBuilder::new(format!(
        "SELECT {RESTRICTION_COLUMNS} FROM channel_restrictions r \
         JOIN users u ON u.id = r.user_id WHERE r.app_id = "
    ));
    select
        .push_bind(app.0)
        .push(" AND r.channel_id = ")
        .push_bind(channel.0)
        .push(" AND r.kind = ")
        .push_bind(kind.as_str())
        .push(" AND (r.until_at IS NULL OR r.until_at > ")
        .push_bind(ts_to_db(now))
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
    let count_sql = format!(
        "SELECT COUNT(*) FROM channel_restrictions r \
         WHERE r.app_id = ? AND r.channel_id = ? AND r.kind = ? AND {IN_FORCE}"
    );
    let total: i64 = sqlx::query_scalar(&count_sql)
        .bind(app.0)
        .bind(channel.0)
        .bind(kind.as_str())
        .bind(ts_to_db(now))
        .fetch_one(&mut *conn)
        .await
        .map_err(driver_error::map)?;
    Ok(Page {
        items,
        request: PageRequest {
            size: page_size(page),
            ..page.clone()
        },
        total: total as u64,
    })
}

pub(crate) async fn list_robots<'e, E>(e: E, app: AppId, channel: ChannelId) -> Result<Vec<User>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let rows = sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM channel_robots r JOIN users u ON u.id = r.user_id \
         WHERE r.app_id = ? AND r.channel_id = ? ORDER BY r.created_at, r.user_id"
    ))
    .bind(app.0)
    .bind(channel.0)
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| user_at(r, 0)).collect()
}

const CREDENTIAL_COLUMNS: &str = "dialect, key, secret, admins, app_id";

fn credential_at(row: &SqliteRow) -> Result<(AppId, DialectCredential)> {
    let dialect: String = col(row, 0)?;
    let admins: String = col(row, 3)?;
    Ok((
        AppId(col(row, 4)?),
        DialectCredential {
            dialect: Dialect::parse(&dialect)
                .ok_or_else(|| Error::internal(format!("unknown dialect {dialect:?}")))?,
            key: col(row, 1)?,
            secret: col(row, 2)?,
            admins: serde_json::from_str(&admins).map_err(Error::internal)?,
        },
    ))
}

pub(crate) async fn list_dialect_credentials<'e, E>(
    e: E,
    app: AppId,
) -> Result<Vec<DialectCredential>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM dialect_credentials WHERE app_id = ? ORDER BY dialect"
    );
    let rows = sqlx::query(&sql)
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
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM dialect_credentials WHERE dialect = ? AND key = ?"
    );
    let row = sqlx::query(&sql)
        .bind(dialect.as_str())
        .bind(key)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    row.map(|r| credential_at(&r)).transpose()
}

pub(crate) const TOKEN_COLUMNS: &str =
    "token_hash, kind, app_id, user_id, expires_at, data, created_at";

pub(crate) fn token_at(row: &SqliteRow) -> Result<DialectToken> {
    let kind: String = col(row, 1)?;
    let data: String = col(row, 5)?;
    Ok(DialectToken {
        token_hash: col(row, 0)?,
        kind: DialectTokenKind::parse(&kind)
            .ok_or_else(|| Error::internal(format!("unknown token kind {kind:?}")))?,
        app_id: AppId(col(row, 2)?),
        user_id: col::<Option<i64>>(row, 3)?.map(UserId),
        expires_at: ts_from_db(col(row, 4)?)?,
        data: serde_json::from_str(&data).map_err(Error::internal)?,
        created_at: ts_from_db(col(row, 6)?)?,
    })
}

pub(crate) async fn find_dialect_token<'e, E>(
    e: E,
    kind: DialectTokenKind,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<DialectToken>>
where
    E: Executor<'e, Database = Sqlite>,
{
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM dialect_tokens \
         WHERE token_hash = ? AND kind = ? AND expires_at > ?"
    );
    let row = sqlx::query(&sql)
        .bind(token_hash)
        .bind(kind.as_str())
        .bind(ts_to_db(now))
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
    E: Executor<'e, Database = Sqlite>,
{
    let row: Option<Option<String>> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE app_id = ? AND id = ?")
            .bind(app.0)
            .bind(user.0)
            .fetch_optional(e)
            .await
            .map_err(driver_error::map)?;
    Ok(row.flatten())
}
