//! `/callback`: the attempt is found by its state before anything else, used once, and a
//! callback that matches nothing changes nothing (openid-client's `invalid-state` family).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    app::{assert_error_page, browser, is_removal, location, set_cookies},
    setup, setup_with, setup_with_discovery, EMAIL,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_without_state_is_rejected() {
    let s = setup().await;
    s.app.start_login("/").await;
    let response = s.app.callback(&[("code", "c")]).await;
    s.assert_rejected(response, 400, "Login failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_with_wrong_state_is_rejected() {
    let s = setup().await;
    s.app.start_login("/").await;
    let response = s
        .app
        .callback(&[("code", "c"), ("state", "forged-state")])
        .await;
    let page = assert_error_page(response, 400, "Login failed").await;
    assert!(page.contains("does not belong to the login started in this browser"));
    assert!(
        s.provider.requests_to("/oauth2/token").await.is_empty(),
        "no code exchange"
    );
    s.assert_no_session_created().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_without_a_login_in_this_browser_is_rejected() {
    let s = setup().await;
    let response = s.app.callback(&[("code", "c"), ("state", "s")]).await;
    let page = s.assert_rejected(response, 400, "Login failed").await;
    assert!(page.contains("not valid in this browser"), "{page}");
}

/// The same callback again: in the browser that logged in it just goes home (a reload after
/// success), in an attacker's browser it is refused, and the code is exchanged once only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_callback_goes_home_for_the_user_and_fails_for_anyone_else() {
    let s = setup().await;
    let start = s.app.start_login("/profile").await;
    s.issue_tokens_for(&start.nonce);
    let query = [("code", "c"), ("state", start.state.as_str())];
    assert_eq!(location(&s.app.callback(&query).await), "/profile");

    let reload = s.app.callback(&query).await;
    assert_eq!(
        reload.status(),
        StatusCode::FOUND,
        "a reload is not an error"
    );
    assert_eq!(location(&reload), "/");
    s.app.assert_logged_in_as(EMAIL).await;

    let attacker = browser();
    let response = attacker
        .get(s.app.url("/callback"))
        .query(&query)
        .send()
        .await
        .expect("request");
    assert_error_page(response, 400, "Login failed").await;
    let page = attacker
        .get(s.app.url("/"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert!(page.contains("Hello Guest"));
    assert_eq!(s.provider.requests_to("/oauth2/token").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_pending_login_is_rejected() {
    let s = setup_with(|c| c.oidc.auth.login_timeout = Duration::ZERO).await;
    let start = s.app.start_login("/").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    let page = s.assert_rejected(response, 400, "Login failed").await;
    assert!(page.contains("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_access_denied_shows_cancelled_page() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    let response = s
        .app
        .callback(&[
            ("error", "access_denied"),
            ("error_description", "<script>alert(1)</script>"),
            ("state", &start.state),
        ])
        .await;
    let page = assert_error_page(response, 403, "Login cancelled").await;
    assert!(
        !page.contains("<script>alert(1)"),
        "provider text is not echoed"
    );
    s.assert_no_session_created().await;
}

/// An `error` callback whose state belongs to no attempt of this browser (a forged link, a
/// stale tab) is refused and leaves the login in progress untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_error_callback_spoils_no_login_in_progress() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    for stray in [
        vec![("error", "access_denied"), ("state", "not-this-browsers")],
        vec![("error", "server_error")],
    ] {
        let response = s.app.callback(&stray).await;
        assert!(
            set_cookies(&response)
                .iter()
                .all(|c| !c.starts_with("fa_login.")),
            "a stray callback touches no attempt"
        );
        assert_error_page(response, 400, "Login failed").await;
    }

    assert_eq!(s.finish(&start).await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as(EMAIL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_code_rejected_by_the_provider_is_a_client_error() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    s.provider
        .respond_to_token_request(wiremock::ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The authorization code has already been used."
        })));
    let response = s
        .app
        .callback(&[("code", "used-code"), ("state", &start.state)])
        .await;
    s.assert_rejected(response, 400, "Login failed").await;
}

/// A callback that fails on the provider's side (5xx) still uses its attempt up: the same
/// callback cannot be replayed to try the code again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_replayed_after_a_502_is_refused() {
    let s = setup().await;
    let start = s.app.start_login("/").await;
    s.provider
        .respond_to_token_request(wiremock::ResponseTemplate::new(200).set_body_string("<html>"));
    let query = [("code", "c"), ("state", start.state.as_str())];
    let response = s.app.callback(&query).await;
    let removed = set_cookies(&response)
        .iter()
        .any(|c| c.starts_with("fa_login.") && is_removal(c));
    assert!(
        removed,
        "the attempt's cookie is removed by the failing response"
    );
    assert_error_page(response, 502, "The login could not be verified").await;

    s.issue_tokens_for(&start.nonce);
    let replay = s.app.callback(&query).await;
    assert_error_page(replay, 400, "Login failed").await;
    assert_eq!(s.provider.requests_to("/oauth2/token").await.len(), 1);
    s.assert_no_session_created().await;
}

/// RFC 9207 (openid-client's `invalid-iss`): a callback naming another issuer is a mix-up
/// attack, the code meant for another provider. It is refused before the code is redeemed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_from_another_issuer_is_refused_before_the_code_is_redeemed() {
    let s = setup().await;
    let other_issuers = [
        "https://attacker.example".to_owned(),
        format!("{}/", s.provider.issuer),
    ];
    for other in &other_issuers {
        let start = s.app.start_login("/").await;
        s.issue_tokens_for(&start.nonce);
        let response = s
            .app
            .callback(&[("code", "c"), ("state", &start.state), ("iss", other)])
            .await;
        let page = s.assert_rejected(response, 400, "Login failed").await;
        assert!(page.contains("did not come from"), "{other}: {page}");
        assert!(!page.contains("attacker.example"), "no echo of {other}");
    }
    assert!(
        s.provider.requests_to("/oauth2/token").await.is_empty(),
        "no code exchange"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_without_iss_is_refused_when_the_provider_promises_it() {
    let s = setup_with_discovery(promise_iss).await;
    let start = s.app.start_login("/").await;
    s.issue_tokens_for(&start.nonce);
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    s.assert_rejected(response, 400, "Login failed").await;
    assert!(
        s.provider.requests_to("/oauth2/token").await.is_empty(),
        "no code exchange"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_the_right_iss_logs_in() {
    let s = setup_with_discovery(promise_iss).await;
    let start = s.app.start_login("/profile").await;
    s.issue_tokens_for(&start.nonce);
    let response = s
        .app
        .callback(&[
            ("code", "c"),
            ("state", &start.state),
            ("iss", &s.provider.issuer),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/profile");
    s.app.assert_logged_in_as(EMAIL).await;
}

/// Discovery as FusionAuth 1.69 serves it: the authorization response names its issuer.
fn promise_iss(discovery: &mut serde_json::Value) {
    discovery["authorization_response_iss_parameter_supported"] = json!(true);
}
