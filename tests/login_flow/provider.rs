//! The provider down, slow, wrong or answering garbage: a clear page at once, never a queue
//! of requests waiting on it, and recovery without a restart.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{
    app::{assert_error_page, closed_port_issuer, spawn_app, spawn_app_with, AppSettings},
    provider::{key_a, TestProvider},
    setup,
};

/// A provider that accepts connections and never answers; counts the connections.
async fn silent_provider() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            open.push(socket);
        }
    });
    (issuer, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_down_shows_503_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings::new(&closed_port_issuer(), &dir)).await;
    app.assert_guest().await;
    for _ in 0..2 {
        let response = app.get("/login?return_to=%2F").await;
        let page = assert_error_page(response, 503, "Login is unavailable right now").await;
        assert!(page.contains("cannot be reached"));
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

/// 20 logins at once against a provider that never answers: one discovery request, shared by
/// all of them, and every one gets the 503 page when that request times out (not one after
/// another, which would take 20 timeouts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_answers_costs_one_fetch_not_a_queue() {
    let (issuer, connections) = silent_provider().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let timeout = Duration::from_secs(2);
    let app = spawn_app_with(AppSettings::new(&issuer, &dir), |c| {
        c.oidc.auth.provider_timeout = timeout;
    })
    .await;
    let started = Instant::now();
    let logins: Vec<_> = (0..20)
        .map(|_| {
            let url = app.url("/login");
            tokio::spawn(async move {
                crate::support::app::browser()
                    .get(url)
                    .send()
                    .await
                    .expect("request")
            })
        })
        .collect();
    for login in logins {
        let response = login.await.expect("login answers");
        assert_error_page(response, 503, "Login is unavailable right now").await;
    }
    let elapsed = started.elapsed();
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one shared fetch");
    // A queue would take 20 × 2 s; the bound is loose on purpose (shared, noisy machines).
    assert!(
        elapsed < timeout * 4,
        "all 20 answered within one provider timeout, not one after another: {elapsed:?}"
    );

    // Remembered: the next login fails at once, without a new connection.
    let response = app.get("/login").await;
    assert_error_page(response, 503, "Login is unavailable right now").await;
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

/// A failed discovery is remembered for `provider_retry_after`, then tried again: the app
/// recovers by itself when the provider does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_discovery_is_remembered_briefly_then_retried() {
    let key = key_a();
    let provider = TestProvider::start(&[&key]).await;
    wiremock::Mock::given(wiremock::matchers::path(
        "/.well-known/openid-configuration",
    ))
    .respond_with(wiremock::ResponseTemplate::new(503))
    .up_to_n_times(1)
    .with_priority(1)
    .mount(&provider.server)
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(AppSettings::new(&provider.issuer, &dir), |c| {
        c.oidc.auth.provider_retry_after = Duration::from_millis(500);
    })
    .await;
    let discoveries = || async {
        provider
            .requests_to("/.well-known/openid-configuration")
            .await
            .len()
    };

    for _ in 0..2 {
        assert_error_page(
            app.get("/login").await,
            503,
            "Login is unavailable right now",
        )
        .await;
    }
    assert_eq!(discoveries().await, 1, "the failure is remembered");

    tokio::time::sleep(Duration::from_millis(600)).await;
    let response = app.get("/login").await;
    assert_eq!(
        response.status(),
        StatusCode::FOUND,
        "recovered without a restart"
    );
    assert_eq!(discoveries().await, 2);
}

/// Whatever hangs, the server answers within its request timeout, with a page that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_stuck_on_a_dependency_gets_the_timeout_page() {
    let (issuer, _) = silent_provider().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(AppSettings::new(&issuer, &dir), |c| {
        c.oidc.auth.provider_timeout = Duration::from_secs(60);
        c.request_timeout = Duration::from_secs(1);
    })
    .await;
    let response = app.get("/login").await;
    let page = assert_error_page(response, 503, "This is taking too long").await;
    assert!(page.contains("could not answer in time"));
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_answering_garbage_shows_502() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings::new(&server.uri(), &dir)).await;
    let response = app.get("/login").await;
    assert_error_page(response, 502, "The login could not be verified").await;
    app.assert_guest().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_with_another_issuer_is_refused() {
    // The trap in fusionauth.md: FusionAuth's default issuer is `acme.com`.
    let server = wiremock::MockServer::start().await;
    let issuer = server.uri();
    wiremock::Mock::given(wiremock::matchers::path(
        "/.well-known/openid-configuration",
    ))
    .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
        "issuer": "acme.com",
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })))
    .mount(&server)
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(AppSettings::new(&issuer, &dir)).await;
    assert_error_page(
        app.get("/login").await,
        502,
        "The login could not be verified",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_jwks_are_fetched_once_for_many_logins() {
    let s = setup().await;
    for _ in 0..3 {
        assert_eq!(s.login().await.status(), StatusCode::FOUND);
    }
    assert_eq!(
        s.provider
            .requests_to("/.well-known/openid-configuration")
            .await
            .len(),
        1
    );
    assert_eq!(
        s.provider.requests_to("/.well-known/jwks.json").await.len(),
        1
    );
    assert_eq!(s.provider.requests_to("/oauth2/token").await.len(), 3);
}
