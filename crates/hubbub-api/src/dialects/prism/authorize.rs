//! `GET /oauth/authorize` — the login page of PRISM's OAuth flow (seed-surfaces 1.3),
//! and `POST /oauth/authorize` — its form.
//!
//! PRISM opens `GET /oauth/authorize?response_type=code&client_id=…&redirect_uri=…&state=…`
//! in a browser. The page is an HTML form; the streamer signs in with their hubbub
//! user name and password (checked by the engine), and on success the browser is
//! sent (302) to `redirect_uri?code=…&state=…`. The code is single use, valid 10
//! minutes, and redeemable only with the same `redirect_uri` and the application's
//! client secret (`oauth.rs`).
//!
//! What is checked before anything is shown, and why:
//! * `client_id` must be an application's PRISM key. Otherwise the page shows an error
//!   and never redirects: with an unknown client there is no one to return to.
//! * `redirect_uri` must be an absolute `http(s)` URI of printable ASCII, naming a
//!   host, with no user info and no fragment (RFC 6749 3.1.2). A URI on PRISM's auth
//!   host must be PRISM's partner callback exactly,
//!   `https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/{serviceId}`.
//!   Other hosts are allowed because hubbub is self-hosted and applications register
//!   no URIs with it; a code sent elsewhere is worthless without the client secret and
//!   the same `redirect_uri`, and the page names the host it will return to. A bad
//!   `redirect_uri` is an error page, never a redirect.
//! * Only then is `response_type` checked; anything but `code` is redirected back as
//!   `error=unsupported_response_type` (RFC 6749 4.1.2.1).
//!
//! Everything echoed into the page is HTML-escaped, and the page may not be framed.

use crate::AppState;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hubbub_core::engine::PRISM_CODE_TTL;
use hubbub_core::model::{Application, Dialect, DialectTokenKind};
use serde_json::json;

/// PRISM's redirect URI, before its `{serviceId}`.
pub(crate) const PRISM_CALLBACK_PREFIX: &str =
    "https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/";
const PRISM_AUTH_HOST_PREFIX: &str = "https://global.apis.naver.com/prism/";
const MAX_REDIRECT_URI_BYTES: usize = 2048;
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The parameters PRISM passes through the page.
#[derive(Default)]
struct AuthorizeRequest {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    state: String,
    username: String,
    password: String,
}

impl AuthorizeRequest {
    fn parse(encoded: &[u8]) -> Self {
        let mut request = Self::default();
        for (key, value) in form_urlencoded::parse(encoded) {
            let slot = match key.as_ref() {
                "response_type" => &mut request.response_type,
                "client_id" => &mut request.client_id,
                "redirect_uri" => &mut request.redirect_uri,
                "state" => &mut request.state,
                "username" => &mut request.username,
                "password" => &mut request.password,
                _ => continue,
            };
            *slot = value.into_owned();
        }
        request
    }
}

/// What the checks before the form decided.
enum Checked {
    /// Show the form (or sign in) for this application.
    Proceed(Application),
    /// Answer with this (an error page, or a redirect carrying an error).
    Answer(Response),
}

async fn check(state: &AppState, request: &AuthorizeRequest) -> Checked {
    let app = match state
        .engine
        .find_dialect_app(Dialect::Prism, request.client_id.trim())
        .await
    {
        Ok(Some((app, _))) => app,
        Ok(None) => {
            return Checked::Answer(error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in link is not valid: its client_id is unknown.",
            ));
        }
        Err(e) => {
            tracing::error!(error = %e, "prism authorize: client lookup failed");
            return Checked::Answer(error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable right now. Please try again shortly.",
            ));
        }
    };
    if let Err(reason) = check_redirect_uri(&request.redirect_uri) {
        return Checked::Answer(error_page(
            StatusCode::BAD_REQUEST,
            &format!("This sign-in link is not valid: its redirect_uri {reason}."),
        ));
    }
    match request.response_type.as_str() {
        "code" => Checked::Proceed(app),
        "" => Checked::Answer(redirect(
            &request.redirect_uri,
            &[("error", "invalid_request")],
            &request.state,
        )),
        _ => Checked::Answer(redirect(
            &request.redirect_uri,
            &[("error", "unsupported_response_type")],
            &request.state,
        )),
    }
}

/// `GET /oauth/authorize` — the login page.
pub(crate) async fn page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let request = AuthorizeRequest::parse(query.unwrap_or_default().as_bytes());
    match check(&state, &request).await {
        Checked::Answer(response) => response,
        Checked::Proceed(app) => login_form(StatusCode::OK, &app, &request, None),
    }
}

/// `POST /oauth/authorize` — the form: sign in, then back to PRISM with a code.
pub(crate) async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await else {
        return error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The sign-in form sent too much data.",
        );
    };
    let request = AuthorizeRequest::parse(&body);
    let app = match check(&state, &request).await {
        Checked::Answer(response) => return response,
        Checked::Proceed(app) => app,
    };
    if request.username.trim().is_empty() || request.password.is_empty() {
        return login_form(
            StatusCode::BAD_REQUEST,
            &app,
            &request,
            Some("Enter your user name and password."),
        );
    }
    let user = match state
        .engine
        .verify_user_password(app.id, request.username.trim(), &request.password)
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => {
            return login_form(
                StatusCode::UNAUTHORIZED,
                &app,
                &request,
                Some("Wrong user name or password."),
            );
        }
        Err(e) => return unavailable(e),
    };
    let code = match state
        .engine
        .issue_dialect_token(
            app.id,
            DialectTokenKind::PrismCode,
            Some(user.id),
            PRISM_CODE_TTL,
            json!({ "redirect_uri": request.redirect_uri }),
        )
        .await
    {
        Ok(code) => code,
        Err(e) => return unavailable(e),
    };
    redirect(&request.redirect_uri, &[("code", &code)], &request.state)
}

fn unavailable(e: hubbub_core::Error) -> Response {
    tracing::error!(error = %e, "prism authorize: sign-in failed");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in is unavailable right now. Please try again shortly.",
    )
}

/// Why `raw` may not be redirected to, if it may not.
pub(crate) fn check_redirect_uri(raw: &str) -> Result<(), &'static str> {
    if raw.is_empty() {
        return Err("is missing");
    }
    if raw.len() > MAX_REDIRECT_URI_BYTES {
        return Err("is too long");
    }
    if !raw.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err("must be printable ASCII without spaces (percent-encode the rest)");
    }
    if raw.contains('#') {
        return Err("must not have a fragment");
    }
    let lower = raw.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Err("must be an http or https URI");
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err("must name a host, without user info");
    }
    if lower.starts_with(PRISM_AUTH_HOST_PREFIX) {
        let service_id = if lower.starts_with(PRISM_CALLBACK_PREFIX) {
            &raw[PRISM_CALLBACK_PREFIX.len()..]
        } else {
            ""
        };
        let valid = (1..=64).contains(&service_id.len())
            && service_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err("is not PRISM's partner callback \
                 (https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/{serviceId})");
        }
    }
    Ok(())
}

/// A 302 to `uri` with `params` (and `state`, when PRISM sent one) added to its query.
fn redirect(uri: &str, params: &[(&str, &str)], state: &str) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        query.append_pair(key, value);
    }
    if !state.is_empty() {
        query.append_pair("state", state);
    }
    let separator = match uri.contains('?') {
        false => "?",
        true if uri.ends_with('?') || uri.ends_with('&') => "",
        true => "&",
    };
    let location = format!("{uri}{separator}{}", query.finish());
    match HeaderValue::from_str(&location) {
        Ok(value) => {
            let mut response = StatusCode::FOUND.into_response();
            let headers = response.headers_mut();
            headers.insert(header::LOCATION, value);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        // Unreachable for a checked URI (printable ASCII), kept total anyway.
        Err(_) => error_page(StatusCode::BAD_REQUEST, "The redirect_uri is not valid."),
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The host part of a checked redirect URI, for the page to name.
fn redirect_host(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    rest.split(['/', '?']).next().unwrap_or_default()
}

fn login_form(
    status: StatusCode,
    app: &Application,
    request: &AuthorizeRequest,
    problem: Option<&str>,
) -> Response {
    let problem = problem
        .map(|p| format!(r#"<p class="problem" role="alert">{}</p>"#, escape(p)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Sign in to {app}</h1>
<p>PRISM Live Studio asks to use your account. After signing in you return to <strong>{host}</strong>.</p>
{problem}<form method="post" action="/oauth/authorize">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{client_id}">
<input type="hidden" name="redirect_uri" value="{redirect_uri}">
<input type="hidden" name="state" value="{state}">
<label>User name <input name="username" value="{username}" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>"#,
        app = escape(&app.name),
        host = escape(redirect_host(&request.redirect_uri)),
        client_id = escape(&request.client_id),
        redirect_uri = escape(&request.redirect_uri),
        state = escape(&request.state),
        username = escape(&request.username),
    );
    html(status, "Sign in", &body)
}

fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        "Sign-in error",
        &format!("<h1>Cannot sign in</h1>\n<p>{}</p>", escape(message)),
    )
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · hubbub</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#222}}
label{{display:block;margin:1rem 0}}input{{display:block;width:100%;padding:.5rem;margin-top:.25rem;box-sizing:border-box}}
button{{padding:.6rem 1.2rem}}.problem{{color:#b00020}}
</style>
</head>
<body>
{body}
</body>
</html>
"#,
        title = escape(title),
    );
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_follow_the_documented_rules() {
        for ok in [
            "https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/svc_123",
            "https://example.com/callback",
            "http://localhost:3000/cb?x=1",
            "HTTPS://Example.com",
        ] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "ftp://example.com/",
            "https://",
            "https:///path",
            "https://user@evil.example/",
            "https://example.com/cb#frag",
            "https://example.com/a b",
            "https://example.com/é",
            "https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/",
            "https://global.apis.naver.com/prism/other",
            "https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/a/b",
            "https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/a?x=1",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
        assert!(check_redirect_uri(&format!("https://e.com/{}", "a".repeat(2100))).is_err());
    }

    #[test]
    fn redirects_append_to_the_query() {
        let location = |r: Response| r.headers()[header::LOCATION].to_str().unwrap().to_owned();
        assert_eq!(
            location(redirect("https://a.example/cb", &[("code", "c1")], "s 1&x")),
            "https://a.example/cb?code=c1&state=s+1%26x"
        );
        assert_eq!(
            location(redirect("https://a.example/cb?k=v", &[("code", "c1")], "")),
            "https://a.example/cb?k=v&code=c1"
        );
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
