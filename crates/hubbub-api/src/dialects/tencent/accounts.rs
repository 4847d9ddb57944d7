//! Tencent Chat's account import: an account is a hubbub user whose name is the
//! `UserID`; `Nick` is its display name and `FaceUrl` its picture. Importing an
//! existing account updates the fields given and is otherwise a no-op [S].

use super::auth::Call;
use super::body::Body;
use super::error::{Reply, TencentError, TencentResult, code};
use crate::AppState;
use axum::extract::State;
use hubbub_core::Error;
use hubbub_core::engine::tencent_support::UpsertUser;
use serde_json::{Map, Value};

/// Longest `UserID` [S].
const MAX_USER_ID_BYTES: usize = 32;
/// Longest `Nick` or `FaceUrl` (40601 beyond) [S].
const MAX_VALUE_BYTES: usize = 500;
/// Most accounts in one multiaccount_import [S].
const MAX_IMPORT: usize = 100;

/// `POST /v4/im_open_login_svc/account_import`
pub(super) async fn account_import(State(state): State<AppState>, call: Call) -> TencentResult {
    let account = read_account(&call.body)?;
    state
        .engine
        .upsert_user(&call.actor, account)
        .await
        .map_err(account_error)?;
    Ok(Reply::Empty)
}

/// `POST /v4/im_open_login_svc/multiaccount_import` — `{"Accounts": [ids]}` (old form)
/// or `{"AccountList": [{UserID, Nick, FaceUrl}]}` (new form); at most 100. An
/// account that cannot be imported is listed in `FailAccounts`; the others are.
pub(super) async fn multiaccount_import(
    State(state): State<AppState>,
    call: Call,
) -> TencentResult {
    let body = &call.body;
    let (key, items) = match (body.value("AccountList"), body.value("Accounts")) {
        (Some(list), _) => ("AccountList", list),
        (None, Some(list)) => ("Accounts", list),
        (None, None) => return Err(body.bad("AccountList (or Accounts) is required")),
    };
    let items = items
        .as_array()
        .ok_or_else(|| body.bad(format!("{key} must be an array")))?;
    if items.is_empty() || items.len() > MAX_IMPORT {
        return Err(body.bad(format!(
            "{key} has {} accounts; 1 to {MAX_IMPORT} are allowed",
            items.len()
        )));
    }
    let mut ids = Vec::with_capacity(items.len());
    let mut valid = Vec::with_capacity(items.len());
    let mut fail: Vec<String> = Vec::new();
    for item in items {
        let (id, account) = match item {
            Value::String(id) if key == "Accounts" => (id.clone(), read_id(body, id)),
            Value::Object(map) if key == "AccountList" => {
                let entry = Body::new(map.clone(), code::ACCOUNT_BAD_PARAM);
                let id = entry
                    .required_str("UserID")
                    .map_err(|_| body.bad(format!("every {key} entry needs a string UserID")))?
                    .to_owned();
                (id, read_account(&entry))
            }
            _ => return Err(body.bad(format!("{key} holds an entry of the wrong type"))),
        };
        match account {
            Ok(account) => {
                ids.push(id);
                valid.push(account);
            }
            Err(_) => fail.push(id),
        }
    }
    let results = state
        .engine
        .upsert_users(&call.actor, valid)
        .await
        .map_err(account_error)?;
    for (id, result) in ids.into_iter().zip(results) {
        if result.is_err() {
            fail.push(id);
        }
    }
    let mut fields = Map::new();
    fields.insert("FailAccounts".into(), fail.into());
    Ok(Reply::Fields(fields))
}

fn read_id(body: &Body, id: &str) -> Result<UpsertUser, TencentError> {
    if id.is_empty() || id.len() > MAX_USER_ID_BYTES {
        return Err(body.bad(format!("UserID must be 1 to {MAX_USER_ID_BYTES} bytes")));
    }
    Ok(UpsertUser {
        name: id.to_owned(),
        display_name: None,
        display_picture_url: None,
    })
}

/// `{UserID, Nick?, FaceUrl?}`. An empty `Nick` or `FaceUrl` is "not given".
fn read_account(body: &Body) -> Result<UpsertUser, TencentError> {
    let mut account = read_id(body, body.required_str("UserID")?)?;
    for key in ["Nick", "FaceUrl"] {
        if body.str(key)?.is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
            return Err(TencentError::new(
                code::ACCOUNT_VALUE_TOO_LONG,
                format!("{key} is over {MAX_VALUE_BYTES} bytes"),
            ));
        }
    }
    account.display_name = body
        .str("Nick")?
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    account.display_picture_url = body
        .str("FaceUrl")?
        .filter(|u| !u.is_empty())
        .map(str::to_owned);
    Ok(account)
}

/// The account API reports bad input as 70402.
fn account_error(e: Error) -> TencentError {
    match e {
        Error::Invalid { field, reason } => TencentError::new(
            code::ACCOUNT_BAD_PARAM,
            format!("invalid parameter {field}: {reason}"),
        ),
        Error::Conflict(m) => TencentError::new(code::ACCOUNT_BAD_PARAM, m),
        other => other.into(),
    }
}
