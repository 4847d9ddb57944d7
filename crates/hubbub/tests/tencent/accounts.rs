//! Account import.

use crate::helpers::*;
use serde_json::json;

const IMPORT: &str = "im_open_login_svc/account_import";
const MULTI: &str = "im_open_login_svc/multiaccount_import";

async fn user(app: &TestApp, name: &str) -> serde_json::Value {
    let users = app.platform_get(&format!("/v1/users?name={name}")).await;
    users["_embedded"]["users"][0].clone()
}

/// Checklist 14 (account_import): the same import twice is OK both times and one
/// user; Nick and FaceUrl become the display name and picture, and a later import
/// updates them.
#[tokio::test]
async fn account_import_is_idempotent_and_updates() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let answer = app.call(IMPORT, json!({"UserID": "u1"})).await;
        assert_eq!(
            without_request_id(&answer),
            json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0})
        );
    }
    let users = app.platform_get("/v1/users?name=u1").await;
    assert_eq!(users["page"]["total_elements"], 1, "{users}");
    assert_eq!(user(&app, "u1").await["display_name"], "u1");

    ok(&app
        .call(
            IMPORT,
            json!({"UserID": "u1", "Nick": "Una", "FaceUrl": "https://cdn.example/u1.png"}),
        )
        .await);
    let u1 = user(&app, "u1").await;
    assert_eq!(u1["display_name"], "Una");
    assert_eq!(u1["display_picture_url"], "https://cdn.example/u1.png");
    // Importing without Nick keeps it.
    ok(&app.call(IMPORT, json!({"UserID": "u1"})).await);
    assert_eq!(user(&app, "u1").await["display_name"], "Una");
}

/// Bad imports: 70402 for a missing, empty or over-32-byte UserID or a FaceUrl
/// that is no http(s) URL; 40601 for a value over 500 bytes.
#[tokio::test]
async fn bad_account_imports_are_refused() {
    let app = spawn_app().await;
    for bad in [
        json!({}),
        json!({"UserID": ""}),
        json!({"UserID": 7}),
        json!({"UserID": "u".repeat(33)}),
        json!({"UserID": "u2", "FaceUrl": "ftp://example.com/a.png"}),
        json!({"UserID": " padded "}),
    ] {
        fail(&app.call(IMPORT, bad).await, 70402);
    }
    fail(
        &app.call(IMPORT, json!({"UserID": "u2", "Nick": "n".repeat(501)}))
            .await,
        40601,
    );
    let users = app.platform_get("/v1/users?name=u2").await;
    assert_eq!(users["page"]["total_elements"], 0, "{users}");
    ok(&app.call(IMPORT, json!({"UserID": "u".repeat(32)})).await);
}

/// Checklist 14 (multiaccount_import): 101 ids are FAIL 70402; both forms import;
/// accounts that cannot be imported are listed in FailAccounts (beside the envelope,
/// as Tencent Chat puts it) and the rest are imported.
#[tokio::test]
async fn multiaccount_import_takes_both_forms_up_to_100() {
    let app = spawn_app().await;
    let ids: Vec<String> = (0..101).map(|i| format!("m{i}")).collect();
    let info = fail(&app.call(MULTI, json!({"Accounts": ids})).await, 70402);
    assert!(info.contains("100"), "{info}");
    let none = app.platform_get("/v1/users?name=m0").await;
    assert_eq!(none["page"]["total_elements"], 0);

    let answer = app
        .call(
            MULTI,
            json!({"Accounts": ["m1", "m2", "", "m".repeat(33), "m1"]}),
        )
        .await;
    assert_eq!(
        without_request_id(&answer),
        json!({"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": 0,
               "FailAccounts": ["", "m".repeat(33)]})
    );
    assert_eq!(user(&app, "m2").await["name"], "m2");

    let answer = app
        .call(
            MULTI,
            json!({"AccountList": [
                {"UserID": "m1", "Nick": "Em One", "FaceUrl": "http://www.qq.com"},
                {"UserID": "m3"},
                {"UserID": "m4", "FaceUrl": "not a url"},
            ]}),
        )
        .await;
    assert_eq!(answer["FailAccounts"], json!(["m4"]), "{answer}");
    assert_eq!(user(&app, "m1").await["display_name"], "Em One");
    assert_eq!(user(&app, "m3").await["name"], "m3");

    for bad in [
        json!({}),
        json!({"Accounts": []}),
        json!({"Accounts": "m1"}),
        json!({"Accounts": [1, 2]}),
        json!({"AccountList": [{"Nick": "no id"}]}),
    ] {
        fail(&app.call(MULTI, bad).await, 70402);
    }
}
