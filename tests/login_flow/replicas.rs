//! Sessions in Redis, shared by two replicas: either replica serves every user, a logout on
//! one is a logout on both, nothing readable is at rest, Redis trouble answers 503 at once
//! and heals by itself, one refresh per expiry across both replicas.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::{
    app::{assert_error_page, browser, page_of, pages_at_once, spawn_app, AppSettings},
    refresh::RefreshGrant,
    replicas::replicas,
    ACCESS_TOKEN, EMAIL,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_on_one_replica_is_a_login_on_the_other() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    r.b.assert_logged_in_as(EMAIL).await;
    r.a.assert_logged_in_as(EMAIL).await;
    assert_eq!(r.b.get("/profile").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_replica_ends_the_session_on_the_other() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    assert_eq!(r.b.logout().await.status(), StatusCode::SEE_OTHER);
    r.a.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_redis_dump_holds_no_token_and_no_claim() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    r.b.assert_logged_in_as(EMAIL).await;
    let dump = r.redis.dump();
    assert!(
        r.redis.key_count() >= 2,
        "a session and its user index: {dump}"
    );
    for secret in [
        ACCESS_TOKEN,
        "refresh-token-value",
        EMAIL,
        crate::support::provider::USER_ID,
        "eyJ",
    ] {
        assert!(!dump.contains(secret), "{secret} readable in Redis: {dump}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_answers_503_at_once_guests_still_served_and_it_heals_by_itself() {
    let mut r = replicas(true, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    r.redis.stop();

    // The bound is the client's, far above the app's own (no hang, no queue).
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let cookie_jar_page = r.a.get("/").await;
    assert_error_page(cookie_jar_page, 503, "Sessions are unavailable right now").await;
    let guest = quick.get(r.b.url("/")).send().await.expect("answers");
    assert_eq!(guest.status(), StatusCode::OK);
    assert!(guest.text().await.expect("body").contains("Hello Guest"));
    assert_eq!(r.a.get("/healthz").await.status(), StatusCode::OK);

    // Redis comes back with its append-only file: the user is logged in again, unaided.
    r.redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let response = r.a.get("/").await;
        let status = response.status();
        let page = response.text().await.expect("body");
        if status == StatusCode::OK && page.contains("You are logged in as") {
            break;
        }
        assert!(Instant::now() < deadline, "never recovered: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    r.b.assert_logged_in_as(EMAIL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_requests_over_both_replicas_at_expiry_cause_one_token_request() {
    let r = replicas(false, &[]).await;
    let grant = RefreshGrant::mount(&r.provider, &r.key, 7200).await;
    // Due for a refresh after half of its 2 s.
    r.provider.set_token_lifetime(2);
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    grant.set_delay(Duration::from_millis(300));
    let pages = pages_at_once(&[&r.a, &r.b], 50).await;
    for page in &pages {
        assert!(page.contains("You are logged in as"), "{page}");
    }
    assert_eq!(
        grant.requests(),
        1,
        "one refresh for 50 requests on two replicas"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_browser_is_a_guest_on_both_replicas() {
    let r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    let stranger = browser();
    for app in [&r.a, &r.b] {
        assert!(page_of(&stranger, &app.url("/"))
            .await
            .contains("Hello Guest"));
    }
}

/// A refresh on a replica that has not yet discovered the provider, against a provider that
/// answers each call just under `PROVIDER_TIMEOUT_SECS`, takes longer than the lease it
/// started with. The lease is kept alive meanwhile: a request on the other replica that
/// arrives after the lease would have expired waits for it, and the refresh token is
/// redeemed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_refresh_outliving_its_first_lease_is_not_redeemed_twice() {
    let r = replicas(false, &[("PROVIDER_TIMEOUT_SECS", "3")]).await;
    let grant = RefreshGrant::mount(&r.provider, &r.key, 7200).await;
    r.provider.set_token_lifetime(2);
    // Logged in through B: A has never talked to the provider.
    assert_eq!(r.login_on(&r.b).await.status(), StatusCode::FOUND);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let slow = Duration::from_millis(2800);
    r.provider.set_discovery_delay(slow);
    grant.set_delay(slow);
    let on_a = {
        let (browser, url) = (r.a.browser.clone(), r.a.url("/"));
        tokio::spawn(async move { page_of(&browser, &url).await })
    };
    // Past the first lease (PROVIDER_TIMEOUT_SECS + 5 s), before A's refresh is done.
    tokio::time::sleep(Duration::from_millis(8200)).await;
    let on_b = r.b.home_page().await;
    let on_a = on_a.await.expect("the request on A");
    for page in [&on_a, &on_b] {
        assert!(page.contains("You are logged in as"), "{page}");
    }
    grant.set_delay(Duration::ZERO);
    r.a.assert_logged_in_as(EMAIL).await;
    assert_eq!(grant.refreshed(), 1, "one redemption");
    assert_eq!(
        grant.refused(),
        0,
        "the spent refresh token was never presented"
    );
}

/// A rolling rotation of `APP_SECRET_KEY`: A has the new key (and the old one as previous),
/// B only the old one. A login through either replica survives requests to the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_key_rotation_logs_nobody_out_on_the_replicas_that_have_the_key() {
    let r = replicas(false, &[]).await;
    let dir = tempfile::tempdir().expect("dir");
    let mut rotated = spawn_app(
        AppSettings::new(&r.provider.issuer, &dir)
            .with_var("REDIS_URL", r.redis.url())
            .with_var(
                "APP_SECRET_KEY",
                "the-new-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
            )
            .with_var("APP_SECRET_KEY_PREVIOUS", crate::support::app::SECRET_KEY),
    )
    .await;
    rotated.browser = r.a.browser.clone();
    // Logged in through the old replica, then the new one, then the old one again.
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    rotated.assert_logged_in_as(EMAIL).await;
    r.a.get("/").await;
    rotated.assert_logged_in_as(EMAIL).await;
    // Logged in through the new replica: the old one cannot read it, and deletes nothing.
    assert_eq!(r.login_on(&rotated).await.status(), StatusCode::FOUND);
    r.a.assert_guest().await;
    rotated.assert_logged_in_as(EMAIL).await;
    assert!(r.redis.key_count() >= 1);
}
