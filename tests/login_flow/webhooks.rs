//! FusionAuth's revocation webhooks: a signed revocation ends every session of the user on
//! every replica; a missing, bad or replayed signature, or a body that is not the one signed,
//! gets 401 and changes nothing, and so does an event too old or without `createInstant`;
//! while the HMAC key rotates, either secret signs; events the app has no use for get 200 and
//! change nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    app::{spawn_app, SECRET_KEY},
    provider::{now, USER_ID},
    replicas::replicas,
    setup, setup_with_vars,
    webhook::{deliver, deliver_signed, revoke_event, signature, SECRET},
    Setup, EMAIL,
};

/// Once a delivery was applied, the same bytes again are a replay: the user, logged in
/// again, stays logged in.
async fn assert_a_replay_changes_nothing(s: &Setup, body: &[u8], signed: &str) {
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    assert_eq!(
        deliver(&s.app, body, Some(signed)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.app.assert_logged_in_as(EMAIL).await;
}

/// The `APP_SECRET_KEY` a rotation brings in.
const NEW_SECRET_KEY: &str = "the-new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_revocation_ends_the_users_sessions_on_every_replica() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    // A second browser of the same user, on the other replica.
    let second = crate::support::app::browser();
    let mut b2 = crate::support::app::spawn_app(
        crate::support::app::AppSettings::new(
            &r.provider.issuer,
            &tempfile::tempdir().expect("dir"),
        )
        .with_var("REDIS_URL", r.redis.url()),
    )
    .await;
    b2.browser = second;
    assert_eq!(r.login_on(&b2).await.status(), StatusCode::FOUND);
    b2.assert_logged_in_as(EMAIL).await;

    let response = deliver_signed(&r.b, &revoke_event(USER_ID)).await;
    assert_eq!(response.status(), StatusCode::OK);
    r.a.assert_guest().await;
    r.b.assert_guest().await;
    b2.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_is_logged_out() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let event = json!({"event": {"type": "user.deactivate", "id": "e1", "createInstant": now() * 1000, "user": {"id": USER_ID, "active": false}}});
    assert_eq!(
        deliver_signed(&s.app, &event).await.status(),
        StatusCode::OK
    );
    s.app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bad_and_replayed_signatures_get_401_and_change_nothing() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");

    assert_eq!(
        deliver(&s.app, &body, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let wrong_key = signature("another-secret-of-sufficient-length-000000", &body);
    assert_eq!(
        deliver(&s.app, &body, Some(&wrong_key)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        deliver(&s.app, &body, Some("not.a.jwt")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A valid signature of another body.
    let other = serde_json::to_vec(&revoke_event("someone-else")).expect("json");
    assert_eq!(
        deliver(&s.app, &body, Some(&signature(SECRET, &other)))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    s.app.assert_logged_in_as(EMAIL).await;

    // Delivered once: applied. Delivered again, byte for byte: a replay.
    let signed = signature(SECRET, &body);
    assert_eq!(
        deliver(&s.app, &body, Some(&signed)).await.status(),
        StatusCode::OK
    );
    s.app.assert_guest().await;
    assert_a_replay_changes_nothing(&s, &body, &signed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_event_is_refused_even_when_signed() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let mut event = revoke_event(USER_ID);
    event["event"]["createInstant"] = json!(1_000_000_000_000_i64);
    assert_eq!(
        deliver_signed(&s.app, &event).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.app.assert_logged_in_as(EMAIL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_events_and_other_applications_get_200_and_change_nothing() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let login = json!({"event": {"type": "user.login.success", "id": "e2", "createInstant": now() * 1000, "userId": USER_ID}});
    assert_eq!(
        deliver_signed(&s.app, &login).await.status(),
        StatusCode::OK
    );
    let mut other_app = revoke_event(USER_ID);
    other_app["event"]["applicationId"] = json!("11111111-2222-3333-4444-555555555555");
    assert_eq!(
        deliver_signed(&s.app, &other_app).await.status(),
        StatusCode::OK
    );
    s.app.assert_logged_in_as(EMAIL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_body_that_is_not_json_gets_400() {
    let s = setup().await;
    let body = b"not json";
    let response = deliver(&s.app, body, Some(&signature(SECRET, body))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// FusionAuth puts `createInstant` in every event; without it the age check cannot run, so an
/// event without one could be replayed for ever once its replay record has expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_without_create_instant_is_refused() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let mut event = revoke_event(USER_ID);
    event["event"]
        .as_object_mut()
        .expect("an event object")
        .remove("createInstant");
    assert_eq!(
        deliver_signed(&s.app, &event).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.app.assert_logged_in_as(EMAIL).await;
}

/// The secret FusionAuth's webhook is rotated to, while `SECRET` is the one being replaced.
const NEW_SECRET: &str = "the-new-webhook-signing-secret-0123456789abcdef";

/// While FusionAuth's HMAC key rotates, either key may sign a delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_signed_with_the_previous_secret_is_applied_during_rotation() {
    let s = setup_with_vars(
        &[
            ("WEBHOOK_SIGNING_SECRET", NEW_SECRET),
            ("WEBHOOK_SIGNING_SECRET_PREVIOUS", SECRET),
        ],
        |_| {},
    )
    .await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");
    assert_eq!(
        deliver(&s.app, &body, Some(&signature(SECRET, &body)))
            .await
            .status(),
        StatusCode::OK
    );
    s.app.assert_guest().await;

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");
    assert_eq!(
        deliver(&s.app, &body, Some(&signature(NEW_SECRET, &body)))
            .await
            .status(),
        StatusCode::OK,
        "the new secret works too"
    );
    s.app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_signed_with_neither_secret_is_refused_during_rotation() {
    let s = setup_with_vars(
        &[
            ("WEBHOOK_SIGNING_SECRET", NEW_SECRET),
            ("WEBHOOK_SIGNING_SECRET_PREVIOUS", SECRET),
        ],
        |_| {},
    )
    .await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");
    let neither = signature("a-third-secret-nobody-configured-0123456789", &body);
    assert_eq!(
        deliver(&s.app, &body, Some(&neither)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.app.assert_logged_in_as(EMAIL).await;
}

/// The per-user index survives an `APP_SECRET_KEY` rotation: a revocation that arrives after
/// the rotation still finds the sessions made before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_after_a_key_rotation_ends_the_sessions_made_before_it() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let mut rotated = spawn_app(
        s.app
            .settings
            .clone()
            .with_var("APP_SECRET_KEY", NEW_SECRET_KEY)
            .with_var("APP_SECRET_KEY_PREVIOUS", SECRET_KEY),
    )
    .await;
    rotated.browser = s.app.browser.clone();
    rotated.assert_logged_in_as(EMAIL).await;
    let deactivated = json!({"event": {"type": "user.deactivate", "id": "e3",
        "createInstant": now() * 1000, "user": {"id": USER_ID, "active": false}}});
    assert_eq!(
        deliver_signed(&rotated, &deactivated).await.status(),
        StatusCode::OK
    );
    rotated.assert_guest().await;
    assert_eq!(rotated.stored_sessions().await, 0);
}

/// FusionAuth retries a delivery that failed. When ending the sessions failed (the store
/// was down), the retry of the same bytes is applied, not refused as a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_retried_after_a_store_failure_is_applied() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");
    let signed = signature(SECRET, &body);

    s.app
        .rename_table("fa_user_sessions", "fa_user_sessions_away")
        .await;
    assert_eq!(
        deliver(&s.app, &body, Some(&signed)).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    s.app
        .rename_table("fa_user_sessions_away", "fa_user_sessions")
        .await;
    s.app.assert_logged_in_as(EMAIL).await;

    assert_eq!(
        deliver(&s.app, &body, Some(&signed)).await.status(),
        StatusCode::OK,
        "the retry is applied"
    );
    s.app.assert_guest().await;
    assert_a_replay_changes_nothing(&s, &body, &signed).await;
}

/// An event dated hours ahead of the app's clock would outlive its replay record: refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_from_the_future_is_refused() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let mut event = revoke_event(USER_ID);
    event["event"]["createInstant"] = json!((now() + 3600) * 1000);
    assert_eq!(
        deliver_signed(&s.app, &event).await.status(),
        StatusCode::UNAUTHORIZED
    );
    s.app.assert_logged_in_as(EMAIL).await;
    // A clock a little ahead is fine.
    event["event"]["createInstant"] = json!((now() + 30) * 1000);
    assert_eq!(
        deliver_signed(&s.app, &event).await.status(),
        StatusCode::OK
    );
    s.app.assert_guest().await;
}
