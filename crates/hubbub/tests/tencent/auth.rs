//! The calling convention: query parameters, UserSig, admin, body, methods, rates.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

const GET_ROOM_LIST: &str = "live_engine_http_srv/get_room_list";

/// Checklist 5: expired 70001, wrong key 70009, a sig for `admin` sent as
/// `administrator` 70013; and a sig for another SDKAppID 70014, garbage 70003.
#[tokio::test]
async fn bad_usersigs_are_refused_with_their_codes() {
    let app = spawn_app().await;
    let now = unix_now();
    let with_sig = |identifier: &str, sig: String| {
        format!(
            "sdkappid={SDKAPPID}&identifier={identifier}&usersig={sig}&random=7&contenttype=json"
        )
    };
    let cases = [
        // Issued 1000 s ago for 10 s.
        (
            with_sig(ADMIN, usersig(SDKAPPID, KEY, ADMIN, now - 1000, 10)),
            70001,
        ),
        (
            with_sig(ADMIN, usersig(SDKAPPID, "not-the-key", ADMIN, now, 86_400)),
            70009,
        ),
        (
            with_sig(ADMIN, usersig(SDKAPPID, KEY, "admin", now, 86_400)),
            70013,
        ),
        (
            with_sig(ADMIN, usersig(OTHER_SDKAPPID, KEY, ADMIN, now, 86_400)),
            70014,
        ),
        (with_sig(ADMIN, "eJyrVgrxCdYr".into()), 70003),
        (with_sig(ADMIN, String::new()), 70003),
        (
            format!("sdkappid={SDKAPPID}&identifier={ADMIN}&random=7&contenttype=json"),
            70003,
        ),
    ];
    for (query, code) in cases {
        let answer = app.call_raw(GET_ROOM_LIST, &query, "{}").await;
        fail(&answer, code);
    }
    // The same call with a good sig passes.
    ok(&app.call(GET_ROOM_LIST, json!({})).await);
}

/// Checklist 6: an identifier that is not an admin 60010, no sdkappid 60012; an
/// unknown sdkappid 60006, bad random/contenttype 60002.
#[tokio::test]
async fn the_query_and_the_admin_are_checked() {
    let app = spawn_app().await;
    let sig_for = |who: &str| usersig(SDKAPPID, KEY, who, unix_now(), 86_400);
    // "bob" holds a valid sig of the right key, but is not an admin.
    let bob = format!(
        "sdkappid={SDKAPPID}&identifier=bob&usersig={}&random=1&contenttype=json",
        sig_for("bob")
    );
    let info = fail(&app.call_raw(GET_ROOM_LIST, &bob, "{}").await, 60010);
    assert!(info.contains("bob"), "{info}");
    let no_identifier = format!(
        "sdkappid={SDKAPPID}&usersig={}&random=1&contenttype=json",
        sig_for(ADMIN)
    );
    fail(
        &app.call_raw(GET_ROOM_LIST, &no_identifier, "{}").await,
        60010,
    );

    let good = sig_for(ADMIN);
    let cases = [
        (
            format!("identifier={ADMIN}&usersig={good}&random=1&contenttype=json"),
            60012,
        ),
        (
            format!("sdkappid=&identifier={ADMIN}&usersig={good}&random=1&contenttype=json"),
            60012,
        ),
        (
            format!(
                "sdkappid=1499999999&identifier={ADMIN}&usersig={good}&random=1&contenttype=json"
            ),
            60006,
        ),
        (
            format!("sdkappid=abc&identifier={ADMIN}&usersig={good}&random=1&contenttype=json"),
            60006,
        ),
        (
            format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={good}&contenttype=json"),
            60002,
        ),
        (
            format!(
                "sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={good}&random=4294967296&contenttype=json"
            ),
            60002,
        ),
        (
            format!(
                "sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={good}&random=-1&contenttype=json"
            ),
            60002,
        ),
        (
            format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={good}&random=1"),
            60002,
        ),
        (
            format!(
                "sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={good}&random=1&contenttype=JSON"
            ),
            60002,
        ),
    ];
    for (query, code) in cases {
        fail(&app.call_raw(GET_ROOM_LIST, &query, "{}").await, code);
    }
    // The second admin may call too, with its own sig.
    let ops = query_for(SDKAPPID, KEY, "ops");
    ok(&app.call_raw(GET_ROOM_LIST, &ops, "{}").await);
    // random's full range is accepted.
    let max_random = format!(
        "sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={good}&random=4294967295&contenttype=json"
    );
    ok(&app.call_raw(GET_ROOM_LIST, &max_random, "{}").await);
}

/// Checklist 7: a body that is not JSON, empty, or not an object is 60003, and
/// changes nothing; `{}` is accepted where no field is required.
#[tokio::test]
async fn bodies_must_be_json_objects() {
    let app = spawn_app().await;
    let query = query_for(SDKAPPID, KEY, ADMIN);
    for body in ["not json", "", "   ", "[]", "\"room\"", "{\"RoomInfo\":"] {
        let answer = app
            .call_raw("live_engine_http_srv/create_room", &query, body)
            .await;
        fail(&answer, 60003);
    }
    let rooms = ok(&app.call(GET_ROOM_LIST, json!({})).await);
    assert_eq!(rooms, json!({"Next": "", "RoomList": []}));
    // A command with required fields answers 100002 for `{}`.
    let info = fail(
        &app.call("live_engine_http_srv/get_room_info", json!({}))
            .await,
        100002,
    );
    assert!(info.contains("RoomId"), "{info}");
}

/// Unknown commands are 60009 and other methods 60002, in Tencent's envelope.
#[tokio::test]
async fn unknown_paths_and_methods_answer_in_tencents_format() {
    let app = spawn_app().await;
    let query = query_for(SDKAPPID, KEY, ADMIN);
    for path in [
        "live_engine_http_srv/no_such_command",
        "no_such_service/create_room",
        "im_open_login_svc/add_robot",
        "live_engine_http_srv",
    ] {
        let answer = app.call_raw(path, &query, "{}").await;
        fail(&answer, 60009);
    }
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let answer = app
            .request(method.clone(), GET_ROOM_LIST, &query, "{}")
            .await;
        let info = fail(&answer, 60002);
        assert!(info.contains(method.as_str()), "{info}");
    }
}

/// UserSigs in the layouts of both official generators (checklist 15; the exact
/// npm and PyPI strings are verified at their pinned time in the unit tests).
#[tokio::test]
async fn sigs_in_the_npm_and_the_pypi_layouts_both_authenticate() {
    let app = spawn_app().await;
    let now = unix_now();
    for sig in [
        usersig(SDKAPPID, KEY, ADMIN, now, 86_400),
        usersig_python_layout(SDKAPPID, KEY, ADMIN, now, 86_400),
        // Padding stripped: tolerated.
        usersig(SDKAPPID, KEY, ADMIN, now, 86_400)
            .trim_end_matches('_')
            .to_owned(),
    ] {
        let query = format!(
            "sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=9&contenttype=json"
        );
        ok(&app.call_raw(GET_ROOM_LIST, &query, "{}").await);
    }
    let expired = usersig_python_layout(SDKAPPID, KEY, ADMIN, now - 100, 50);
    let query = format!(
        "sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={expired}&random=9&contenttype=json"
    );
    fail(&app.call_raw(GET_ROOM_LIST, &query, "{}").await, 70001);
}

/// get_room_list allows 10 calls a second per application (60007 beyond); other
/// commands and other applications keep their own budgets.
#[tokio::test]
async fn commands_are_rate_limited_per_application() {
    let app = spawn_app().await;
    let query = query_for(SDKAPPID, KEY, ADMIN);
    let started = std::time::Instant::now();
    let mut limited = 0;
    let mut passed = 0;
    for _ in 0..25 {
        let answer = app.call_raw(GET_ROOM_LIST, &query, "{}").await;
        match answer["ActionStatus"].as_str() {
            Some("OK") => passed += 1,
            _ => {
                let info = fail(&answer, 60007);
                assert!(info.contains("10 calls per second"), "{info}");
                limited += 1;
            }
        }
    }
    // The calls touch at most whole-seconds-elapsed + 2 one-second windows, each
    // admitting 10 (a fast run: 2 windows, so at least 5 are refused).
    let windows = started.elapsed().as_secs() + 2;
    assert!(
        passed <= 10 * windows,
        "{passed} passed in {windows} windows"
    );
    assert!(
        limited >= 25u64.saturating_sub(10 * windows),
        "{limited} limited in {windows} windows"
    );
    // get_room_info has its own budget, and so does the other application.
    fail(
        &app.call(
            "live_engine_http_srv/get_room_info",
            json!({"RoomId": "none"}),
        )
        .await,
        100004,
    );
    let other = query_for(OTHER_SDKAPPID, OTHER_KEY, ADMIN);
    ok(&app.call_raw(GET_ROOM_LIST, &other, "{}").await);
}
