//! `/api/v1/auth/...`: one-time-password login by e-mail or phone, refresh-token
//! rotation and logout. The rules (code lifetime, attempts, user creation) are the
//! engine's (`hubbub_core::engine::allmine_support`).

use super::error::{AllmineError, Success};
use super::extract::{AllmineUser, JsonObject, OtpApp};
use super::shapes;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use hubbub_core::engine::allmine_support::{AllmineLogin, OTP_DIGITS, OtpAddress};
use serde_json::{Map, Value, json};

/// Longest `signupSource` / `signupCampaign` kept on a new user.
const MAX_SIGNUP_TAG_CHARS: usize = 128;

fn email_of(body: &JsonObject) -> Result<OtpAddress, AllmineError> {
    Ok(OtpAddress::email(body.required("email")?)?)
}

fn phone_of(body: &JsonObject) -> Result<OtpAddress, AllmineError> {
    let country_code = body.digits("countryCode", 1)?;
    let number = body.digits("phoneNumber", 1)?;
    Ok(OtpAddress::phone(&country_code, &number)?)
}

/// The code sent, in the answer only when the server is configured to return it
/// (`auth.allmine_otp_in_response`; hubbub sends no mail or SMS itself).
fn with_code(state: &AppState, mut data: Value, code: String) -> Value {
    if state.config.allmine_otp_in_response {
        data["code"] = Value::String(code);
    }
    data
}

/// `POST /api/v1/auth/send-otp-email` `{email}` → `{email, code}`.
pub(super) async fn send_otp_email(
    State(state): State<AppState>,
    OtpApp(app): OtpApp,
    body: JsonObject,
) -> Result<Success, AllmineError> {
    let address = email_of(&body)?;
    let code = state.engine.send_allmine_otp(app, &address).await?;
    let data = json!({ "email": address.user_name() });
    Ok(Success(StatusCode::CREATED, with_code(&state, data, code)))
}

/// `POST /api/v1/auth/send-otp` `{countryCode, phoneNumber}` →
/// `{countryCode, phoneNumber, code}`.
pub(super) async fn send_otp_phone(
    State(state): State<AppState>,
    OtpApp(app): OtpApp,
    body: JsonObject,
) -> Result<Success, AllmineError> {
    let address = phone_of(&body)?;
    let OtpAddress::Phone {
        country_code,
        number,
    } = &address
    else {
        return Err(AllmineError::validation("not a phone number"));
    };
    let data = json!({ "countryCode": format!("+{country_code}"), "phoneNumber": number });
    let code = state.engine.send_allmine_otp(app, &address).await?;
    Ok(Success(StatusCode::CREATED, with_code(&state, data, code)))
}

/// `POST /api/v1/auth/verify-otp-email` `{email, code}` → tokens and user.
pub(super) async fn verify_otp_email(
    State(state): State<AppState>,
    OtpApp(app): OtpApp,
    body: JsonObject,
) -> Result<Success, AllmineError> {
    let address = email_of(&body)?;
    let code = body.digits("code", OTP_DIGITS)?;
    let login = state
        .engine
        .verify_allmine_otp(app, &address, &code, Value::Null)
        .await?;
    logged_in(login)
}

/// `POST /api/v1/auth/verify-otp` `{countryCode, phoneNumber, code, signupSource?,
/// signupCampaign?}` → tokens and user. The signup tags are kept in a new user's
/// properties.
pub(super) async fn verify_otp_phone(
    State(state): State<AppState>,
    OtpApp(app): OtpApp,
    body: JsonObject,
) -> Result<Success, AllmineError> {
    let address = phone_of(&body)?;
    let code = body.digits("code", OTP_DIGITS)?;
    let mut properties = Map::new();
    for key in ["signupSource", "signupCampaign"] {
        if let Some(tag) = body.string(key)? {
            if tag.chars().count() > MAX_SIGNUP_TAG_CHARS {
                return Err(AllmineError::validation(format_args!(
                    "{key} is longer than {MAX_SIGNUP_TAG_CHARS} characters"
                )));
            }
            properties.insert(key.to_owned(), Value::String(tag.to_owned()));
        }
    }
    let login = state
        .engine
        .verify_allmine_otp(app, &address, &code, Value::Object(properties))
        .await?;
    logged_in(login)
}

fn logged_in(login: Option<AllmineLogin>) -> Result<Success, AllmineError> {
    let login = login.ok_or_else(AllmineError::unauthorized)?;
    let mut data = shapes::tokens(&login.tokens);
    data["user"] = shapes::user(&login.user);
    data["isNewUser"] = Value::Bool(login.created);
    Ok(Success(StatusCode::CREATED, data))
}

/// `POST /api/v1/auth/refresh` `{refreshToken}` → a new pair; the old refresh token
/// is used up.
pub(super) async fn refresh(
    State(state): State<AppState>,
    body: JsonObject,
) -> Result<Success, AllmineError> {
    let token = body.required("refreshToken")?;
    let login = state
        .engine
        .refresh_allmine_tokens(token)
        .await?
        .ok_or_else(AllmineError::unauthorized)?;
    Ok(Success(StatusCode::CREATED, shapes::tokens(&login.tokens)))
}

/// `POST /api/v1/auth/logout` (Bearer) → `{success: true}`; every refresh token of
/// the user is revoked.
pub(super) async fn logout(
    State(state): State<AppState>,
    user: AllmineUser,
) -> Result<Success, AllmineError> {
    state.engine.logout_allmine(&user.0).await?;
    Ok(Success(StatusCode::CREATED, json!({ "success": true })))
}
