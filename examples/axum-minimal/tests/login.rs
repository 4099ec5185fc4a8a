//! The example, built and run as a user would run it, logs in through the stand-in provider:
//! guest page, the guard's detour through the login, the greeting, logout, and the
//! same-origin guard on the Logout button.

use testkit::standin::{free_port, App, Browser, Standin, DEMO_EMAIL};

#[tokio::test]
async fn a_guest_logs_in_is_greeted_and_logs_out() {
    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");
    let standin = Standin::start(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let binary = env!("CARGO_BIN_EXE_axum-minimal");
    let _example = App::start(binary, &standin, &app, dir.path(), &[]).await;

    let browser = Browser::new();
    let (_, status, page) = browser.visit(&app).await;
    assert_eq!(status, 200);
    assert!(page.contains("Hello Guest"), "{page}");

    // The guard sends the guest through the login and back to the page asked for.
    let (landed, status, page) = browser.log_in(&format!("{app}/profile")).await;
    assert_eq!(
        (landed.path(), status.as_u16()),
        ("/profile", 200),
        "{page}"
    );
    assert!(
        page.contains("Your id is 00000000-0000-0000-0000-111111111111"),
        "{page}"
    );
    let (_, _, page) = browser.visit(&app).await;
    assert!(
        page.contains(&format!("You are logged in as {DEMO_EMAIL}")),
        "{page}"
    );

    // Another site's form cannot log the user out.
    let refused = browser
        .client
        .post(format!("{app}/logout"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 403);
    let (_, _, page) = browser.visit(&app).await;
    assert!(page.contains("You are logged in as"), "{page}");

    // The Logout button: to the provider's logout, and a guest again.
    let response = browser.post_from_page(&format!("{app}/logout")).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with(&format!("{}/oauth2/logout?", standin.issuer)),
        "{location}"
    );
    let (_, _, page) = browser.visit(&app).await;
    assert!(page.contains("Hello Guest"), "{page}");
}
