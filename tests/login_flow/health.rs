//! `/readyz`: the session store after a real round trip, the provider as the app's own
//! requests found it (the probe asks it nothing), 503 only when logged-in users cannot be
//! served; no cookie, no session, no secret.

use std::time::{Duration, Instant};

use reqwest::{header, StatusCode};
use serde_json::Value;
use wiremock::ResponseTemplate;

use crate::support::{
    app::{set_cookies, TestApp, SECRET_KEY},
    provider::CLIENT_SECRET,
    replicas::replicas,
    setup, ACCESS_TOKEN,
};

/// `/readyz` as a probe sees it: its status and its JSON, after checking what every answer
/// must have (JSON, not cached, the security headers, no cookie, no secret).
async fn readyz(app: &TestApp) -> (StatusCode, Value) {
    let response = app.get("/readyz").await;
    let status = response.status();
    let headers = response.headers().clone();
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert!(set_cookies(&response).is_empty(), "no cookie: {headers:?}");
    let body = response.text().await.expect("body");
    println!("/readyz {status}: {body}");
    for secret in [SECRET_KEY, CLIENT_SECRET, ACCESS_TOKEN, "redis://", "eyJ"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
    (status, serde_json::from_str(&body).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_any_login_the_app_is_degraded_but_ready_to_serve() {
    let s = setup().await;
    let (status, body) = readyz(&s.app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "degraded");
    let store = &body["components"]["session_store"];
    assert_eq!(store["status"], "up");
    assert_eq!(store["backend"], "sqlite");
    assert!(store["latency_ms"].is_number(), "{store}");
    let provider = &body["components"]["provider"];
    assert_eq!(provider["status"], "degraded");
    assert!(provider.get("discovery_age_secs").is_none(), "{provider}");
    assert!(provider.get("last_error").is_none(), "{provider}");
    assert!(
        s.provider
            .requests_to("/.well-known/openid-configuration")
            .await
            .is_empty(),
        "the probe asked the provider nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_login_the_provider_is_up_with_fresh_discovery_and_keys() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let (status, body) = readyz(&s.app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready");
    let provider = &body["components"]["provider"];
    assert_eq!(provider["status"], "up");
    assert!(provider["discovery_age_secs"].as_u64().expect("age") < 60);
    assert!(provider["jwks_age_secs"].as_u64().expect("age") < 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_degrades_readiness_without_failing_it_until_it_answers() {
    let s = setup().await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    s.provider
        .respond_to_token_request(ResponseTemplate::new(503).set_body_string("down"));
    let start = s.app.start_login("/").await;
    let failed = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    assert_ne!(failed.status(), StatusCode::FOUND);

    let (status, body) = readyz(&s.app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "degraded");
    let provider = &body["components"]["provider"];
    assert_eq!(provider["status"], "degraded");
    assert!(provider["discovery_age_secs"].is_u64(), "{provider}");
    let error = provider["last_error"].as_str().expect("the last error");
    assert!(error.starts_with("token request"), "{error}");

    // The next answer ends the failure; the last error stays on record.
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let (_, body) = readyz(&s.app).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["components"]["provider"]["status"], "up");
    assert!(body["components"]["provider"]["last_error"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_makes_the_app_unavailable_at_once_and_ready_again_when_back() {
    let mut r = replicas(false, &[]).await;
    assert_eq!(r.login_on(&r.a).await.status(), StatusCode::FOUND);
    r.redis.stop();

    // It answers (the client's timeout is far above the store's command deadline).
    let (status, body) = readyz(&r.a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    let store = &body["components"]["session_store"];
    assert_eq!(store["status"], "down");
    assert_eq!(store["backend"], "redis");
    assert!(store["error"].is_string(), "{store}");
    assert_eq!(body["components"]["provider"]["status"], "up");
    assert_eq!(r.a.get("/healthz").await.status(), StatusCode::OK);

    r.redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while readyz(&r.a).await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "ready again once Redis is back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probing_readiness_creates_no_session() {
    let s = setup().await;
    for _ in 0..3 {
        readyz(&s.app).await;
    }
    assert_eq!(s.app.stored_sessions().await, 0);
}
