//! PRISM's OAuth 2.0 flow with hubbub as the authorization server (seed-surfaces
//! 1.3; checklist rows 11-13): the login page, its form, the code exchange and the
//! refresh.

use crate::helpers::{TestApp, oauth_fails, ok, spawn_app};
use hubbub_core::engine::{Actor, UserRef};
use hubbub_core::model::User;
use hubbub_core::names::UserName;
use reqwest::{Method, Response};
use serde_json::{Value, json};

const PRISM_CALLBACK: &str =
    "https://global.apis.naver.com/prism/prism-auth-api/oauth/partner/svc-42";
const PASSWORD: &str = "correct horse battery";

impl TestApp {
    async fn with_password(&self, name: &str) -> User {
        let user = self.user(name).await;
        self.engine
            .set_user_password(
                &Actor::App(self.app),
                &UserRef::Name(UserName::parse(name).unwrap()),
                Some(PASSWORD),
            )
            .await
            .unwrap();
        user
    }

    async fn authorize_page(&self, query: &[(&str, &str)]) -> Response {
        self.client
            .get(self.url("/oauth/authorize"))
            .query(query)
            .send()
            .await
            .unwrap()
    }

    /// Opens the login page, fills in its form and submits it as a browser would.
    async fn sign_in(&self, state: &str, username: &str, password: &str) -> Response {
        let page = self
            .authorize_page(&[
                ("response_type", "code"),
                ("client_id", &self.client_id),
                ("redirect_uri", PRISM_CALLBACK),
                ("state", state),
            ])
            .await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let (action, mut fields) = form_of(&html);
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        self.client
            .post(self.url(&action))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// A code for `user` through the real form.
    async fn code_for(&self, user: &User) -> String {
        let response = self.sign_in("s", user.name.as_str(), PASSWORD).await;
        assert_eq!(response.status(), 302);
        query_of(location(&response))
            .into_iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v)
            .expect("a code")
    }

    async fn exchange(&self, code: &str) -> Response {
        self.token_endpoint(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", PRISM_CALLBACK),
            ],
            &self.client_secret,
        )
        .await
    }
}

fn location(response: &Response) -> &str {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The form's action and its hidden fields, read from the page's HTML.
fn form_of(html: &str) -> (String, Vec<(String, String)>) {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let form = html.split("<form").nth(1).expect("a form");
    let action = attribute(form, "action").expect("an action");
    let hidden = form
        .split("<input")
        .skip(1)
        .filter(|tag| tag.contains(r#"type="hidden""#))
        .map(|tag| {
            (
                attribute(tag, "name").unwrap(),
                attribute(tag, "value").unwrap(),
            )
        })
        .collect();
    (action, hidden)
}

async fn tokens(response: Response) -> (String, String) {
    let status = response.status();
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": 3600,
        })
    );
    assert_ne!(access, refresh);
    (access, refresh)
}

/// Checklist 11 [S] and 12 [P], end to end: the login page (with everything echoed
/// escaped), its form, the redirect to PRISM with code and state, the exchange for
/// top-level tokens that work, then the reused code refused.
#[tokio::test]
async fn prism_signs_a_streamer_in_through_the_login_page() {
    let app = spawn_app().await;
    let streamer = app.with_password("streamer").await;
    let state = r#"x"><script>alert(1)</script>"#;

    let page = app
        .authorize_page(&[
            ("response_type", "code"),
            ("client_id", &app.client_id),
            ("redirect_uri", PRISM_CALLBACK),
            ("state", state),
        ])
        .await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>"), "unescaped state in {html}");
    assert!(html.contains("x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains("global.apis.naver.com"),
        "the page names the host"
    );
    let (action, hidden) = form_of(&html);
    assert_eq!(action, "/oauth/authorize");
    assert!(hidden.contains(&("state".into(), state.into())));

    let response = app.sign_in(state, "streamer", PASSWORD).await;
    assert_eq!(response.status(), 302);
    let location = location(&response).to_owned();
    assert!(
        location.starts_with(&format!("{PRISM_CALLBACK}?code=")),
        "{location}"
    );
    let params = query_of(&location);
    assert_eq!(params.len(), 2, "{location}");
    assert_eq!(params[1], ("state".to_owned(), state.to_owned()));
    let code = params[0].1.clone();

    let (access, _) = tokens(app.exchange(&code).await).await;
    let me = ok(app
        .call(Method::GET, "/prism/v1/service/user", Some(&access), None)
        .await)
    .await;
    assert_eq!(me["user"]["userId"], streamer.id.to_string());

    oauth_fails(app.exchange(&code).await, 400, "invalid_grant").await;
}

/// Checklist 12 [P]: a wrong client secret is 401 invalid_client (and leaves the code
/// usable); other bad exchanges are RFC 6749 errors.
#[tokio::test]
async fn the_token_endpoint_checks_the_client_and_the_grant() {
    let app = spawn_app().await;
    let streamer = app.with_password("streamer").await;
    let code = app.code_for(&streamer).await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", PRISM_CALLBACK),
    ];

    oauth_fails(
        app.token_endpoint(&grant, "wrong-secret").await,
        401,
        "invalid_client",
    )
    .await;
    for (id, secret) in [
        (None, Some(app.client_secret.as_str())),
        (Some(app.client_id.as_str()), None),
        (Some("prism_unknown"), Some(app.client_secret.as_str())),
    ] {
        let mut request = app
            .client
            .get(app.url("/prism/v1/service/oauth2/token"))
            .query(&grant);
        if let Some(id) = id {
            request = request.header("x-prism-client-id", id);
        }
        if let Some(secret) = secret {
            request = request.header("x-prism-client-secret", secret);
        }
        oauth_fails(request.send().await.unwrap(), 401, "invalid_client").await;
    }
    let secret = app.client_secret.clone();
    oauth_fails(
        app.token_endpoint(&[("code", &code)], &secret).await,
        400,
        "invalid_request",
    )
    .await;
    oauth_fails(
        app.token_endpoint(&[("grant_type", "password")], &secret)
            .await,
        400,
        "unsupported_grant_type",
    )
    .await;
    oauth_fails(
        app.token_endpoint(
            &[
                ("grant_type", "authorization_code"),
                ("code", "made-up"),
                ("redirect_uri", PRISM_CALLBACK),
            ],
            &secret,
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;

    // The untouched code still works once; a second code with another redirect_uri
    // than it was issued for is refused (and used up).
    tokens(app.exchange(&code).await).await;
    let other = app.code_for(&streamer).await;
    oauth_fails(
        app.token_endpoint(
            &[
                ("grant_type", "authorization_code"),
                ("code", other.as_str()),
                ("redirect_uri", "https://evil.example/cb"),
            ],
            &secret,
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;
    oauth_fails(app.exchange(&other).await, 400, "invalid_grant").await;
}

/// Checklist 13 [S~/P]: refresh works with `refresh_token=` and with `token=`; each
/// refresh rotates the refresh token, and a used one is refused.
#[tokio::test]
async fn refresh_tokens_rotate_under_either_parameter_name() {
    let app = spawn_app().await;
    let streamer = app.with_password("streamer").await;
    let code = app.code_for(&streamer).await;
    let (_, first) = tokens(app.exchange(&code).await).await;
    let secret = app.client_secret.clone();

    let (access, second) = tokens(
        app.token_endpoint(
            &[("grant_type", "refresh_token"), ("refresh_token", &first)],
            &secret,
        )
        .await,
    )
    .await;
    assert_ne!(second, first);
    let me = ok(app
        .call(Method::GET, "/prism/v1/service/user", Some(&access), None)
        .await)
    .await;
    assert_eq!(me["user"]["userId"], streamer.id.to_string());

    for name in ["refresh_token", "token"] {
        oauth_fails(
            app.token_endpoint(&[("grant_type", "refresh_token"), (name, &first)], &secret)
                .await,
            400,
            "invalid_grant",
        )
        .await;
    }
    let (access, third) = tokens(
        app.token_endpoint(
            &[("grant_type", "refresh_token"), ("token", &second)],
            &secret,
        )
        .await,
    )
    .await;
    ok(app
        .call(Method::GET, "/prism/v1/service/user", Some(&access), None)
        .await)
    .await;
    oauth_fails(
        app.token_endpoint(
            &[("grant_type", "refresh_token"), ("token", &second)],
            &secret,
        )
        .await,
        400,
        "invalid_grant",
    )
    .await;
    oauth_fails(
        app.token_endpoint(&[("grant_type", "refresh_token")], &secret)
            .await,
        400,
        "invalid_request",
    )
    .await;
    // Another application's client cannot use this refresh token; the attempt uses
    // it up, as a stolen token should be.
    let other = app
        .engine
        .dialect_credentials(app.other_app)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.dialect == hubbub_core::model::Dialect::Prism)
        .unwrap();
    let response = app
        .client
        .get(app.url("/prism/v1/service/oauth2/token"))
        .header("x-prism-client-id", &other.key)
        .header("x-prism-client-secret", &other.secret)
        .query(&[("grant_type", "refresh_token"), ("token", third.as_str())])
        .send()
        .await
        .unwrap();
    oauth_fails(response, 400, "invalid_grant").await;
}

/// [P] the login page refuses what it cannot trust: an unknown client or a bad
/// redirect_uri is an error page and never a redirect; a wrong password shows the
/// form again (401) without a code; only then is response_type checked.
#[tokio::test]
async fn the_login_page_never_redirects_to_what_it_cannot_trust() {
    let app = spawn_app().await;
    app.with_password("streamer").await;
    let id = app.client_id.clone();
    for query in [
        vec![
            ("response_type", "code"),
            ("client_id", "prism_nobody"),
            ("redirect_uri", PRISM_CALLBACK),
        ],
        vec![("response_type", "code"), ("redirect_uri", PRISM_CALLBACK)],
        vec![
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", "javascript:alert(1)"),
        ],
        vec![("response_type", "code"), ("client_id", &id)],
        vec![
            ("response_type", "code"),
            ("client_id", &id),
            (
                "redirect_uri",
                "https://global.apis.naver.com/prism/elsewhere",
            ),
        ],
        vec![
            ("response_type", "token"),
            ("client_id", "prism_nobody"),
            ("redirect_uri", PRISM_CALLBACK),
        ],
    ] {
        let response = app.authorize_page(&query).await;
        assert_eq!(response.status(), 400, "{query:?}");
        assert!(response.headers().get("location").is_none(), "{query:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("Cannot sign in"), "{html}");
        assert!(!html.contains("<form"), "{html}");
    }

    let response = app
        .authorize_page(&[
            ("response_type", "token"),
            ("client_id", &id),
            ("redirect_uri", "https://tool.example/cb?x=1"),
            ("state", "abc"),
        ])
        .await;
    assert_eq!(response.status(), 302);
    assert_eq!(
        location(&response),
        "https://tool.example/cb?x=1&error=unsupported_response_type&state=abc"
    );

    let response = app.sign_in("s", "<b>streamer</b>", PASSWORD).await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("Wrong user name or password."));
    assert!(html.contains("&lt;b&gt;streamer&lt;/b&gt;") && !html.contains("<b>"));
    let response = app.sign_in("s", "streamer", "wrong password").await;
    assert_eq!(response.status(), 401);
    let response = app.sign_in("s", "streamer", "").await;
    assert_eq!(response.status(), 400);
    // The form checks the client again: a forged post is an error page.
    let response = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&[
            ("response_type", "code"),
            ("client_id", "prism_nobody"),
            ("redirect_uri", PRISM_CALLBACK),
            ("username", "streamer"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}
