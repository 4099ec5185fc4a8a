//! What lets the app end sessions FusionAuth has ended: refresh-token rotation on the
//! application, the events on the tenant, the webhook signing key and the webhook. Each is
//! repaired when it drifts, with only the fields that differ, and left alone when it matches.

mod support;

use serde_json::{json, Value};
use setup::defaults;
use support::{fake, State, API_KEY};

const EXIT_CHANGED: i32 = 0;
const EXIT_NOTHING_TO_DO: i32 = 3;

/// A FusionAuth that a first run of setup has configured, to drift from.
async fn configured() -> State {
    let (server, fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    fake.state()
}

fn webhook_mut(state: &mut State) -> &mut Value {
    state
        .webhooks
        .iter_mut()
        .find(|w| w["id"] == defaults::WEBHOOK_ID)
        .expect("the webhook exists")
}

/// The requests with this method whose path starts with `prefix`.
fn sent<'a>(
    requests: &'a [wiremock::Request],
    method: &str,
    prefix: &str,
) -> Vec<&'a wiremock::Request> {
    requests
        .iter()
        .filter(|r| r.method.as_str() == method && r.url.path().starts_with(prefix))
        .collect()
}

#[tokio::test]
async fn reusable_refresh_tokens_are_set_back_to_one_time_use() {
    let mut state = configured().await;
    // Someone picks FusionAuth's defaults in the admin UI: no refresh tokens, no rotation.
    let app = support::application_mut(&mut state);
    app["oauthConfiguration"]["generateRefreshTokens"] = json!(false);
    app["jwtConfiguration"]["refreshTokenUsagePolicy"] = json!("Reusable");
    app["jwtConfiguration"]["refreshTokenExpirationPolicy"] = json!("Fixed");
    app["jwtConfiguration"]["timeToLiveInSeconds"] = json!(3600);
    let (server, fake) = support::start(state).await;

    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    let requests = support::requests(&server).await;
    let patch = support::application_patch(&requests);
    assert_eq!(
        support::json_body(patch),
        json!({"application": {
            "oauthConfiguration": {"generateRefreshTokens": true},
            "jwtConfiguration": {
                "refreshTokenExpirationPolicy": "SlidingWindowWithMaximumLifetime",
                "refreshTokenUsagePolicy": "OneTimeUse",
                "timeToLiveInSeconds": 300
            }
        }})
    );
    assert_eq!(
        support::writes(&server).await.len(),
        1,
        "only the application"
    );
    let app = fake
        .state()
        .applications
        .into_iter()
        .find(|a| a["id"] == defaults::CLIENT_ID)
        .unwrap();
    assert_eq!(
        app["jwtConfiguration"]["refreshTokenUsagePolicy"],
        "OneTimeUse"
    );
}

#[tokio::test]
async fn event_disabled_on_the_tenant_is_enabled_again_and_nothing_else_is_sent() {
    let mut state = configured().await;
    // Without it on the tenant, FusionAuth never sends user.delete to any webhook.
    state.tenants[0]["eventConfiguration"]["events"]["user.delete"]["enabled"] = json!(false);
    state.tenants[0]["jwtConfiguration"]["refreshTokenRevocationPolicy"]["onPasswordChanged"] =
        json!(false);
    let (server, fake) = support::start(state).await;

    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    assert_eq!(
        support::writes(&server).await,
        [format!("PATCH /api/tenant/{}", fake::TENANT_ID)]
    );
    let requests = support::requests(&server).await;
    let patch = sent(&requests, "PATCH", "/api/tenant/")[0];
    assert_eq!(
        support::json_body(patch),
        json!({"tenant": {
            "eventConfiguration": {"events": {"user.delete": {"enabled": true}}},
            "jwtConfiguration": {"refreshTokenRevocationPolicy": {"onPasswordChanged": true}}
        }})
    );
    assert_eq!(
        support::header(patch, "content-type"),
        Some("application/json"),
        "no arrays in it: FusionAuth's plain PATCH merges it exactly"
    );
    let tenant = &fake.state().tenants[0];
    assert_eq!(
        tenant["eventConfiguration"]["events"]["user.delete"],
        json!({"enabled": true, "transactionType": "None"})
    );
    assert!(
        run.stdout.contains(
            "differs in tenant.eventConfiguration.events.user.delete.enabled, \
             tenant.jwtConfiguration.refreshTokenRevocationPolicy.onPasswordChanged"
        ),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn drifted_webhook_is_merge_patched_and_its_tenants_replaced_not_appended() {
    let mut state = configured().await;
    let webhook = webhook_mut(&mut state);
    webhook["eventsEnabled"]["user.delete"] = json!(false);
    webhook["eventsEnabled"]["user.create"] = json!(true);
    webhook["signatureConfiguration"]["enabled"] = json!(false);
    webhook["tenantIds"] = json!(["99999999-9999-9999-9999-999999999999"]);
    webhook["headers"] = json!({"X-Custom": "kept"});
    let (server, fake) = support::start(state).await;

    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    let requests = support::requests(&server).await;
    let patches = sent(&requests, "PATCH", "/api/webhook/");
    assert_eq!(patches.len(), 1);
    assert_eq!(
        support::header(patches[0], "content-type"),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        support::json_body(patches[0]),
        json!({"webhook": {
            "eventsEnabled": {"user.delete": true},
            "signatureConfiguration": {"enabled": true},
            "tenantIds": [fake::TENANT_ID]
        }})
    );
    let state = fake.state();
    let webhook = state.webhook(defaults::WEBHOOK_ID).unwrap();
    assert_eq!(
        webhook["tenantIds"],
        json!([fake::TENANT_ID]),
        "a plain PATCH would have kept the other tenant beside this one"
    );
    assert_eq!(webhook["headers"], json!({"X-Custom": "kept"}));
    assert_eq!(
        webhook["eventsEnabled"]["user.create"], true,
        "events setup does not manage are left alone"
    );
}

#[tokio::test]
async fn existing_webhook_url_is_kept_unless_webhook_url_is_given() {
    // The kickstart made the webhook with the address FusionAuth in Docker reaches the host at.
    let mut state = configured().await;
    let docker_url = "http://host.docker.internal:3000/webhooks/fusionauth";
    webhook_mut(&mut state)["url"] = json!(docker_url);
    let (server, fake) = support::start(state.clone()).await;

    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_NOTHING_TO_DO, "{run:?}");
    assert_eq!(support::writes(&server).await, Vec::<String>::new());
    assert!(
        run.stdout.contains(&format!(
            "[skipped] webhook url: is {docker_url}, not http://localhost:3000/webhooks/fusionauth: kept"
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("pass --webhook-url"), "{}", run.stdout);
    assert_eq!(
        fake.state().webhook(defaults::WEBHOOK_ID).unwrap()["url"],
        docker_url
    );

    // Asked explicitly, it changes, and nothing else does.
    let (server, fake) = support::start(state).await;
    let nginx_url = "http://nginx:3000/webhooks/fusionauth";
    let run = support::run_against(&server, &["--webhook-url", nginx_url]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    let requests = support::requests(&server).await;
    let patches = sent(&requests, "PATCH", "/api/webhook/");
    assert_eq!(
        support::json_body(patches[0]),
        json!({"webhook": {"url": nginx_url}})
    );
    assert_eq!(support::writes(&server).await.len(), 1);
    assert_eq!(
        fake.state().webhook(defaults::WEBHOOK_ID).unwrap()["url"],
        nginx_url
    );
}

#[tokio::test]
async fn new_webhook_is_created_at_the_url_from_the_environment() {
    let (server, fake) = support::start(State::pristine(API_KEY)).await;
    let url = server.uri();
    let hook = "http://nginx:3000/webhooks/fusionauth";
    let run = support::run_setup(
        &[
            ("FUSIONAUTH_API_KEY", API_KEY),
            ("FUSIONAUTH_WEBHOOK_URL", hook),
        ],
        &["--url", &url],
    )
    .await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    assert_eq!(
        fake.state().webhook(defaults::WEBHOOK_ID).unwrap()["url"],
        hook
    );
    assert!(
        run.stdout.contains(&format!("create it, calling {hook}")),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn existing_webhook_key_is_kept_and_a_new_secret_is_not_imported_over_it() {
    let state = configured().await;
    let (server, fake) = support::start(state).await;
    let url = server.uri();
    let other_secret = "another-secret-of-at-least-thirty-two-characters";
    let run = support::run_setup(
        &[
            ("FUSIONAUTH_API_KEY", API_KEY),
            ("WEBHOOK_SIGNING_SECRET", other_secret),
        ],
        &["--url", &url],
    )
    .await;
    // FusionAuth never returns the secret, so there is nothing to compare: no write at all.
    assert_eq!(run.code, EXIT_NOTHING_TO_DO, "{run:?}");
    assert_eq!(support::writes(&server).await, Vec::<String>::new());
    assert!(
        run.stdout
            .contains("FusionAuth does not reveal its secret, so it is not compared"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("new --webhook-key-id"),
        "{}",
        run.stdout
    );
    assert_eq!(
        fake.state().secret_of(defaults::WEBHOOK_SIGNING_KEY_ID),
        Some(defaults::WEBHOOK_SIGNING_SECRET)
    );
    assert!(!run.stdout.contains(other_secret) && !run.stderr.contains(other_secret));
}

#[tokio::test]
async fn new_webhook_key_id_imports_the_new_secret_and_points_the_webhook_at_it() {
    let state = configured().await;
    let (server, fake) = support::start(state).await;
    let url = server.uri();
    let new_key = "c0ffee00-0000-4000-8000-000000000001";
    let new_secret = "rotated-secret-of-at-least-thirty-two-characters";
    let run = support::run_setup(
        &[
            ("FUSIONAUTH_API_KEY", API_KEY),
            ("WEBHOOK_SIGNING_SECRET", new_secret),
        ],
        &["--url", &url, "--webhook-key-id", new_key],
    )
    .await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    assert_eq!(
        support::writes(&server).await,
        [
            format!("POST /api/key/import/{new_key}"),
            format!("PATCH /api/webhook/{}", defaults::WEBHOOK_ID),
        ]
    );
    let requests = support::requests(&server).await;
    let patch = sent(&requests, "PATCH", "/api/webhook/")[0];
    assert_eq!(
        support::json_body(patch),
        json!({"webhook": {"signatureConfiguration": {"signingKeyId": new_key}}})
    );
    assert_eq!(fake.state().secret_of(new_key), Some(new_secret));
    assert!(!run.stdout.contains(new_secret) && !run.stderr.contains(new_secret));
}

#[tokio::test]
async fn dry_run_on_drifted_webhook_writes_nothing() {
    let mut state = configured().await;
    webhook_mut(&mut state)["eventsEnabled"]["jwt.refresh-token.revoke"] = json!(false);
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &["--dry-run"]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    assert_eq!(support::writes(&server).await, Vec::<String>::new());
    assert!(
        run.stdout.contains(
            "differs in webhook.eventsEnabled.jwt.refresh-token.revoke; would update those fields"
        ),
        "{}",
        run.stdout
    );
}
