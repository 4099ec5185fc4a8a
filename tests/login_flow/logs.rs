//! What reaches the log from the provider: its error texts are the provider's to choose (an
//! `error_description` can hold anything, newlines included), so they are logged cut to 200
//! characters and on one line, and cannot forge a log line of their own.

use reqwest::StatusCode;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::{
    app::assert_error_page,
    logs::{capture, captured, unique_marker},
    setup,
};

/// Where the padding of a description starts; it runs for 5,000 characters.
const PADDING: char = '#';

/// A token endpoint's `400 invalid_grant` whose description starts with `marker`, goes on with
/// a fake log line of its own on a new line, and is 5,000 characters longer than allowed.
fn hostile_refusal(marker: &str) -> ResponseTemplate {
    let description = format!(
        "{marker}\n{}{}",
        fake_line(marker),
        PADDING.to_string().repeat(5000)
    );
    ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": description,
    }))
}

fn fake_line(marker: &str) -> String {
    format!("FAKE LOG LINE level=ERROR {marker} user=admin ")
}

/// The log holds `marker`'s description on one line, cut to 200 characters.
fn assert_logged_cut_and_on_one_line(marker: &str) {
    let log = captured();
    let line = log
        .lines()
        .find(|line| line.contains(marker))
        .unwrap_or_else(|| panic!("{marker} is not in the log"));
    if let Some(forged) = log
        .lines()
        .find(|line| line.starts_with(&fake_line(marker)))
    {
        panic!(
            "the description's newline started a line of its own: {:?}, after {:?}",
            forged.chars().take(80).collect::<String>(),
            line.chars().take(300).collect::<String>()
        );
    }
    let from_marker = &line[line.find(marker).expect("marker")..];
    let description = &from_marker[..=from_marker.rfind(PADDING).expect("some padding")];
    assert!(
        description.contains(&fake_line(marker)),
        "the whole description, on one line: {description}"
    );
    assert!(
        description.chars().count() <= 200,
        "{} characters logged",
        description.chars().count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_error_description_reaches_the_log_cut_and_on_one_line() {
    capture();
    let s = setup().await;
    let marker = unique_marker("code-refused");
    let start = s.app.start_login("/").await;
    s.provider
        .respond_to_token_request(hostile_refusal(&marker));
    let response = s
        .app
        .callback(&[("code", "c"), ("state", &start.state)])
        .await;
    assert_error_page(response, 400, "Login failed").await;
    assert_logged_cut_and_on_one_line(&marker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_is_logged_cut_and_on_one_line() {
    capture();
    let s = setup().await;
    // Tokens that expire at once: the next page refreshes them.
    s.provider.set_token_lifetime(0);
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let marker = unique_marker("refresh-refused");
    s.provider
        .respond_to_token_request(hostile_refusal(&marker));
    let page = s.app.home_page().await;
    assert!(page.contains(r#"data-testid="session-ended""#), "{page}");
    assert_logged_cut_and_on_one_line(&marker);
}
