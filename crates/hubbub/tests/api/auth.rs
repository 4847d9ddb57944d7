use crate::helpers::*;
use reqwest::Method;
use serde_json::Value;

#[tokio::test]
async fn token_endpoint_accepts_basic_auth_with_form_and_multipart_bodies() {
    let app = spawn_app().await;
    let url = format!("{}/oauth/token", app.base);
    let form = reqwest::multipart::Form::new().text("grant_type", "client_credentials");
    let response = app
        .client
        .post(&url)
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = ok(response).await;
    assert!(body["access_token"].as_str().unwrap().len() > 20);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["scope"].as_str().unwrap().contains("read:*"));

    // client_secret_post is accepted too.
    let response = app
        .client
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ])
        .send()
        .await
        .unwrap();
    let token = ok(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .client
        .get(format!("{}/application", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok(response).await["key"], app.client_id.as_str());
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = spawn_app().await;
    let url = format!("{}/oauth/token", app.base);
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            app.client
                .post(&url)
                .basic_auth(&app.client_id, Some("wrong"))
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            app.client
                .post(&url)
                .basic_auth("nobody", Some("x"))
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            app.client
                .post(&url)
                .form(&[("grant_type", "client_credentials")]),
            401,
            "invalid_client",
        ),
        (
            app.client
                .post(&url)
                .basic_auth(&app.client_id, Some(&app.client_secret))
                .form(&[("grant_type", "password")]),
            400,
            "unsupported_grant_type",
        ),
        (
            app.client
                .post(&url)
                .basic_auth(&app.client_id, Some(&app.client_secret))
                .form(&[("x", "y")]),
            400,
            "invalid_request",
        ),
        (
            app.client
                .post(&url)
                .basic_auth(&app.client_id, Some(&app.client_secret))
                .header("content-type", "application/json")
                .body("{}"),
            400,
            "invalid_request",
        ),
    ];
    for (request, status, error) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{body}");
        assert!(body["error_description"].as_str().unwrap().len() > 5);
    }
}

#[tokio::test]
async fn platform_calls_need_a_valid_bearer_token() {
    let app = spawn_app().await;
    let url = format!("{}/v1/users", app.base);
    let body = api_error(app.client.get(&url).send().await.unwrap(), 401).await;
    assert_eq!(body["error"], "UnauthorizedError");
    api_error(
        app.client
            .get(&url)
            .bearer_auth("hbt_forged")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    api_error(
        app.client
            .get(&url)
            .header("authorization", "Basic abc")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let app = spawn_app().await;
    let store = app.engine.store();
    let app_id = app.engine.list_applications().await.unwrap()[0].id;
    let now = hubbub_core::model::now();
    let hash = hubbub_core::credentials::hash_secret;
    store
        .insert_access_token(app_id, &hash("hbt_expired"), now - chrono_secs(1))
        .await
        .unwrap();
    store
        .insert_access_token(app_id, &hash("hbt_valid"), now + chrono_secs(60))
        .await
        .unwrap();
    let get = |token: &'static str| {
        app.client
            .get(format!("{}/v1/application", app.base))
            .bearer_auth(token)
            .send()
    };
    api_error(get("hbt_expired").await.unwrap(), 401).await;
    ok(get("hbt_valid").await.unwrap()).await;
    api_error(get("hbt_never_issued").await.unwrap(), 401).await;
}

#[tokio::test]
async fn another_applications_ids_are_not_found_and_nothing_changes() {
    let app = spawn_app().await;
    let user = app.create_user("alice").await;
    let channel = app.create_channel("room").await;
    let message = app.send_text(id(&channel), Some("alice"), "hello").await;
    let (u, c, m) = (id(&user), id(&channel), id(&message));

    let reads = [
        format!("/v1/users/{u}"),
        format!("/v1/channels/{c}"),
        format!("/v1/messages/{m}"),
        format!("/v1/channels/{c}/messages"),
        format!("/v1/channels/{c}/members"),
        format!("/v1/users/{u}/channels"),
    ];
    for path in &reads {
        api_error(app.other(Method::GET, path).send().await.unwrap(), 404).await;
    }
    let writes = [
        app.other(Method::DELETE, &format!("/v1/users/{u}")),
        app.other(Method::DELETE, &format!("/v1/channels/{c}")),
        app.other(Method::DELETE, &format!("/v1/messages/{m}")),
        app.other(Method::PATCH, &format!("/v1/users/{u}"))
            .header("content-type", "application/json+merge-patch")
            .body(r#"{"display_name":"hacked"}"#),
        app.other(Method::PATCH, &format!("/v1/messages/{m}"))
            .header("content-type", "application/json+merge-patch")
            .body(r#"{"body":"hacked"}"#),
        app.other(Method::POST, &format!("/v1/channels/{c}/messages"))
            .json(&serde_json::json!({"type": "TEXT", "body": "intruder"})),
        app.other(Method::POST, &format!("/v1/channels/{c}/members"))
            .json(&serde_json::json!({"id": u})),
    ];
    for request in writes {
        api_error(request.send().await.unwrap(), 404).await;
    }
    // The other application's own lists do not show them either.
    let users = ok(app.other(Method::GET, "/v1/users").send().await.unwrap()).await;
    assert_eq!(users["page"]["total_elements"], 0);
    ok(app
        .other(Method::DELETE, "/v1/messages")
        .send()
        .await
        .unwrap())
    .await;

    // Nothing changed.
    assert_eq!(
        ok(app.get(&format!("/v1/users/{u}")).await).await["display_name"],
        "alice"
    );
    let msg = ok(app.get(&format!("/v1/messages/{m}")).await).await;
    assert_eq!(msg["body"], "hello");
    let page = ok(app.get(&format!("/v1/channels/{c}/messages")).await).await;
    assert_eq!(page["page"]["total"], 1);
}
