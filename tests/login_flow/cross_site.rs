//! Server functions take same-origin POSTs only: another site cannot log a user out (or call
//! anything else) through the user's browser.

use reqwest::{header, StatusCode};

use crate::support::{
    app::{assert_error_page, location},
    setup, EMAIL,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_logout_post_is_refused_with_403() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let refusals = [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        // Same host, another port: another origin.
        vec![("origin", "http://127.0.0.1:1")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        // Neither header: not a browser this app serves; refused rather than guessed.
        vec![],
    ];
    for headers in refusals {
        let mut request = s.app.browser.post(s.app.url("/auth/logout"));
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        assert!(
            response.headers().get(header::LOCATION).is_none(),
            "{headers:?}"
        );
        assert_error_page(response, 403, "Request refused").await;
        s.app.assert_logged_in_as(EMAIL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_origin_logout_without_origin_needs_sec_fetch_site() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let response = s
        .app
        .browser
        .post(s.app.url("/auth/logout"))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("/oauth2/logout?"));
    s.app.assert_guest().await;
}

/// Server functions answer POST only: a GET (a link, an `<img>`) does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_refuse_get() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    for path in ["/auth/logout", "/auth/me", "/auth/start_login"] {
        let response = s
            .app
            .browser
            .get(s.app.url(path))
            .header(header::ORIGIN, &s.app.base)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_error_page(response, 405, "Something went wrong").await;
    }
    s.app.assert_logged_in_as(EMAIL).await;
}
