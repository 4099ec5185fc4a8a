//! The example, run as cargo-leptos runs it, logs in through the stand-in provider: the
//! server-rendered page with its island, the login, the greeting, the same-origin guard and
//! logout.

use testkit::standin::{free_port, App, Browser, Standin, DEMO_EMAIL};

#[tokio::test]
async fn a_guest_logs_in_is_greeted_with_the_island_and_logs_out() {
    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");
    let standin = Standin::start(&app).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // What cargo-leptos passes to the server it runs.
    let leptos = [
        ("LEPTOS_OUTPUT_NAME", "leptos-minimal".to_owned()),
        ("LEPTOS_SITE_ROOT", dir.path().display().to_string()),
        ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
    ];
    let binary = env!("CARGO_BIN_EXE_leptos-minimal");
    let _example = App::start(binary, &standin, &app, dir.path(), &leptos).await;

    let browser = Browser::new();
    let (_, status, page) = browser.visit(&app).await;
    assert_eq!(status, 200);
    assert!(page.contains("Hello Guest"), "{page}");
    assert!(
        page.contains("leptos-minimal.js"),
        "the hydration script: {page}"
    );

    let (landed, status, page) = browser.log_in(&format!("{app}/login")).await;
    assert_eq!((landed.path(), status.as_u16()), ("/", 200), "{page}");
    assert!(
        page.contains(&format!("You are logged in as {DEMO_EMAIL}")),
        "{page}"
    );
    assert!(page.contains("<leptos-island"), "the island: {page}");

    // Another site's form can neither log the user out nor call the server functions.
    for path in ["/logout", "/auth/me"] {
        let refused = browser
            .client
            .post(format!("{app}{path}"))
            .header("origin", "https://evil.example")
            .send()
            .await
            .expect("request");
        assert_eq!(refused.status(), 403, "{path}");
    }

    let response = browser.post_from_page(&format!("{app}/logout")).await;
    assert_eq!(response.status(), 303);
    let (_, _, page) = browser.visit(&app).await;
    assert!(page.contains("Hello Guest"), "{page}");
}
