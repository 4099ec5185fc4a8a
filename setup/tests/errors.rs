//! Each failure gives a one-line message that names the fix, and exit status 1.

mod support;

use serde_json::json;
use support::{State, API_KEY};

const EXIT_FAILED: i32 = 1;

fn assert_one_line_error(run: &support::Run, needles: &[&str]) {
    assert_eq!(run.code, EXIT_FAILED, "{run:?}");
    let line = run.stderr.trim_end();
    assert!(
        line.starts_with("error: ") && !line.contains('\n'),
        "not one line: {line:?}"
    );
    for n in needles {
        assert!(line.contains(n), "missing {n:?} in {line:?}");
    }
}

#[tokio::test]
async fn unreachable_fusionauth_names_the_url_and_how_to_start_it() {
    // A port nothing listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = support::run_setup(&[("FUSIONAUTH_API_KEY", API_KEY)], &["--url", &url]).await;
    assert_one_line_error(&run, &[&url, "unreachable", "docker compose up -d --wait"]);
}

#[tokio::test]
async fn bad_api_key_is_a_401_that_says_where_to_create_one() {
    let (server, _fake) = support::start(State::pristine("the-real-key")).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(&run, &["401", "API key", "Settings > API Keys"]);
    assert!(!run.stderr.contains(API_KEY), "the key must not be printed");
}

#[tokio::test]
async fn missing_api_key_names_both_variables() {
    let run = support::run_setup(&[], &["--url", "http://127.0.0.1:9"]).await;
    assert_one_line_error(
        &run,
        &[
            "FUSIONAUTH_API_KEY",
            "fusionauth_api_key",
            "Settings > API Keys",
        ],
    );
}

#[tokio::test]
async fn bad_request_prints_fusionauths_field_and_general_errors() {
    let mut state = State::pristine(API_KEY);
    state.reject_application = Some(json!({
        "fieldErrors": {"application.oauthConfiguration.authorizedRedirectURLs": [
            {"code": "[invalid]application.oauthConfiguration.authorizedRedirectURLs", "message": "Invalid URL"}
        ]},
        "generalErrors": [{"code": "[LicenseRequired]", "message": "A license is required"}]
    }));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(
        &run,
        &[
            "400",
            "POST /api/application/",
            "application.oauthConfiguration.authorizedRedirectURLs: Invalid URL [[invalid]application.oauthConfiguration.authorizedRedirectURLs]",
            "A license is required [[LicenseRequired]]",
        ],
    );
}

#[tokio::test]
async fn empty_500_body_is_not_parsed_as_json() {
    let mut state = State::pristine(API_KEY);
    state.fail_all = Some(500);
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(
        &run,
        &["GET /api/tenant", "500", "docker compose logs fusionauth"],
    );
    assert!(!run.stderr.contains("EOF"), "{}", run.stderr);
}

#[tokio::test]
async fn several_tenants_without_tenant_flag_lists_them() {
    let mut state = State::pristine(API_KEY);
    state
        .tenants
        .push(json!({"id": "99999999-9999-9999-9999-999999999999", "name": "Other"}));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(
        &run,
        &["2 tenants", "--tenant", "Default (", "Other (99999999-"],
    );
    assert_eq!(support::writes(&server).await, Vec::<String>::new());
}

#[tokio::test]
async fn unknown_tenant_flag_lists_the_tenants() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &["--tenant", "Nope"]).await;
    assert_one_line_error(&run, &["\"Nope\"", "Default ("]);
}

#[tokio::test]
async fn no_user_with_the_given_email() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &["--user", "gilfoyle@example.com"]).await;
    assert_one_line_error(&run, &["gilfoyle@example.com", "Users > Add"]);
}

#[tokio::test]
async fn no_users_at_all() {
    let mut state = State::pristine(API_KEY);
    state.users.clear();
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(&run, &["no users", "Users > Add"]);
}

#[tokio::test]
async fn several_users_without_user_flag_lists_them() {
    let mut state = State::pristine(API_KEY);
    state
        .users
        .push(json!({"id": "22222222-2222-2222-2222-222222222222", "email": "admin@example.com"}));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(
        &run,
        &[
            "2 users",
            "--user",
            "richard@example.com",
            "admin@example.com",
        ],
    );
}

#[tokio::test]
async fn existing_key_with_another_algorithm_is_reported_not_replaced() {
    let mut state = State::pristine(API_KEY);
    state
        .keys
        .push(json!({"id": setup::defaults::SIGNING_KEY_ID, "algorithm": "HS256", "name": "old"}));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(&run, &["HS256", "--key-id", "Key Master"]);
}

#[tokio::test]
async fn client_id_that_is_not_a_uuid_is_refused_before_any_request() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let url = server.uri();
    let run = support::run_setup(
        &[("FUSIONAUTH_API_KEY", API_KEY), ("CLIENT_ID", "../user")],
        &["--url", &url],
    )
    .await;
    assert_one_line_error(&run, &["CLIENT_ID", "UUID"]);
    assert!(support::calls(&server).await.is_empty());
}

#[test]
fn client_debug_output_redacts_the_api_key() {
    let client =
        setup::client::FusionAuthClient::new("http://localhost:9011", API_KEY.into()).unwrap();
    let shown = format!("{client:?}");
    assert!(
        !shown.contains(API_KEY) && shown.contains("redacted"),
        "{shown}"
    );
}

#[tokio::test]
async fn existing_key_at_the_webhook_key_id_that_is_not_hmac_is_reported_not_replaced() {
    let mut state = State::pristine(API_KEY);
    state.keys.push(json!({
        "id": setup::defaults::WEBHOOK_SIGNING_KEY_ID, "algorithm": "RS256", "type": "RSA", "name": "someone's"
    }));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(&run, &["RSA RS256", "--webhook-key-id", "Key Master"]);
    let writes = support::writes(&server).await;
    assert!(
        !writes
            .iter()
            .any(|w| w.contains("/api/key/import/") || w.contains("/api/webhook/")),
        "{writes:?}"
    );
}

#[tokio::test]
async fn webhook_key_name_taken_by_another_key_prints_fusionauths_error() {
    let mut state = State::pristine(API_KEY);
    state.keys.push(json!({
        "id": "44444444-4444-4444-4444-444444444444", "algorithm": "HS256", "type": "HMAC",
        "name": format!(
            "{} {}",
            setup::desired::WEBHOOK_KEY_NAME_PREFIX,
            setup::defaults::WEBHOOK_SIGNING_KEY_ID
        )
    }));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(
        &run,
        &[
            "400",
            "POST /api/key/import/",
            "key.name: A key with this name already exists [[duplicate]key.name]",
        ],
    );
    assert!(!run.stderr.contains(setup::defaults::WEBHOOK_SIGNING_SECRET));
}

#[tokio::test]
async fn refused_webhook_prints_fusionauths_field_errors() {
    let mut state = State::pristine(API_KEY);
    state.reject_webhook = Some(json!({
        "fieldErrors": {"webhook.url": [{"code": "[invalid]webhook.url", "message": "Invalid URL"}]}
    }));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_one_line_error(
        &run,
        &[
            "400",
            &format!("POST /api/webhook/{}", setup::defaults::WEBHOOK_ID),
            "webhook.url: Invalid URL [[invalid]webhook.url]",
        ],
    );
}

#[tokio::test]
async fn short_webhook_secret_is_refused_before_any_request_and_not_printed() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let url = server.uri();
    let short = "only-31-characters-long-secret!";
    assert_eq!(short.len(), 31);
    let run = support::run_setup(
        &[
            ("FUSIONAUTH_API_KEY", API_KEY),
            ("WEBHOOK_SIGNING_SECRET", short),
        ],
        &["--url", &url],
    )
    .await;
    assert_one_line_error(
        &run,
        &["WEBHOOK_SIGNING_SECRET", "32 to 256", "openssl rand"],
    );
    assert!(!run.stderr.contains(short) && !run.stdout.contains(short));
    assert!(support::calls(&server).await.is_empty());
}

#[tokio::test]
async fn webhook_url_that_is_not_absolute_http_is_refused_before_any_request() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &["--webhook-url", "/webhooks/fusionauth"]).await;
    assert_one_line_error(
        &run,
        &[
            "--webhook-url",
            "FUSIONAUTH_WEBHOOK_URL",
            "\"/webhooks/fusionauth\"",
        ],
    );
    assert!(support::calls(&server).await.is_empty());
}

#[tokio::test]
async fn webhook_key_id_that_is_not_a_uuid_is_refused_before_any_request() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &["--webhook-key-id", "../../api/user"]).await;
    assert_one_line_error(&run, &["--webhook-key-id", "UUID"]);
    assert!(support::calls(&server).await.is_empty());
}
