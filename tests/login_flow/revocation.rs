//! What revocation costs the session store, whatever the traffic: the per-user index holds
//! only live sessions (logout and expiry prune it), a user has at most
//! `MAX_SESSIONS_PER_USER` sessions (the oldest go first), a user with a huge number of
//! sessions is revoked in small steps, and a revocation for the whole application never
//! walks the keyspace.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};

use crate::support::{
    app::{browser, page_of, start_login_in, TestApp},
    provider::{TestKey, TestProvider, CLIENT_ID, USER_ID},
    redis::TestRedis,
    replicas::replicas,
    setup, setup_with_vars,
    webhook::{deliver_signed, revoke_event},
    ACCESS_TOKEN, EMAIL,
};

/// A whole login in `browser` (a browser of its own: another device of the same user).
async fn login_in(
    provider: &TestProvider,
    key: &TestKey,
    app: &TestApp,
    browser: &reqwest::Client,
) {
    let start = start_login_in(browser, app, "/").await;
    let claims = provider.claims(&start.nonce, ACCESS_TOKEN);
    provider.respond_with_tokens(&key.sign(&key.kid, &claims), ACCESS_TOKEN);
    let response = browser
        .get(app.url("/callback"))
        .query(&[("code", "c"), ("state", start.state.as_str())])
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), StatusCode::FOUND);
}

async fn is_logged_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    page_of(browser, &app.url("/"))
        .await
        .contains("You are logged in as")
}

/// Entries of every per-user index in Redis.
fn redis_index_entries(redis: &TestRedis) -> usize {
    redis.index_entries()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_leaves_no_index_entry_behind() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    assert_eq!(s.app.index_entries().await, 1);
    assert_eq!(s.app.logout().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.app.index_entries().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_leaves_no_index_entry_behind_in_redis() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    assert_eq!(redis_index_entries(&r.redis), 1);
    assert_eq!(r.b.logout().await.status(), StatusCode::SEE_OTHER);
    assert_eq!(redis_index_entries(&r.redis), 0);
    assert_eq!(r.redis.key_count(), 0, "nothing left: {}", r.redis.dump());
}

/// Sessions that expired, or were replaced by a new login in the same browser, leave no
/// entry behind while the user has other sessions: the index holds live sessions only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_replaced_sessions_leave_no_index_entry_behind() {
    let r = replicas(false, &[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let short = crate::support::app::spawn_app(
        crate::support::app::AppSettings::new(&r.provider.issuer, &dir)
            .with_var("REDIS_URL", r.redis.url())
            .with_var("SESSION_TTL_SECS", "1"),
    )
    .await;
    let (phone, laptop) = (browser(), browser());
    login_in(&r.provider, &r.key, &r.a, &laptop).await;
    login_in(&r.provider, &r.key, &short, &phone).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert!(
        !is_logged_in(&r.a, &phone).await,
        "the phone's session expired"
    );
    // The laptop logs in again: its new session replaces its old one.
    login_in(&r.provider, &r.key, &r.a, &laptop).await;
    assert!(is_logged_in(&r.a, &laptop).await);
    assert_eq!(redis_index_entries(&r.redis), 1, "{}", r.redis.dump());
}

/// `MAX_SESSIONS_PER_USER`: a login beyond it ends the user's oldest session.
async fn cap_evicts_the_oldest(provider: &TestProvider, key: &TestKey, app: &TestApp) {
    let devices = [browser(), browser(), browser()];
    for device in &devices {
        login_in(provider, key, app, device).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert!(
        !is_logged_in(app, &devices[0]).await,
        "the oldest session ended"
    );
    assert!(is_logged_in(app, &devices[1]).await);
    assert!(is_logged_in(app, &devices[2]).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_session_cap_loses_the_oldest_session() {
    let s = setup_with_vars(&[("MAX_SESSIONS_PER_USER", "2")], |_| {}).await;
    cap_evicts_the_oldest(&s.provider, &s.key, &s.app).await;
    assert_eq!(s.app.stored_sessions().await, 2);
    assert_eq!(s.app.index_entries().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_session_cap_loses_the_oldest_session_in_redis() {
    let r = replicas(false, &[("MAX_SESSIONS_PER_USER", "2")]).await;
    cap_evicts_the_oldest(&r.provider, &r.key, &r.a).await;
    assert_eq!(redis_index_entries(&r.redis), 2);
}

/// A revocation of a user with 100,000 sessions ends every one of them (in steps that keep
/// Redis answering everyone else; `make bench` measures the other users' latency meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_user_with_100000_sessions_ends_all_of_them() {
    const SESSIONS: usize = 100_000;
    let r = replicas(false, &[("MAX_SESSIONS_PER_USER", "1000000")]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    let store = axum_oidc_sessions::store::open(
        &r.a.config().oidc.sessions,
        axum_oidc_sessions::oidc::session::user_of,
    )
    .await
    .expect("the store opens");
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let store = store.clone();
        writers.spawn(async move {
            for _ in 0..SESSIONS / 16 {
                let mut record = Record {
                    id: Id::default(),
                    data: [("auth.user".to_owned(), json!({"claims": {"sub": USER_ID}}))].into(),
                    expiry_date: expiry,
                };
                store.create(&mut record).await.expect("stored");
            }
        });
    }
    writers.join_all().await;
    assert!(r.redis.key_count() > SESSIONS);

    let response = deliver_signed(&r.b, &revoke_event(USER_ID)).await;
    assert_eq!(response.status(), StatusCode::OK);
    r.a.assert_guest().await;
    assert!(
        r.redis.key_count() <= 2,
        "every session and the index are gone: {} keys left",
        r.redis.key_count()
    );
}

/// FusionAuth revokes every refresh token of the application: every session ends, on every
/// replica, and Redis never walks its keyspace (no `KEYS`, which blocks every replica).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_wide_revocation_ends_every_session_without_walking_the_keyspace() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    let other = browser();
    let start = start_login_in(&other, &r.b, "/").await;
    let mut claims = r.provider.claims(&start.nonce, ACCESS_TOKEN);
    claims["sub"] = json!("00000000-0000-0000-0000-222222222222");
    claims["email"] = json!("gilfoyle@example.com");
    r.provider
        .respond_with_tokens(&r.key.sign(&r.key.kid, &claims), ACCESS_TOKEN);
    let response = other
        .get(r.b.url("/callback"))
        .query(&[("code", "c"), ("state", start.state.as_str())])
        .send()
        .await
        .expect("callback");
    assert_eq!(response.status(), StatusCode::FOUND);
    r.a.assert_logged_in_as(EMAIL).await;
    assert!(is_logged_in(&r.a, &other).await);

    let keys_before = r.redis.calls_of("keys");
    let whole_app = json!({"event": {"type": "jwt.refresh-token.revoke", "id": "e9",
        "createInstant": crate::support::provider::now() * 1000,
        "applicationId": CLIENT_ID, "applicationTimeToLiveInSeconds": {CLIENT_ID: 300}}});
    assert_eq!(
        deliver_signed(&r.b, &whole_app).await.status(),
        StatusCode::OK
    );
    r.a.assert_guest().await;
    r.b.assert_guest().await;
    assert!(!is_logged_in(&r.a, &other).await);
    assert!(!is_logged_in(&r.b, &other).await);
    assert_eq!(r.redis.calls_of("keys"), keys_before, "no KEYS command");

    // A login after the revocation is a login as usual.
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    r.b.assert_logged_in_as(EMAIL).await;
}
