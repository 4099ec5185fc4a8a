//! Static files: hashed assets cached for good, others revalidated, no open redirect from
//! directories, and the app's 404 page for everything else.

use reqwest::{header, StatusCode};

use crate::support::{app::HASHED_WASM, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_get_the_not_found_page() {
    let s = setup().await;
    for path in ["/no-such-page", "/pkg/no-such-file.js", "/callback/extra"] {
        let response = s.app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL),
            Some(&header::HeaderValue::from_static("no-store")),
            "{path}"
        );
        let page = response.text().await.expect("body");
        assert!(page.contains("Page not found"), "{path}: {page}");
        assert!(page.contains("Back to start"), "{path}");
    }
}

/// `ServeDir` would answer a directory without its trailing slash with a redirect to
/// `<path>/`; for `//pkg` that is `//pkg/`, which a browser reads as another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_are_never_redirected_to_another_host() {
    let s = setup().await;
    for path in ["//pkg", "/pkg", "//evil.example/%2e%2e/pkg", "/pkg/"] {
        let response = s.app.get(path).await;
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap_or_default().to_owned());
        assert!(
            location.as_deref().is_none_or(|l| !l.starts_with("//")),
            "{path} redirects to {location:?}"
        );
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// A hashed asset's name changes with its content, so browsers may keep it for a year; a
/// file with a fixed name is revalidated on each use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashed_assets_are_immutable_and_others_are_revalidated() {
    let s = setup().await;
    let cache_control = |response: &reqwest::Response| {
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let hashed = s.app.get(&format!("/{HASHED_WASM}")).await;
    assert_eq!(hashed.status(), StatusCode::OK);
    assert_eq!(
        cache_control(&hashed),
        "public, max-age=31536000, immutable"
    );
    for path in ["/favicon.svg", "/pkg/fusionauth-leptos.css"] {
        let response = s.app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(cache_control(&response), "no-cache", "{path}");
    }
}
