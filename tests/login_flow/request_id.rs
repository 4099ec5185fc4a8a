//! Every request has an id: its own `X-Request-Id` when that is sane, else a new UUID. The
//! response returns it, every line the request logs carries it, and one access line per
//! request names its route template (never its path and query), status and duration.

use reqwest::{header::HeaderName, Response, StatusCode};
use serde_json::Value;

use crate::support::{
    app::{browser, header_text, TestApp},
    logs::{capture, captured_as, json_lines_of, text_lines_of, unique_marker},
    setup,
};
use fusionauth_leptos::server::logging::LogFormat;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

async fn get_with_id(app: &TestApp, path: &str, id: &str) -> Response {
    browser()
        .get(app.url(path))
        .header(X_REQUEST_ID, id)
        .send()
        .await
        .expect("request")
}

fn returned_id(response: &Response) -> String {
    header_text(response, X_REQUEST_ID).expect("an X-Request-Id in the response")
}

/// A new UUID v4, as text.
fn assert_generated(id: &str) {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = id.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
    assert!(
        lengths == [8, 4, 4, 4, 12] && hex && groups[2].starts_with('4'),
        "a new UUID v4, got {id:?}"
    );
}

/// The one access line of request `id`, in each format: the text line and the JSON object.
fn access_lines(id: &str) -> (String, Value) {
    let text: Vec<String> = text_lines_of(id)
        .into_iter()
        .filter(|line| line.contains(" access: "))
        .collect();
    assert_eq!(text.len(), 1, "one text access line for {id}: {text:#?}");
    let json: Vec<Value> = json_lines_of(id)
        .into_iter()
        .filter(|line| line["target"] == "access")
        .collect();
    assert_eq!(json.len(), 1, "one JSON access line for {id}: {json:#?}");
    (text[0].clone(), json[0].clone())
}

/// The access line of request `id` names `route` and `status`, and has a duration.
fn assert_access_line(id: &str, method: &str, route: &str, status: u16) {
    let (text, json) = access_lines(id);
    for field in [
        format!("method={method}"),
        format!("route={route}"),
        format!("status={status}"),
    ] {
        assert!(
            text.split(' ').any(|word| word == field),
            "{field} in {text}"
        );
    }
    assert!(text.contains(" duration_ms="), "{text}");
    assert_eq!(json["level"], "INFO", "{json}");
    assert_eq!(json["method"], method, "{json}");
    assert_eq!(json["route"], route, "{json}");
    assert_eq!(json["status"], status, "{json}");
    assert!(
        json["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{json}"
    );
    assert_eq!(json["span"]["request_id"], id, "{json}");
}

/// Neither log holds `text`.
fn assert_not_logged(text: &str) {
    for format in [LogFormat::Text, LogFormat::Json] {
        assert!(
            !captured_as(format).contains(text),
            "{format:?} log holds {text:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sane_request_id_comes_back_and_marks_every_line_of_its_request() {
    capture();
    let s = setup().await;
    let start = s.app.start_login("/").await;
    // The provider refuses the code with a description the app logs, during the callback.
    let marker = unique_marker("refused-code");
    s.provider
        .respond_to_token_request(wiremock::ResponseTemplate::new(400).set_body_json(
            serde_json::json!({
                "error": "invalid_grant",
                "error_description": marker,
            }),
        ));
    let id = unique_marker("client.id:1");
    let response = s
        .app
        .browser
        .get(s.app.url("/callback"))
        .query(&[("code", "c"), ("state", &start.state)])
        .header(X_REQUEST_ID, &id)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(returned_id(&response), id);
    let lines = text_lines_of(&id);
    assert!(
        lines.iter().any(|line| line.contains(&marker)),
        "the app's own line carries the request id (text): {lines:#?}"
    );
    assert!(
        json_lines_of(&id)
            .iter()
            .any(|line| line.to_string().contains(&marker)),
        "the app's own line carries the request id (JSON)"
    );
    assert_access_line(&id, "GET", "/callback", 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_of_64_characters_is_kept() {
    capture();
    let s = setup().await;
    let id = format!("{:-<64}", unique_marker("long"));
    let response = get_with_id(&s.app, "/healthz", &id).await;
    assert_eq!(returned_id(&response), id);
    assert_access_line(&id, "GET", "/healthz", 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_request_id_is_replaced_and_never_logged() {
    capture();
    let s = setup().await;
    let marker = unique_marker("hostile");
    for hostile in [
        format!("{marker}{}", "A".repeat(8192)),
        format!("{marker}\" injected=1 {{}}"),
        format!("{marker:-<65}"),
    ] {
        let response = get_with_id(&s.app, "/healthz", &hostile).await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = returned_id(&response);
        assert_generated(&id);
        assert_access_line(&id, "GET", "/healthz", 200);
    }
    assert_not_logged(&marker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_request_id_a_new_one_comes_back_and_marks_its_access_line() {
    capture();
    let s = setup().await;
    let response = s.app.get("/healthz").await;
    let id = returned_id(&response);
    assert_generated(&id);
    assert_access_line(&id, "GET", "/healthz", 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_path_is_logged_by_a_label_without_its_path_or_query() {
    capture();
    let s = setup().await;
    let marker = unique_marker("unmatched");
    let response = s
        .app
        .get(&format!("/{marker}/page?token={marker}-token"))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let id = returned_id(&response);
    assert_access_line(&id, "GET", "unmatched", 404);
    assert_not_logged(&format!("{marker}-token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_file_is_logged_as_static() {
    capture();
    let s = setup().await;
    let response = s.app.get("/favicon.svg").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_access_line(&returned_id(&response), "GET", "static", 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cached_guest_page_gets_a_request_id_and_an_access_line() {
    capture();
    let s = setup().await;
    // The first guest `/` fills the cache, the second is answered from it.
    for _ in 0..2 {
        let response = s.app.get("/").await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = returned_id(&response);
        assert_generated(&id);
        assert_access_line(&id, "GET", "/", 200);
    }
}
