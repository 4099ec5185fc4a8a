//! Requests that run at the same time must never see each other's state (two Leptos traps
//! the app steps around; README "How the login works").

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    app::{browser, spawn_app, AppSettings},
    setup,
};

/// Building a router (tests do it per app; an embedding app may too) must never stall pages
/// that other routers in the process are rendering. Leptos suspends every resource in the
/// process while it generates a route list, so the app generates it only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn building_another_router_never_stalls_pages_being_rendered() {
    let s = setup().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let builder = {
        let issuer = s.provider.issuer.clone();
        let dir = dir.path().to_owned();
        let done = done.clone();
        tokio::spawn(async move {
            for i in 0..60 {
                drop(
                    spawn_app(AppSettings {
                        issuer: issuer.clone(),
                        session_db: dir.join(format!("sessions-{i}.db")),
                        vars: Vec::new(),
                    })
                    .await,
                );
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
        })
    };
    // Browsers render the home page meanwhile. A query string skips the guest-page cache,
    // so each request renders the page and runs its resource (the current user).
    let browsers: Vec<_> = (0..4)
        .map(|b| {
            let client = browser();
            let base = s.app.base.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut n = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let response = tokio::time::timeout(
                        Duration::from_secs(10),
                        client.get(format!("{base}/?b={b}&n={n}")).send(),
                    )
                    .await
                    .unwrap_or_else(|_| panic!("a page stalled while routers were being built"))
                    .expect("request");
                    assert_eq!(response.status(), StatusCode::OK);
                    n += 1;
                }
                n
            })
        })
        .collect();
    builder.await.expect("routers build");
    for browser in browsers {
        assert!(browser.await.expect("browser finishes") > 0);
    }
}

/// A static file served while a page is being rendered must not take that page's status or
/// headers: the login's redirect stays on the login, and the file stays a plain 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_never_take_a_concurrent_pages_redirect() {
    let s = setup().await;
    let logins = {
        let app_base = s.app.base.clone();
        tokio::spawn(async move {
            let mut missing = 0;
            for _ in 0..150 {
                // A fresh browser each time: every /login renders and redirects.
                let response = browser()
                    .get(format!("{app_base}/login?return_to=%2F"))
                    .send()
                    .await
                    .expect("request");
                if response.status() != StatusCode::FOUND
                    || response.headers().get(reqwest::header::LOCATION).is_none()
                {
                    missing += 1;
                }
            }
            missing
        })
    };
    let files: Vec<_> = (0..2)
        .map(|_| {
            let client = browser();
            let base = s.app.base.clone();
            tokio::spawn(async move {
                let mut wrong = Vec::new();
                for _ in 0..300 {
                    for path in ["/favicon.svg", "/pkg/fusionauth-leptos.css"] {
                        let response = client
                            .get(format!("{base}{path}"))
                            .send()
                            .await
                            .expect("request");
                        if response.status() != StatusCode::OK
                            || response.headers().get(reqwest::header::LOCATION).is_some()
                        {
                            wrong.push(format!(
                                "{path}: {} {:?}",
                                response.status(),
                                response.headers().get(reqwest::header::LOCATION)
                            ));
                        }
                    }
                }
                wrong
            })
        })
        .collect();
    let mut wrong = Vec::new();
    for file in files {
        wrong.extend(file.await.expect("files"));
    }
    assert_eq!(
        logins.await.expect("logins"),
        0,
        "logins without a redirect"
    );
    assert_eq!(
        wrong,
        Vec::<String>::new(),
        "static files with another request's answer"
    );
    let favicon = s.app.get("/favicon.svg").await;
    assert_eq!(
        favicon.text().await.expect("body"),
        crate::support::app::FAVICON
    );
}
