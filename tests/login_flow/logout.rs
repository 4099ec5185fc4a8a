//! Logout always reaches FusionAuth and always expires the cookie; FusionAuth's front-channel
//! iframe ends the local session; a top-level visit to `/logout` ends nothing.

use std::collections::HashMap;

use reqwest::{header, StatusCode};

use crate::support::{
    app::{
        browser, closed_port_issuer, header_text, is_removal, location, set_cookie, set_cookies,
        spawn_app, AppSettings, TestApp,
    },
    provider::CLIENT_ID,
    setup, EMAIL,
};

/// The query of the provider logout URL a Logout response sends the browser to.
fn provider_logout(response: &reqwest::Response, app: &TestApp) -> HashMap<String, String> {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let url = url::Url::parse(location(response)).expect("absolute URL");
    assert_eq!(url.path(), "/oauth2/logout");
    let query: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], app.url("/logout"));
    assert!(!query["state"].is_empty());
    let cookies = set_cookies(response);
    assert!(
        set_cookie(&cookies, "fa_leptos_session").is_some_and(is_removal),
        "the session cookie is always expired: {cookies:?}"
    );
    query
}

/// The tab was left open until the cookie expired: Logout still ends FusionAuth's SSO session,
/// or the next person at this computer would be logged straight back in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_without_a_session_still_ends_the_providers_session() {
    let s = setup().await;
    let response = s.app.logout().await;
    let query = provider_logout(&response, &s.app);
    assert!(!query.contains_key("id_token_hint"), "no session, no hint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_a_session_sends_the_id_token_hint_and_deletes_the_session() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let response = s.app.logout().await;
    let query = provider_logout(&response, &s.app);
    assert!(query["id_token_hint"].starts_with("eyJ"));
    assert_eq!(s.app.stored_sessions().await, 0);
    s.app.assert_guest().await;
}

/// The store is down: the local session cannot be deleted, but the cookie is expired and the
/// browser still goes to the provider (no error page in the way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_the_session_store_down_still_reaches_the_provider() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    sqlx::query("DROP TABLE tower_sessions")
        .execute(&mut s.app.store_connection().await)
        .await
        .expect("break the store");
    let response = s.app.logout().await;
    provider_logout(&response, &s.app);
}

/// The provider cannot be reached from the server: the browser may still reach it, so Logout
/// goes to FusionAuth's documented logout path below the issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_with_discovery_down_uses_fusionauths_logout_path() {
    let issuer = closed_port_issuer();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings::new(&issuer, &dir)).await;
    let response = app.logout().await;
    provider_logout(&response, &app);
    assert!(location(&response).starts_with(&format!("{issuer}/oauth2/logout?")));
}

/// FusionAuth's logout page loads the app's logoutURL in a hidden iframe: that ends the
/// local session, idempotently, with a tiny page only the provider may frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_channel_logout_in_an_iframe_ends_the_session() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as(EMAIL).await;
    for _ in 0..2 {
        let response = s
            .app
            .browser
            .get(s.app.url("/logout"))
            .header("sec-fetch-dest", "iframe")
            .header("sec-fetch-site", "same-site")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        let policy = header_text(&response, header::CONTENT_SECURITY_POLICY).expect("a CSP");
        assert!(
            policy.contains(&format!("frame-ancestors {}", s.provider.issuer)),
            "only the provider may frame it: {policy}"
        );
        let page = response.text().await.expect("body");
        assert!(page.len() < 300, "a tiny page, not the app: {page}");
        assert!(!page.contains("<script"), "{page}");
    }
    s.app.assert_guest().await;
    assert_eq!(s.app.stored_sessions().await, 0);
}

/// A link to `/logout` from anywhere (or typed in): a top-level navigation logs nobody out.
/// It is also where FusionAuth returns the browser after logout: it lands on a clean `/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_level_visit_to_logout_logs_nobody_out() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    for (dest, site) in [
        ("document", "cross-site"),
        ("document", "same-site"),
        ("", ""),
    ] {
        let mut request = s.app.browser.get(s.app.url("/logout?state=abc"));
        if !dest.is_empty() {
            request = request
                .header("sec-fetch-dest", dest)
                .header("sec-fetch-site", site);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/", "a clean home, without the state");
    }
    s.app.assert_logged_in_as(EMAIL).await;
}

/// Another site cannot frame the logout URL into logging someone out either: without the
/// session cookie (SameSite=Lax is not sent to cross-site iframes) nothing happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_channel_logout_without_the_cookie_changes_nothing() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let response = browser()
        .get(s.app.url("/logout"))
        .header("sec-fetch-dest", "iframe")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(set_cookies(&response).is_empty());
    s.app.assert_logged_in_as(EMAIL).await;
}
