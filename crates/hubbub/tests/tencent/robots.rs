//! Room robots.

use crate::helpers::*;
use serde_json::json;

const ADD: &str = "live_engine_http_srv/add_robot";
const DEL: &str = "live_engine_http_srv/del_robot";
const GET: &str = "live_engine_http_srv/get_robot";

async fn robots(app: &TestApp, room: &str) -> serde_json::Value {
    ok(&app.call(GET, json!({"RoomId": room})).await)["RobotList_Account"].clone()
}

/// Checklist 13: an account never imported is 70107; a fourth robot is 100002; a
/// list with one bad entry adds none. Robots are BOT users everywhere.
#[tokio::test]
async fn robots_are_imported_accounts_three_at_most() {
    let app = spawn_app().await;
    app.create_room("bots").await;
    for name in ["r1", "r2", "r3", "r4"] {
        app.import(name).await;
    }
    let info = fail(
        &app.call(
            ADD,
            json!({"RoomId": "bots", "RobotList_Account": ["ghost"]}),
        )
        .await,
        70107,
    );
    assert!(info.contains("imported"), "{info}");
    fail(
        &app.call(
            ADD,
            json!({"RoomId": "bots", "RobotList_Account": ["r1", "ghost"]}),
        )
        .await,
        70107,
    );
    assert_eq!(robots(&app, "bots").await, json!([]));

    ok(&app
        .call(
            ADD,
            json!({"RoomId": "bots", "RobotList_Account": ["r1", "r2"]}),
        )
        .await);
    ok(&app
        .call(
            ADD,
            json!({"RoomId": "bots", "RobotList_Account": ["r3", "r1"]}),
        )
        .await);
    assert_eq!(robots(&app, "bots").await, json!(["r1", "r2", "r3"]));
    let info = fail(
        &app.call(ADD, json!({"RoomId": "bots", "RobotList_Account": ["r4"]}))
            .await,
        100002,
    );
    assert!(info.contains("at most 3"), "{info}");
    assert_eq!(robots(&app, "bots").await, json!(["r1", "r2", "r3"]));

    let users = app.platform_get("/v1/users?name=r1").await;
    assert_eq!(users["_embedded"]["users"][0]["type"], "BOT", "{users}");

    ok(&app
        .call(DEL, json!({"RoomId": "bots", "RobotList_Account": ["r2"]}))
        .await);
    ok(&app
        .call(ADD, json!({"RoomId": "bots", "RobotList_Account": ["r4"]}))
        .await);
    assert_eq!(robots(&app, "bots").await, json!(["r1", "r3", "r4"]));
}

/// Checklist 2 (add_robot): a 49-byte RoomId is 100002; missing lists too; an
/// unknown room 100004.
#[tokio::test]
async fn robot_requests_are_validated() {
    let app = spawn_app().await;
    app.import("r1").await;
    let info = fail(
        &app.call(
            ADD,
            json!({"RoomId": "x".repeat(49), "RobotList_Account": ["r1"]}),
        )
        .await,
        100002,
    );
    assert!(info.contains("48"), "{info}");
    fail(&app.call(ADD, json!({"RoomId": "bots"})).await, 100002);
    fail(
        &app.call(ADD, json!({"RoomId": "bots", "RobotList_Account": ["r1"]}))
            .await,
        100004,
    );
    fail(&app.call(GET, json!({"RoomId": "bots"})).await, 100004);
}
