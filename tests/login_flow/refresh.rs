//! Refresh tokens, used as FusionAuth expects: one refresh per expiry however many requests
//! wait for it, the rotated refresh token stored each time, the session ended when the
//! provider refuses the token, and kept while the provider is down.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    app::{is_removal, pages_at_once, set_cookie, set_cookies},
    refresh::RefreshGrant,
    setup_with_vars, Setup,
};

/// A logged-in user whose access token is due for a refresh on the next request: the
/// login's token lives 4 s, so it is due after half of that (`REFRESH_SKEW_SECS` is longer).
/// Refreshed tokens live `expires_in`.
async fn logged_in_due_for_refresh(expires_in: u64) -> (Setup, RefreshGrant) {
    let s = setup_with_vars(&[], |_| {}).await;
    let grant = RefreshGrant::mount(&s.provider, &s.key, expires_in).await;
    s.provider.set_token_lifetime(4);
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
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
        c.auth.provider_retry_after = Duration::from_millis(300);
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
