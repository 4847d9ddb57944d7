//! Health, applications and access tokens.

use crate::fixtures::*;
use chrono::Duration;
use hubbub_core::Error;
use hubbub_core::ids::AppId;
use hubbub_core::model::{AppSettings, now};
use hubbub_core::store::Store;
use serde_json::json;
use std::sync::Arc;

pub async fn check_ready_on_a_fresh_store(store: Arc<dyn Store>) {
    store.check_ready().await.expect("a fresh store is ready");
}

pub async fn applications_round_trip(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let mut new = new_app("client-a");
    new.properties = props(json!({"plan": "pro", "seats": 5}));
    new.settings = AppSettings {
        guest_users: true,
        user_created_channels: true,
        anonymous_viewers: false,
    };
    let a = s.create_application(new).await.expect("create app a");
    assert_eq!(a.name, "app client-a");
    assert_eq!(a.client_id, "client-a");
    assert_eq!(a.properties.as_map()["plan"], json!("pro"));
    assert!(a.settings.guest_users && !a.settings.anonymous_viewers);
    let b = create_app(s, "client-b").await;
    assert_ne!(a.id, b.id);

    assert_eq!(s.get_application(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(
        s.get_application(AppId(a.id.0 + b.id.0 + 100))
            .await
            .unwrap(),
        None
    );
    let all = s.list_applications().await.unwrap();
    assert_eq!(all, vec![a.clone(), b.clone()], "oldest first");

    let credentials = s
        .find_credentials("client-a")
        .await
        .unwrap()
        .expect("credentials by client id");
    assert_eq!(credentials.app, a);
    assert_eq!(credentials.client_secret_hash, "hash-of-client-a");
    assert_eq!(credentials.signing_secret, "signing-client-a");
    assert!(s.find_credentials("client-zzz").await.unwrap().is_none());
}

pub async fn duplicate_client_id_conflicts(store: Arc<dyn Store>) {
    let s = store.as_ref();
    create_app(s, "same").await;
    let again = s.create_application(new_app("same")).await;
    assert!(is_conflict(&again), "{again:?}");
    let Err(Error::Conflict(message)) = again else {
        unreachable!()
    };
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(s.list_applications().await.unwrap().len(), 1);
}

pub async fn app_settings_update(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = create_app(s, "settings").await;
    let settings = AppSettings {
        guest_users: true,
        user_created_channels: true,
        anonymous_viewers: false,
    };
    let updated = s.update_app_settings(a.id, settings).await.unwrap();
    assert_eq!(updated.settings, settings);
    assert_eq!(updated.client_id, a.client_id);
    assert_eq!(updated.created_at, a.created_at);
    assert_eq!(
        s.get_application(a.id).await.unwrap().map(|a| a.settings),
        Some(settings)
    );
    let missing = s.update_app_settings(AppId(a.id.0 + 1000), settings).await;
    assert!(is_not_found(&missing), "{missing:?}");
}

pub async fn access_tokens_store_find_and_purge(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let a = app(s, "tokens").await;
    let t0 = now();
    let expired = t0 - Duration::seconds(10);
    let live = t0 + Duration::hours(1);
    s.insert_access_token(a, "hash-old", expired).await.unwrap();
    s.insert_access_token(a, "hash-older", t0 - Duration::days(3))
        .await
        .unwrap();
    s.insert_access_token(a, "hash-live", live).await.unwrap();

    // Expired tokens are still returned; the caller checks the expiry.
    assert_eq!(
        s.find_access_token("hash-old").await.unwrap(),
        Some((a, expired))
    );
    assert_eq!(
        s.find_access_token("hash-live").await.unwrap(),
        Some((a, live))
    );
    assert_eq!(s.find_access_token("hash-unknown").await.unwrap(), None);

    assert_eq!(s.purge_expired_tokens(t0).await.unwrap(), 2);
    assert_eq!(s.find_access_token("hash-old").await.unwrap(), None);
    assert_eq!(s.find_access_token("hash-older").await.unwrap(), None);
    assert_eq!(
        s.find_access_token("hash-live").await.unwrap(),
        Some((a, live))
    );
    assert_eq!(s.purge_expired_tokens(t0).await.unwrap(), 0);
}
