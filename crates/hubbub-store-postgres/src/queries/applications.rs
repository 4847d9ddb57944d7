//! Reads of applications and access tokens.

use crate::driver_error;
use crate::rows::{application_at, col, credentials_at};
use hubbub_core::Result;
use hubbub_core::ids::AppId;
use hubbub_core::model::{AppCredentials, Application, Timestamp};
use sqlx::{Executor, Postgres};

pub(crate) async fn list_applications<'e, E>(e: E) -> Result<Vec<Application>>
where
    E: Executor<'e, Database = Postgres>,
{
    let rows = sqlx::query(concat!(
        "SELECT ",
        application_columns!(),
        " FROM applications a ORDER BY a.id"
    ))
    .fetch_all(e)
    .await
    .map_err(driver_error::map)?;
    rows.iter().map(|r| application_at(r, 0)).collect()
}

pub(crate) async fn get_application<'e, E>(e: E, app: AppId) -> Result<Option<Application>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        application_columns!(),
        " FROM applications a WHERE a.id = $1"
    ))
    .bind(app.0)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| application_at(&r, 0)).transpose()
}

pub(crate) async fn find_credentials<'e, E>(e: E, client_id: &str) -> Result<Option<AppCredentials>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(concat!(
        "SELECT ",
        application_columns!(),
        ", a.client_secret_hash, a.signing_secret FROM applications a WHERE a.client_id = $1"
    ))
    .bind(client_id)
    .fetch_optional(e)
    .await
    .map_err(driver_error::map)?;
    row.map(|r| credentials_at(&r, 0)).transpose()
}

pub(crate) async fn find_access_token<'e, E>(
    e: E,
    token_hash: &str,
) -> Result<Option<(AppId, Timestamp)>>
where
    E: Executor<'e, Database = Postgres>,
{
    let row = sqlx::query("SELECT app_id, expires_at FROM access_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(e)
        .await
        .map_err(driver_error::map)?;
    row.map(|r| Ok((AppId(col(&r, 0)?), col(&r, 1)?)))
        .transpose()
}
