//! `/metrics` is served on `METRICS_ADDR` only: never on the public port.

use reqwest::StatusCode;

use crate::{scrape::app_with_metrics, serial};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_public_port() {
    // Its requests count too: not while another test counts.
    let _serial = serial().await;
    let (s, metrics) = app_with_metrics().await;
    assert_ne!(metrics.addr.port(), 0);
    assert!(!s.app.base.ends_with(&format!(":{}", metrics.addr.port())));

    let public = s.app.get("/metrics").await;
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let body = public.text().await.expect("body");
    assert!(!body.contains("oidc_sessions_"), "{body}");

    let scraped = reqwest::get(metrics.url()).await.expect("scrape");
    assert_eq!(scraped.status(), StatusCode::OK);
    let content_type = scraped.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = scraped.text().await.expect("body");
    let build_info = text
        .lines()
        .find(|l| l.starts_with("oidc_sessions_build_info{"))
        .unwrap_or_else(|| panic!("build info in {text}"));
    assert!(build_info.ends_with(" 1"), "{build_info}");
    for label in [
        format!("version=\"{}\"", env!("CARGO_PKG_VERSION")),
        "backend=\"sqlite\"".to_owned(),
        "commit=\"".to_owned(),
    ] {
        assert!(build_info.contains(&label), "{label} in {build_info}");
    }
}
