//! The example, built and run as a user would run it, logs in through the stand-in provider:
//! guest page, the guard's detour through the login, the greeting, logout, and the
//! same-origin guard on the Logout button.

use std::process::{Child, Command};

use testkit::standin::{
    free_port, wait_until_ok, Browser, Standin, CLIENT_ID, CLIENT_SECRET, DEMO_EMAIL,
};

/// The example's process, stopped when dropped.
struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_guest_logs_in_is_greeted_and_logs_out() {
    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");
    let standin = Standin::start(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let _example = Example(
        Command::new(env!("CARGO_BIN_EXE_axum-minimal"))
            .env("ISSUER", &standin.issuer)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("APP_URL", &app)
            .env(
                "APP_SECRET_KEY",
                "a-test-secret-that-is-at-least-32-bytes-long",
            )
            .env("SESSION_DB", dir.path().join("sessions.db"))
            .spawn()
            .expect("the example starts"),
    );
    wait_until_ok(&app, std::time::Duration::from_secs(30)).await;

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
