//! Security headers on every response: a nonce-based CSP, no framing, nosniff, a
//! same-origin referrer policy, and HSTS over https.

use reqwest::{header, Response, StatusCode};

use crate::support::{
    app::{browser, csp_nonce, header_text},
    setup, setup_with_vars,
};

fn header_of(response: &Response, name: header::HeaderName) -> String {
    header_text(response, name.clone()).unwrap_or_else(|| panic!("{name} on {}", response.url()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_the_security_headers() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let client = browser();
    let requests = [
        ("GET", "/"),
        ("GET", "/?render"),
        ("GET", "/login"),
        ("GET", "/callback?state=x"),
        ("GET", "/favicon.svg"),
        ("GET", "/pkg/fusionauth-leptos.css"),
        ("GET", "/no-such-page"),
        ("GET", "/logout"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/auth/logout"),
    ];
    for (method, path) in requests {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = client
            .request(method, s.app.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(
            header_of(&response, header::X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{path}"
        );
        assert_eq!(
            header_of(&response, header::REFERRER_POLICY),
            "same-origin",
            "{path}"
        );
        let policy = header_of(&response, header::CONTENT_SECURITY_POLICY);
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("object-src 'none'"), "{path}: {policy}");
        assert!(policy.contains("base-uri 'none'"), "{path}: {policy}");
        let scripts = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .expect("script-src");
        assert!(scripts.contains("'nonce-"), "{path}: {scripts}");
        assert!(scripts.contains("'wasm-unsafe-eval'"), "{path}: {scripts}");
        assert!(!scripts.contains("unsafe-inline"), "{path}: {scripts}");
        assert!(
            response
                .headers()
                .get(header::STRICT_TRANSPORT_SECURITY)
                .is_none(),
            "no HSTS over plain http: {path}"
        );
    }
}

/// Each page's scripts carry the nonce of their response's policy, and no two responses
/// share one; the Login and Logout forms may lead to the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_scripts_carry_the_nonce_of_their_own_response() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = s.app.get("/").await;
        let policy = header_of(&response, header::CONTENT_SECURITY_POLICY);
        assert!(
            policy.contains(&format!("form-action 'self' {}", s.provider.issuer)),
            "{policy}"
        );
        let nonce = csp_nonce(&response);
        let page = response.text().await.expect("body");
        assert!(page.contains("You are logged in as"));
        let scripts = page.matches("<script").count();
        assert!(scripts > 0, "the page has scripts");
        assert_eq!(
            page.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every script carries this response's nonce"
        );
        seen.push(nonce);
    }
    assert_ne!(seen[0], seen[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_app_url_turns_on_hsts() {
    let s = setup_with_vars(&[("APP_URL", "https://app.example")], |_| {}).await;
    for path in ["/", "/favicon.svg", "/login"] {
        let response = s.app.get(path).await;
        let hsts = header_of(&response, header::STRICT_TRANSPORT_SECURITY);
        assert!(hsts.starts_with("max-age=31536000"), "{path}: {hsts}");
    }
}
