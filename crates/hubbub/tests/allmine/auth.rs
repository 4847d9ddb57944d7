//! OTP logins, refresh rotation, logout and access JWTs (reference 3.2, checklist 9-10).

use crate::helpers::{TestApp, assert_iso_millis, hex, spawn_app, spawn_app_with};
use hubbub_core::engine::sign_hs256;
use hubbub_core::names::UserName;
use reqwest::Method;
use serde_json::{Value, json};

const AUTH: &str = "Authentication required";
const VALIDATION: &str = "Validation failed";
const TOO_MANY: &str = "Too many requests";
/// Wrong guesses per window, and codes per window (the documented limits).
const MAX_FAILURES: u32 = 5;
const MAX_SENDS: u32 = 5;

fn code_of(data: &Value) -> String {
    let code = data["code"]
        .as_str()
        .expect("the code is returned")
        .to_owned();
    assert_eq!(code.len(), 4);
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    code
}

/// A code that is not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:04}", (n + 1) % 10_000)
}

async fn send_email_otp(app: &TestApp, email: &str) -> String {
    let answer = app
        .auth("/auth/send-otp-email", json!({ "email": email }))
        .await;
    let data = answer.data(201);
    code_of(data)
}

/// Checks a login answer and returns it.
fn login(answer: &crate::helpers::Answer) -> Value {
    let data = answer.data(201).clone();
    assert!(data["accessToken"].as_str().unwrap().split('.').count() == 3);
    assert!(!data["refreshToken"].as_str().unwrap().is_empty());
    assert_eq!(data["expiresIn"], 3600);
    assert_eq!(data["refreshExpiresIn"], 2_592_000);
    data
}

/// Sends a message with `token` into a fresh stream; returns the answer.
async fn try_send(app: &TestApp, token: &str) -> crate::helpers::Answer {
    let n = unique();
    let (owner, _) = app.user(&format!("owner-{n}")).await;
    let (_, stream) = app.stream(&format!("room-{n}"), owner.id).await;
    app.post(
        &format!("/live-stream/{stream}/chat/messages"),
        Some(token),
        json!({"content": "hello"}),
    )
    .await
}

/// A name no other call of this test binary uses.
fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn email_otp_logs_in_and_creates_the_user_once() {
    let app = spawn_app().await;
    let answer = app
        .auth(
            "/auth/send-otp-email",
            json!({"email": "  John.Doe@Example.com "}),
        )
        .await;
    let data = answer.data(201);
    let code = code_of(data);
    assert_eq!(
        data,
        &json!({"email": "john.doe@example.com", "code": code})
    );

    let answer = app
        .auth(
            "/auth/verify-otp-email",
            json!({"email": "john.doe@example.com", "code": code}),
        )
        .await;
    let data = login(&answer);
    let user = app
        .engine
        .store()
        .get_user_by_name(app.app, &UserName::parse("john.doe@example.com").unwrap())
        .await
        .unwrap()
        .expect("the login created the user");
    assert_eq!(user.display_name.as_str(), "john.doe");
    assert_iso_millis(&data["user"]["createdAt"]);
    assert_eq!(
        data,
        json!({
            "accessToken": data["accessToken"],
            "refreshToken": data["refreshToken"],
            "expiresIn": 3600,
            "refreshExpiresIn": 2_592_000,
            "user": {
                "_id": hex(user.id.0),
                "username": "john.doe@example.com",
                "name": "john.doe",
                "surname": null,
                "profilePhoto": null,
                "availabilityStatus": "available",
                "createdAt": data["user"]["createdAt"],
                "updatedAt": data["user"]["createdAt"],
            },
            "isNewUser": true,
        })
    );
    // The access token is the caller's identity in the chat.
    let access = data["accessToken"].as_str().unwrap();
    let sent = try_send(&app, access).await;
    assert_eq!(sent.data(201)["sender"]["username"], "john.doe@example.com");

    // The code was used up.
    app.auth(
        "/auth/verify-otp-email",
        json!({"email": "john.doe@example.com", "code": code}),
    )
    .await
    .error(401, AUTH);

    // A second login finds the same user.
    let code = send_email_otp(&app, "john.doe@example.com").await;
    let again = app
        .auth(
            "/auth/verify-otp-email",
            json!({"email": "JOHN.DOE@example.com", "code": code}),
        )
        .await;
    let again = login(&again);
    assert_eq!(again["isNewUser"], false);
    assert_eq!(again["user"]["_id"], hex(user.id.0));
}

#[tokio::test]
async fn phone_otp_logs_in_with_an_e164_user_name() {
    let app = spawn_app().await;
    let answer = app
        .auth(
            "/auth/send-otp",
            json!({"countryCode": "+90", "phoneNumber": "555 123 45 67"}),
        )
        .await;
    let data = answer.data(201);
    let code = code_of(data);
    assert_eq!(
        data,
        &json!({"countryCode": "+90", "phoneNumber": "5551234567", "code": code})
    );
    // A code sent as a number is read as its digits.
    let numeric: u64 = code.parse().unwrap();
    let answer = app
        .auth(
            "/auth/verify-otp",
            json!({
                "countryCode": "90",
                "phoneNumber": "5551234567",
                "code": numeric,
                "signupSource": "instagram",
                "signupCampaign": "spring",
            }),
        )
        .await;
    let data = login(&answer);
    assert_eq!(data["user"]["username"], "+905551234567");
    assert_eq!(data["user"]["name"], "+905551234567");
    assert_eq!(data["isNewUser"], true);
    let user = app
        .engine
        .store()
        .get_user_by_name(app.app, &UserName::parse("+905551234567").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Value::Object(user.properties.as_map().clone()),
        json!({"signupSource": "instagram", "signupCampaign": "spring"})
    );
    let sent = try_send(&app, data["accessToken"].as_str().unwrap()).await;
    assert_eq!(sent.data(201)["sender"]["username"], "+905551234567");
}

#[tokio::test]
async fn bad_otp_input_is_400() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"email": ""}),
        json!({"email": "not-an-email"}),
        json!({"email": 7}),
        json!({"email": "a@b"}),
    ] {
        app.auth("/auth/send-otp-email", body)
            .await
            .error(400, VALIDATION);
    }
    for body in [
        json!({}),
        json!({"countryCode": "+90"}),
        json!({"countryCode": "+90", "phoneNumber": "12"}),
        json!({"countryCode": "abc", "phoneNumber": "5551234567"}),
        json!({"countryCode": "+90", "phoneNumber": "555-CALL-NOW"}),
    ] {
        app.auth("/auth/send-otp", body)
            .await
            .error(400, VALIDATION);
    }
    let code = send_email_otp(&app, "jane@example.com").await;
    for bad_code in [
        json!("12"),
        json!("12345"),
        json!("abcd"),
        json!(null),
        json!(true),
    ] {
        app.auth(
            "/auth/verify-otp-email",
            json!({"email": "jane@example.com", "code": bad_code}),
        )
        .await
        .error(400, VALIDATION);
    }
    app.auth(
        "/auth/verify-otp",
        json!({"countryCode": "+90", "phoneNumber": "5551234567", "code": "1234",
               "signupSource": "x".repeat(129)}),
    )
    .await
    .error(400, VALIDATION);
    // Malformed codes cost no attempt: the code still works.
    let answer = app
        .auth(
            "/auth/verify-otp-email",
            json!({"email": "jane@example.com", "code": code}),
        )
        .await;
    login(&answer);
    app.auth("/auth/refresh", json!({}))
        .await
        .error(400, VALIDATION);
    app.auth("/auth/refresh", json!({"refreshToken": 5}))
        .await
        .error(400, VALIDATION);
}

#[tokio::test]
async fn a_wrong_code_fails_and_keeps_the_right_one_valid() {
    let app = spawn_app().await;
    let code = send_email_otp(&app, "kim@example.com").await;
    let verify = |code: String| {
        let app = &app;
        async move {
            app.auth(
                "/auth/verify-otp-email",
                json!({"email": "kim@example.com", "code": code}),
            )
            .await
        }
    };
    verify(wrong(&code)).await.error(401, AUTH);
    // The code is per address: it does not open another address.
    send_email_otp(&app, "lee@example.com").await;
    app.auth(
        "/auth/verify-otp-email",
        json!({"email": "lee@example.com", "code": code}),
    )
    .await
    .error(401, AUTH);
    login(&verify(code.clone()).await);
    // Never sent, or already used: 401.
    verify(code).await.error(401, AUTH);
    app.auth(
        "/auth/verify-otp-email",
        json!({"email": "nobody@example.com", "code": "1234"}),
    )
    .await
    .error(401, AUTH);
}

#[tokio::test]
async fn five_wrong_guesses_kill_the_code() {
    let app = spawn_app().await;
    let code = send_email_otp(&app, "target@example.com").await;
    for _ in 0..MAX_FAILURES {
        app.auth(
            "/auth/verify-otp-email",
            json!({"email": "target@example.com", "code": wrong(&code)}),
        )
        .await
        .error(401, AUTH);
    }
    // Even the right code fails now.
    app.auth(
        "/auth/verify-otp-email",
        json!({"email": "target@example.com", "code": code}),
    )
    .await
    .error(401, AUTH);
    // And no new code is sent until the window ends.
    let answer = app
        .auth(
            "/auth/send-otp-email",
            json!({"email": "target@example.com"}),
        )
        .await;
    answer.error(429, TOO_MANY);
    let retry: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((590..=600).contains(&retry), "{retry}");
    // Other addresses are not affected.
    send_email_otp(&app, "bystander@example.com").await;
}

#[tokio::test]
async fn a_new_code_keeps_the_count_of_wrong_guesses() {
    let app = spawn_app().await;
    let first = send_email_otp(&app, "sam@example.com").await;
    for _ in 0..MAX_FAILURES - 1 {
        app.auth(
            "/auth/verify-otp-email",
            json!({"email": "sam@example.com", "code": wrong(&first)}),
        )
        .await
        .error(401, AUTH);
    }
    let second = send_email_otp(&app, "sam@example.com").await;
    // The old code was replaced.
    if first != second {
        app.auth(
            "/auth/verify-otp-email",
            json!({"email": "sam@example.com", "code": first}),
        )
        .await
        .error(401, AUTH);
    } else {
        app.auth(
            "/auth/verify-otp-email",
            json!({"email": "sam@example.com", "code": wrong(&second)}),
        )
        .await
        .error(401, AUTH);
    }
    // That was the fifth wrong guess of the window: the new code is dead too.
    app.auth(
        "/auth/verify-otp-email",
        json!({"email": "sam@example.com", "code": second}),
    )
    .await
    .error(401, AUTH);
}

#[tokio::test]
async fn codes_per_window_are_limited() {
    let app = spawn_app().await;
    let mut last = String::new();
    for _ in 0..MAX_SENDS {
        last = send_email_otp(&app, "spam@example.com").await;
    }
    app.auth("/auth/send-otp-email", json!({"email": "spam@example.com"}))
        .await
        .error(429, TOO_MANY);
    // The last code sent still works.
    login(
        &app.auth(
            "/auth/verify-otp-email",
            json!({"email": "spam@example.com", "code": last}),
        )
        .await,
    );
}

#[tokio::test]
async fn the_application_comes_from_the_header_or_is_the_only_one() {
    let app = spawn_app().await;
    // Two applications and no header: which one is unknown.
    app.post(
        "/auth/send-otp-email",
        None,
        json!({"email": "a@example.com"}),
    )
    .await
    .error(401, AUTH);
    let unknown = app
        .request(Method::POST, "/auth/send-otp-email", None)
        .header("x-allmine-app", "allmine_nope")
        .json(&json!({"email": "a@example.com"}));
    app.send(unknown).await.error(401, AUTH);
    // A code sent for one application does not log into another.
    let code = send_email_otp(&app, "a@example.com").await;
    let (_, other_key) = app.other.clone().unwrap();
    let elsewhere = app
        .request(Method::POST, "/auth/verify-otp-email", None)
        .header("x-allmine-app", &other_key)
        .json(&json!({"email": "a@example.com", "code": code}));
    app.send(elsewhere).await.error(401, AUTH);
    login(
        &app.auth(
            "/auth/verify-otp-email",
            json!({"email": "a@example.com", "code": code}),
        )
        .await,
    );

    // A server with one application needs no header.
    let single = spawn_app_with(1, |_| {}).await;
    let answer = single
        .post(
            "/auth/send-otp-email",
            None,
            json!({"email": "b@example.com"}),
        )
        .await;
    let code = code_of(answer.data(201));
    let answer = single
        .post(
            "/auth/verify-otp-email",
            None,
            json!({"email": "b@example.com", "code": code}),
        )
        .await;
    let data = login(&answer);
    let identity = single
        .engine
        .authenticate_allmine(data["accessToken"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(identity.app.id, single.app);
}

#[tokio::test]
async fn the_code_stays_out_of_the_answer_when_configured() {
    let app = spawn_app_with(1, |c| c.auth.allmine_otp_in_response = false).await;
    let answer = app
        .post(
            "/auth/send-otp-email",
            None,
            json!({"email": "c@example.com"}),
        )
        .await;
    assert_eq!(answer.data(201), &json!({"email": "c@example.com"}));
    let answer = app
        .post(
            "/auth/send-otp",
            None,
            json!({"countryCode": "+1", "phoneNumber": "5551234"}),
        )
        .await;
    assert_eq!(
        answer.data(201),
        &json!({"countryCode": "+1", "phoneNumber": "5551234"})
    );
}

/// Checklist 9: an expired JWT is refused; refresh gives a new pair.
#[tokio::test]
async fn expired_access_tokens_are_401_and_refresh_issues_a_new_pair() {
    let app = spawn_app().await;
    let (user, _) = app.user("viewer").await;
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64| json!({"iss": app.key, "sub": user.id.0.to_string(), "iat": now - 7200, "exp": exp, "jti": "t"});
    let expired = sign_hs256(app.secret.as_bytes(), &claims(now - 1));
    try_send(&app, &expired).await.error(401, AUTH);
    // The same claims, unexpired, pass: only the expiry failed.
    let fresh = sign_hs256(app.secret.as_bytes(), &claims(now + 60));
    try_send(&app, &fresh).await.data(201);
    // A wrong signature, a missing exp, an unknown issuer.
    let forged = sign_hs256(b"not the secret", &claims(now + 60));
    try_send(&app, &forged).await.error(401, AUTH);
    let no_exp = sign_hs256(
        app.secret.as_bytes(),
        &json!({"iss": app.key, "sub": user.id.0.to_string()}),
    );
    try_send(&app, &no_exp).await.error(401, AUTH);
    let wrong_iss = sign_hs256(
        app.secret.as_bytes(),
        &json!({"iss": "allmine_other", "sub": user.id.0.to_string(), "exp": now + 60}),
    );
    try_send(&app, &wrong_iss).await.error(401, AUTH);
    // Bare JWTs (no "Bearer ") are accepted, as Allmine's playground sends them.
    let (owner, _) = app.user("owner").await;
    let (_, stream) = app.stream("bare", owner.id).await;
    let bare = app
        .request(
            Method::POST,
            &format!("/live-stream/{stream}/chat/messages"),
            None,
        )
        .header("authorization", &fresh)
        .json(&json!({"content": "bare"}));
    app.send(bare).await.data(201);

    // Refresh.
    let pair = app
        .engine
        .issue_allmine_tokens(app.app, user.id)
        .await
        .unwrap();
    let answer = app
        .auth("/auth/refresh", json!({"refreshToken": pair.refresh_token}))
        .await;
    let data = answer.data(201);
    assert_eq!(
        data,
        &json!({
            "accessToken": data["accessToken"],
            "refreshToken": data["refreshToken"],
            "expiresIn": 3600,
            "refreshExpiresIn": 2_592_000,
        })
    );
    assert_ne!(data["refreshToken"], pair.refresh_token.as_str());
    let access = data["accessToken"].as_str().unwrap();
    let sent = try_send(&app, access).await;
    assert_eq!(sent.data(201)["sender"]["username"], "viewer");
    // The refreshed token's expiry is an hour away.
    let payload = access.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert!((now + 3590..=now + 3700).contains(&exp), "{claims}");
}

/// Checklist 10: a refresh token works once.
#[tokio::test]
async fn a_used_refresh_token_is_401() {
    let app = spawn_app().await;
    let code = send_email_otp(&app, "once@example.com").await;
    let first = login(
        &app.auth(
            "/auth/verify-otp-email",
            json!({"email": "once@example.com", "code": code}),
        )
        .await,
    );
    let old = first["refreshToken"].as_str().unwrap().to_owned();
    let second = app
        .auth("/auth/refresh", json!({"refreshToken": old}))
        .await;
    let new = second.data(201)["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    app.auth("/auth/refresh", json!({"refreshToken": old}))
        .await
        .error(401, AUTH);
    // The new one works (once), and nonsense never does.
    app.auth("/auth/refresh", json!({"refreshToken": new}))
        .await
        .data(201);
    app.auth("/auth/refresh", json!({"refreshToken": new}))
        .await
        .error(401, AUTH);
    app.auth("/auth/refresh", json!({"refreshToken": "nonsense"}))
        .await
        .error(401, AUTH);
    // An access token is no refresh token.
    app.auth(
        "/auth/refresh",
        json!({"refreshToken": first["accessToken"]}),
    )
    .await
    .error(401, AUTH);
}

#[tokio::test]
async fn logout_revokes_every_refresh_token_of_the_user() {
    let app = spawn_app().await;
    let (user, _) = app.user("leaving").await;
    let (other, _) = app.user("staying").await;
    let phone = app
        .engine
        .issue_allmine_tokens(app.app, user.id)
        .await
        .unwrap();
    let laptop = app
        .engine
        .issue_allmine_tokens(app.app, user.id)
        .await
        .unwrap();
    let bystander = app
        .engine
        .issue_allmine_tokens(app.app, other.id)
        .await
        .unwrap();

    app.post("/auth/logout", None, json!({}))
        .await
        .error(401, AUTH);
    let answer = app
        .post("/auth/logout", Some(&phone.access_token), json!({}))
        .await;
    assert_eq!(answer.data(201), &json!({"success": true}));
    for pair in [&phone, &laptop] {
        app.auth("/auth/refresh", json!({"refreshToken": pair.refresh_token}))
            .await
            .error(401, AUTH);
    }
    app.auth(
        "/auth/refresh",
        json!({"refreshToken": bystander.refresh_token}),
    )
    .await
    .data(201);
    // Access JWTs are not stored: they run until they expire (an hour at most).
    try_send(&app, &laptop.access_token).await.data(201);
}
