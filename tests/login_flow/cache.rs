//! The guest home page served from memory: never a logged-in page, never a shared nonce.

use reqwest::{header, StatusCode};

use crate::support::{
    app::{browser, cookie_pair, csp_nonce, page_of, set_cookie, set_cookies},
    setup, EMAIL,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_guest_page_is_never_served_to_a_logged_in_user() {
    let s = setup().await;
    let first = s.app.home_page().await;
    assert!(first.contains("Hello Guest"));

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    s.app.assert_logged_in_as(EMAIL).await;
    // A query string bypasses the cache too.
    let response = s.app.get("/?from=test").await;
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("You are logged in as"));
}

/// The session layer reads the `Cookie` header its own way (names trimmed and
/// percent-decoded, several headers joined). However a logged-in user's cookie is spelled,
/// the first rendering of `/` on an empty cache must never become every guest's page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cookie_spelling_puts_a_logged_in_page_in_the_guest_cache() {
    let spellings: [fn(&str) -> Vec<String>; 8] = [
        |c| vec![c.to_owned()],
        |c| vec![format!(" {c}")],
        |c| vec![c.replacen('=', " =", 1)],
        |c| vec![c.replacen("fa_leptos_session", "fa%5Fleptos%5Fsession", 1)],
        |c| vec![c.replacen("fa_", "%66a_", 1)],
        |c| vec![format!("other=1;{c}")],
        |c| vec!["other=1".to_owned(), c.to_owned()],
        |c| vec![format!("{c}; fa_leptos_session=")],
    ];
    for (i, spell) in spellings.iter().enumerate() {
        let s = setup().await;
        let response = s.login().await;
        let cookie = set_cookie(&set_cookies(&response), "fa_leptos_session")
            .map(cookie_pair)
            .expect("session cookie")
            .to_owned();

        // On an empty cache: the logged-in user, spelled oddly, asks for `/` first.
        let mut request = browser().get(s.app.url("/"));
        for value in spell(&cookie) {
            request = request.header(header::COOKIE, value);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "spelling {i}");

        for _ in 0..2 {
            let guest = page_of(&browser(), &s.app.url("/")).await;
            assert!(
                guest.contains("Hello Guest") && !guest.contains(EMAIL),
                "spelling {i}: a guest got a logged-in page: {guest}"
            );
        }
    }
}

/// The cached page is re-issued with the nonce of each response, and the nonce matches the
/// response's Content-Security-Policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_guest_page_carries_a_fresh_nonce_each_time() {
    let s = setup().await;
    let mut nonces = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let response = browser().get(s.app.url("/")).send().await.expect("request");
        let nonce = csp_nonce(&response);
        let body = response.text().await.expect("body");
        assert!(body.contains("Hello Guest"));
        assert!(
            body.contains(&format!("nonce=\"{nonce}\"")),
            "the page's scripts carry the response's nonce"
        );
        bodies.push(body.replace(&nonce, "NONCE"));
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a fresh nonce per response");
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one guest page, apart from the nonce"
    );
}
