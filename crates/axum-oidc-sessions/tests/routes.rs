//! The crate's own routes, layer and extractors in a router of their own (no app around
//! them), against the FusionAuth-shaped stand-in: the guard's detour through the login, the
//! app's error page for a forged callback, a `return_to` to another site ignored, and the
//! front-channel logout. (The examples' tests log in the same way through a built binary.)

use std::time::Duration;

use axum::{
    response::{Html, IntoResponse},
    routing::get,
    Router,
};
use axum_oidc_sessions::{
    config::OidcConfig,
    extract::{LoggedIn, Viewer},
    store::StoreLocation,
    OidcSessions,
};
use testkit::standin::{free_port, wait_until_ok, Browser, Standin, CLIENT_ID, CLIENT_SECRET};

/// The app's own error page, so a test can tell it from the crate's default one.
const ERROR_MARK: &str = "error page of the app";

async fn serve() -> (String, Standin, tokio::task::JoinHandle<()>) {
    let port = free_port();
    let app_url = format!("http://127.0.0.1:{port}");
    let standin = Standin::start(&app_url).await;
    let config = OidcConfig::builder()
        .issuer(&standin.issuer)
        .client(CLIENT_ID, CLIENT_SECRET)
        .app_url(&app_url)
        .secret_key("a-test-secret-that-is-at-least-32-bytes-long")
        .store(StoreLocation::Memory)
        .error_page(|error| {
            let status = http::StatusCode::from_u16(error.status()).expect("a status");
            (status, Html(format!("{ERROR_MARK}: {}", error.title()))).into_response()
        })
        .build()
        .expect("valid configuration");
    let auth = OidcSessions::new(config).await.expect("starts");
    let app = Router::new()
        .route(
            "/",
            get(|viewer: Viewer| async move {
                match viewer {
                    Viewer::User(user) => format!("user {}", user.claim("sub").unwrap_or("?")),
                    _ => "guest".to_owned(),
                }
            }),
        )
        .route(
            "/private",
            get(|LoggedIn(user): LoggedIn| async move {
                format!("private to {}", user.claim("email").unwrap_or("?"))
            }),
        )
        .merge(auth.routes())
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the port is free");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    wait_until_ok(&app_url, Duration::from_secs(10)).await;
    (app_url, standin, server)
}

#[tokio::test]
async fn the_guard_sends_a_guest_through_the_login_and_back_with_the_query() {
    let (app, _standin, _server) = serve().await;
    let browser = Browser::new();
    let response = browser
        .client
        .get(format!("{app}/private?tab=2"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"],
        "/login?return_to=%2Fprivate%3Ftab%3D2"
    );
    let (landed, status, page) = browser.log_in(&format!("{app}/private?tab=2")).await;
    assert_eq!(
        (landed.path(), landed.query(), status.as_u16()),
        ("/private", Some("tab=2"), 200)
    );
    assert_eq!(page, "private to richard@example.com");
}

#[tokio::test]
async fn a_forged_callback_gets_the_app_s_error_page_and_changes_nothing() {
    let (app, _standin, _server) = serve().await;
    let browser = Browser::new();
    let (_, status, page) = browser
        .visit(&format!("{app}/callback?code=stolen&state=forged"))
        .await;
    assert_eq!(status, 400);
    assert!(page.starts_with(ERROR_MARK), "{page}");
    let (_, _, page) = browser.visit(&app).await;
    assert_eq!(page, "guest");
}

#[tokio::test]
async fn a_return_to_on_another_site_lands_on_the_home_page() {
    let (app, _standin, _server) = serve().await;
    let browser = Browser::new();
    let (landed, status, page) = browser
        .log_in(&format!(
            "{app}/login?return_to=https%3A%2F%2Fevil.example%2F"
        ))
        .await;
    assert_eq!(
        (landed.as_str(), status.as_u16()),
        (format!("{app}/").as_str(), 200)
    );
    assert_eq!(page, "user 00000000-0000-0000-0000-111111111111");
}

#[tokio::test]
async fn the_provider_s_logout_iframe_ends_the_session_a_plain_visit_does_not() {
    let (app, _standin, _server) = serve().await;
    let browser = Browser::new();
    browser.log_in(&format!("{app}/login")).await;
    // A link to /logout from anywhere: a redirect home, the session untouched.
    let (_, _, page) = browser.visit(&format!("{app}/logout")).await;
    assert!(page.starts_with("user "), "{page}");
    // FusionAuth's logout page loads it in an iframe.
    let response = browser
        .client
        .get(format!("{app}/logout"))
        .header("sec-fetch-dest", "iframe")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let (_, _, page) = browser.visit(&app).await;
    assert_eq!(page, "guest");
}
