//! Refresh tokens, used as FusionAuth expects: one refresh per expiry however many requests
//! wait for it, the rotated refresh token stored each time, the session ended when the
//! provider refuses the token, and kept while the provider is down.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    app::{cookie_pair, is_removal, page_with_cookie, pages_at_once, set_cookie, set_cookies},
    provider::{key_b, USER_ID},
    refresh::RefreshGrant,
    setup_with, setup_with_vars,
    webhook::{deliver_signed, revoke_event},
    Setup, EMAIL,
};

/// A logged-in user whose access token is due for a refresh on the next request: the
/// login's token lives 4 s, so it is due after half of that (`REFRESH_SKEW_SECS` is longer).
/// Refreshed tokens live `expires_in`.
async fn logged_in_due_for_refresh(expires_in: u64) -> (Setup, RefreshGrant) {
    logged_in_due_for_refresh_with(expires_in, |_| {}).await
}

/// The same, on an app whose configuration `edit` changed.
async fn logged_in_due_for_refresh_with(
    expires_in: u64,
    edit: impl FnOnce(&mut fusionauth_leptos::server::config::Config),
) -> (Setup, RefreshGrant) {
    let s = setup_with(edit).await;
    let grant = RefreshGrant::mount(&s.provider, &s.key, expires_in).await;
    s.provider.set_token_lifetime(4);
    let login = s.login().await;
    assert_eq!(login.status(), StatusCode::FOUND);
    let cookies = set_cookies(&login);
    let cookie = set_cookie(&cookies, "fa_leptos_session").map(cookie_pair);
    s.remember_login_cookie(cookie.expect("a session cookie"));
    s.app.assert_logged_in_as("richard@example.com").await;
    assert_eq!(grant.requests(), 0, "a fresh token is not refreshed");
    tokio::time::sleep(HALF_LIFE).await;
    (s, grant)
}

/// Just over half the life of a 4-second token. The app counts whole seconds, so a token
/// issued at t is due at the latest at t + 2 s, and at the earliest after t + 1 s.
const HALF_LIFE: Duration = Duration::from_millis(2100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_access_token_is_refreshed_once_then_used() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    let page = s.app.home_page().await;
    assert!(page.contains("You are logged in as"), "{page}");
    assert!(
        page.contains("refreshes"),
        "the profile shows the refreshed id_token's claims: {page}"
    );
    assert_eq!(grant.refreshed(), 1);
    for _ in 0..3 {
        s.app.assert_logged_in_as("richard@example.com").await;
    }
    assert_eq!(grant.requests(), 1, "fresh tokens are not refreshed again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_at_expiry_share_one_refresh() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    grant.set_delay(Duration::from_millis(300));
    let pages = pages_at_once(&[&s.app], 20).await;
    for page in &pages {
        assert!(page.contains("You are logged in as"), "{page}");
    }
    assert_eq!(
        grant.requests(),
        1,
        "one token request for 20 concurrent requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_working_over_five_refreshes() {
    // Every refreshed token lives 4 s: after half of it each request refreshes, and only the
    // refresh token stored by the previous refresh is accepted (OneTimeUse).
    let (s, grant) = logged_in_due_for_refresh(4).await;
    for round in 1..=5 {
        if round > 1 {
            tokio::time::sleep(HALF_LIFE).await;
        }
        let page = s.app.home_page().await;
        assert!(
            page.contains("You are logged in as"),
            "round {round}: {page}"
        );
        assert_eq!(grant.refreshed(), round);
    }
    assert_eq!(
        grant.requests(),
        5,
        "no spent refresh token was ever presented"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_ends_the_session_at_the_next_request() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    grant.revoke();
    let response = s.app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        set_cookie(&set_cookies(&response), "fa_leptos_session").is_some_and(is_removal),
        "the session cookie is expired"
    );
    let page = response.text().await.expect("body");
    assert!(page.contains("Hello Guest"), "{page}");
    assert!(page.contains(r#"data-testid="session-ended""#), "{page}");
    assert_eq!(s.app.stored_sessions().await, 0, "the session is deleted");
    s.app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_down_during_refresh_keeps_the_user_logged_in_and_retries_later() {
    let s = setup_with_vars(&[], |c| {
        c.oidc.auth.provider_retry_after = Duration::from_millis(300);
    })
    .await;
    let grant = RefreshGrant::mount(&s.provider, &s.key, 7200).await;
    s.provider.set_token_lifetime(4);
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    tokio::time::sleep(HALF_LIFE).await;
    grant.set_down(true);
    s.app.assert_logged_in_as("richard@example.com").await;
    s.app.assert_logged_in_as("richard@example.com").await;
    assert_eq!(
        grant.requests(),
        1,
        "a failure is remembered: no retry at once"
    );
    grant.set_down(false);
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.app.assert_logged_in_as("richard@example.com").await;
    assert_eq!(
        grant.refreshed(),
        1,
        "retried once the failure was forgotten"
    );
}

/// FusionAuth rotates its signing key between a login and the refresh: the refreshed
/// id_token names a key the app has not seen. The app refetches the JWKS, as at login, and
/// nobody is logged out; every refresh token is presented once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_key_rotation_between_login_and_refresh_logs_nobody_out() {
    let (s, grant) = logged_in_due_for_refresh(4).await;
    let rotated = key_b();
    s.provider.publish_keys(&[&s.key, &rotated]);
    grant.sign_with(&rotated);
    let page = s.app.home_page().await;
    assert!(
        page.contains("You are logged in as") && page.contains("refreshes"),
        "the refreshed id_token, signed with the new key, is accepted: {page}"
    );
    tokio::time::sleep(HALF_LIFE).await;
    s.app.assert_logged_in_as(EMAIL).await;
    assert_eq!(grant.refreshed(), 2, "the rotated refresh token works");
    assert_eq!(grant.refused(), 0, "no refresh token was presented twice");
}

/// A refresh whose id_token fails verification (a key the provider does not publish even
/// after a refetch) has still spent the old refresh token: the rotated one is kept, the user
/// stays logged in with the claims they had, and the next refresh presents the new token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_id_token_that_fails_verification_keeps_the_rotated_refresh_token() {
    let (s, grant) = logged_in_due_for_refresh_with(7200, |c| {
        c.oidc.auth.provider_retry_after = Duration::from_millis(300);
    })
    .await;
    grant.sign_with(&key_b());
    let page = s.app.home_page().await;
    assert!(page.contains("You are logged in as"), "{page}");
    assert!(
        !page.contains("refreshes"),
        "unverified claims are not shown"
    );
    assert_eq!(grant.refreshed(), 1);

    grant.sign_with(&s.key);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let page = s.app.home_page().await;
    assert!(
        page.contains("refreshes"),
        "refreshed at the next try: {page}"
    );
    assert_eq!(grant.refreshed(), 2);
    assert_eq!(
        grant.refused(),
        0,
        "the spent refresh token was never presented"
    );
}

/// The request that started a refresh is dropped mid-way (the request timeout here; a
/// client that goes away or a proxy that gives up alike): the refresh finishes anyway and its
/// rotated refresh token is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_cut_off_by_the_request_timeout_still_stores_the_rotated_token() {
    let (s, grant) = logged_in_due_for_refresh_with(7200, |c| {
        c.request_timeout = Duration::from_millis(300);
    })
    .await;
    grant.set_delay(Duration::from_millis(800));
    let response = s.app.get("/").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    grant.set_delay(Duration::ZERO);
    assert_refreshed_once(&s, &grant).await;
}

/// The page shows the refreshed id_token's claims, from one redemption of each token.
async fn assert_refreshed_once(s: &Setup, grant: &RefreshGrant) {
    let page = s.app.home_page().await;
    assert!(
        page.contains("You are logged in as") && page.contains("refreshes"),
        "the refreshed tokens are the stored ones: {page}"
    );
    assert_eq!(grant.requests(), 1, "no second refresh");
    assert_eq!(
        grant.refused(),
        0,
        "the spent refresh token was never presented"
    );
}

/// The same when the browser goes away while the provider is answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_client_went_away_still_stores_the_rotated_token() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    grant.set_delay(Duration::from_millis(800));
    let gone = s
        .app
        .browser
        .get(s.app.url("/"))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    grant.set_delay(Duration::ZERO);
    assert_refreshed_once(&s, &grant).await;
}

/// The store fails just when the refreshed tokens are written: the write is retried while
/// the refresh lease is held, so the rotated refresh token is not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_whose_store_write_fails_keeps_the_rotated_token_once_the_store_is_back() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    grant.set_delay(Duration::from_millis(600));
    let page = {
        let (browser, url) = (s.app.browser.clone(), s.app.url("/"));
        tokio::spawn(async move { browser.get(url).send().await.map(|r| r.status()) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.app
        .rename_table("tower_sessions", "tower_sessions_away")
        .await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    s.app
        .rename_table("tower_sessions_away", "tower_sessions")
        .await;
    let _ = page.await;
    assert_refreshed_once(&s, &grant).await;
}

/// A slow refresh that finishes after the user logged out must not write the session back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_finishing_after_logout_does_not_bring_the_session_back() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    ended_while_refreshing(&s, &grant, async {
        assert_eq!(s.app.logout().await.status(), StatusCode::SEE_OTHER);
    })
    .await;
}

/// The same when FusionAuth revokes the user while the refresh is in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_finishing_after_a_revocation_does_not_bring_the_session_back() {
    let (s, grant) = logged_in_due_for_refresh(7200).await;
    ended_while_refreshing(&s, &grant, async {
        let response = deliver_signed(&s.app, &revoke_event(USER_ID)).await;
        assert_eq!(response.status(), StatusCode::OK);
    })
    .await;
}

/// Starts a slow refresh, runs `end` while it is in flight, and checks that the session
/// stays ended: nothing in the store, and the old cookie is a guest's.
async fn ended_while_refreshing(
    s: &Setup,
    grant: &RefreshGrant,
    end: impl std::future::Future<Output = ()>,
) {
    grant.set_delay(Duration::from_millis(800));
    let page = {
        let (browser, url) = (s.app.browser.clone(), s.app.url("/"));
        tokio::spawn(async move { browser.get(url).send().await.map(|r| r.status()) })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    end.await;
    let _ = page.await;
    assert_eq!(grant.refreshed(), 1, "the refresh did finish");
    assert_eq!(
        s.app.stored_sessions().await,
        0,
        "the session stays deleted"
    );
    let page = page_with_cookie(&s.app, "/", &s.login_cookie()).await;
    assert!(
        page.contains("Hello Guest"),
        "the old cookie is a guest's: {page}"
    );
}
