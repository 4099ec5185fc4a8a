//! Starting a login and coming back: the happy path, `return_to`, and logins in progress
//! (one encrypted cookie per attempt, nothing in the session store).

use std::collections::HashMap;

use reqwest::StatusCode;

use crate::support::{
    app::{
        assert_error_page, browser, contains_jwt, cookie_pair, is_removal, location,
        page_with_cookie, set_cookie, set_cookies, start_login_in,
    },
    provider::{CLIENT_ID, CLIENT_SECRET},
    setup, ACCESS_TOKEN, EMAIL,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_login_shows_the_profile_and_logout_ends_it() {
    let s = setup().await;
    s.app.assert_guest().await;

    let start = s.app.start_login("/").await;
    let query: HashMap<_, _> = start.authorize_url.query_pairs().into_owned().collect();
    assert_eq!(start.authorize_url.path(), "/oauth2/authorize");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query["code_challenge"].len() >= 43);
    assert_eq!(query["redirect_uri"], s.app.url("/callback"));
    let scopes: Vec<_> = query["scope"].split(' ').collect();
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(
            scopes.contains(&scope),
            "scope {scope} requested: {scopes:?}"
        );
    }

    s.issue_tokens_for(&start.nonce);
    // FusionAuth appends `locale` and `userState`: they must not disturb the callback.
    let response = s
        .app
        .callback(&[
            ("code", "the-code"),
            ("locale", "en"),
            ("state", &start.state),
            ("userState", "Authenticated"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/");
    let cookies = set_cookies(&response);
    let session_cookie =
        set_cookie(&cookies, "fa_leptos_session").expect("the session cookie is issued at login");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    assert!(session_cookie.contains("Path=/"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "plain-http APP_URL: {session_cookie}"
    );

    // The token request: the code, the PKCE verifier, our redirect URI, HTTP Basic client auth.
    let token_requests = s.provider.requests_to("/oauth2/token").await;
    assert_eq!(token_requests.len(), 1);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&token_requests[0].body)
        .into_owned()
        .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], s.app.url("/callback"));
    assert!(form["code_verifier"].len() >= 43);
    let auth = token_requests[0]
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .expect("client authentication");
    assert!(auth.starts_with("Basic "));

    let page = s.app.home_page().await;
    assert!(page.contains("You are logged in as"));
    assert!(page.contains(EMAIL));
    assert!(page.contains("Here is your OpenID profile"));
    assert!(
        page.contains("authenticationType"),
        "FusionAuth's own claims are shown"
    );
    // The time claims (exp, iat, auth_time) show their date beside the number.
    let dates: Vec<&str> = page
        .split("<span class=\"claim-date\">")
        .skip(1)
        .filter_map(|rest| rest.split("</span>").next())
        .collect();
    assert_eq!(dates.len(), 3, "{page}");
    for date in dates {
        let shape = date.len() == "2026-11-28 10:39:46 UTC".len()
            && date.ends_with(" UTC")
            && date[..4].bytes().all(|b| b.is_ascii_digit());
        assert!(shape, "a readable date: {date:?}");
    }
    assert!(!contains_jwt(&page), "the page leaks a JWT");
    for secret in [ACCESS_TOKEN, "refresh-token-value", CLIENT_SECRET] {
        assert!(!page.contains(secret), "the page leaks {secret:?}");
    }

    let response = s.app.logout().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let logout = url::Url::parse(location(&response)).expect("absolute URL");
    assert_eq!(logout.path(), "/oauth2/logout");
    let query: HashMap<_, _> = logout.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["post_logout_redirect_uri"], s.app.url("/logout"));
    assert!(query["id_token_hint"].starts_with("eyJ"));
    assert!(!query["state"].is_empty());
    s.app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_page_sends_a_guest_through_login_and_back() {
    let s = setup().await;
    let response = s.app.get("/profile").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/login?return_to=%2Fprofile");

    let response = s.login_returning_to("/profile").await;
    assert_eq!(location(&response), "/profile");
    let response = s.app.get("/profile").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.expect("body").contains(EMAIL));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_pointing_off_site_is_replaced_by_home() {
    let s = setup().await;
    for evil in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let response = s.login_returning_to(evil).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(location(&response), "/", "{evil:?} must not be followed");
    }
}

/// The attempt travels in the browser, encrypted: nothing the provider or a reader of the
/// cookie jar could use, scoped to the callback, for the login timeout and a margin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_login_cookie_is_encrypted_httponly_and_scoped_to_the_callback() {
    let s = setup().await;
    let start = s.app.start_login("/profile").await;
    let pending: Vec<&String> = start
        .cookies
        .iter()
        .filter(|c| c.starts_with("fa_login."))
        .collect();
    assert_eq!(
        pending.len(),
        1,
        "one cookie per attempt: {:?}",
        start.cookies
    );
    let cookie = pending[0];
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/callback", "Max-Age=660"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let value = cookie_pair(cookie);
    for secret in [start.state.as_str(), start.nonce.as_str(), "profile"] {
        assert!(!value.contains(secret), "{secret:?} readable in {value}");
    }
}

/// Two tabs start a login each (the second before the first returns); both complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_logging_in_at_once_both_complete() {
    let s = setup().await;
    let first = s.app.start_login("/").await;
    let second = s.app.start_login("/profile").await;

    s.issue_tokens_for(&second.nonce);
    let response = s
        .app
        .callback(&[("code", "c2"), ("state", &second.state)])
        .await;
    assert_eq!(location(&response), "/profile");

    s.issue_tokens_for(&first.nonce);
    let response = s
        .app
        .callback(&[("code", "c1"), ("state", &first.state)])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(location(&response), "/");
    s.app.assert_logged_in_as(EMAIL).await;
    assert_eq!(s.provider.requests_to("/oauth2/token").await.len(), 2);
}

/// A bot hammering `/login` (or a visitor who never finishes) costs the server nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_anonymous_logins_leave_the_session_store_empty() {
    let s = setup().await;
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let url = s.app.url("/login?return_to=%2F");
            tokio::spawn(async move {
                for _ in 0..125 {
                    let response = browser().get(&url).send().await.expect("request");
                    assert_eq!(response.status(), StatusCode::FOUND);
                }
            })
        })
        .collect();
    for start in starts {
        start.await.expect("logins start");
    }
    assert_eq!(
        s.app.stored_sessions().await,
        0,
        "no session row for a started login"
    );
}

/// One browser keeps a few attempts at most: starting one more drops the oldest, so the
/// cookies sent to `/callback` stay small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_keeps_only_the_last_three_login_attempts() {
    let s = setup().await;
    let mut starts = Vec::new();
    for _ in 0..5 {
        starts.push(s.app.start_login("/").await);
    }
    // The fourth and fifth /login each removed the then-oldest attempt.
    let removed: Vec<_> = starts[3..]
        .iter()
        .flat_map(|start| start.cookies.iter())
        .filter(|c| c.starts_with("fa_login.") && is_removal(c))
        .collect();
    assert_eq!(removed.len(), 2, "{removed:?}");

    let oldest = &starts[0];
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &oldest.state)])
        .await;
    assert_error_page(response, 400, "Login failed").await;

    assert_eq!(s.finish(&starts[4]).await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as(EMAIL).await;
}

/// Session fixation: a session id planted in the victim's browser before the login (here the
/// attacker's own logged-in session) is never the one the victim ends up with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_renews_the_session_id() {
    let s = setup().await;
    let response = s.login().await;
    let planted = set_cookie(&set_cookies(&response), "fa_leptos_session")
        .map(cookie_pair)
        .expect("first session")
        .to_owned();

    let victim = browser();
    let start = start_login_in(&victim, &s.app, "/").await;
    s.issue_tokens_for(&start.nonce);
    let response = victim
        .get(s.app.url("/callback"))
        .query(&[("code", "c"), ("state", start.state.as_str())])
        .header(
            reqwest::header::COOKIE,
            format!("{planted}; {}", start.attempt_cookie()),
        )
        .send()
        .await
        .expect("request");
    let issued = set_cookie(&set_cookies(&response), "fa_leptos_session")
        .map(cookie_pair)
        .expect("a new session cookie at login")
        .to_owned();
    assert_ne!(planted, issued, "the session id must change at login");

    // The planted id no longer names a session.
    let page = page_with_cookie(&s.app, "/", &planted).await;
    assert!(page.contains("Hello Guest"), "{page}");
}

/// Islands: the pages are server HTML; only the guest view and the claims switch hydrate,
/// and neither carries data into the page for the wasm (no `data-props`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_prop_less_islands_hydrate() {
    let s = setup().await;
    let guest = s.app.home_page().await;
    assert!(
        guest.contains("<leptos-island data-component=\"GuestView"),
        "{guest}"
    );
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let profile = s.app.home_page().await;
    assert_eq!(profile.matches("<leptos-island").count(), 1, "{profile}");
    assert!(
        profile.contains("data-component=\"ClaimsSwitch"),
        "{profile}"
    );
    for page in [guest, profile] {
        assert!(
            !page.contains("data-props"),
            "an island with data props: {page}"
        );
    }
}
