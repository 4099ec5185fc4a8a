//! The setup tool against a stand-in FusionAuth: the calls a first run makes, idempotence,
//! dry runs and drift repair.

mod support;

use serde_json::json;
use setup::{defaults, desired::Desired};
use support::{fake, State, API_KEY};

const EXIT_CHANGED: i32 = 0;
const EXIT_NOTHING_TO_DO: i32 = 3;

/// The tutorial's application as the fake FusionAuth holds it.
fn tutorial_application(state: &State) -> serde_json::Value {
    state
        .applications
        .iter()
        .find(|a| a["id"] == defaults::CLIENT_ID)
        .cloned()
        .expect("the tutorial's application exists")
}

#[tokio::test]
async fn first_run_on_pristine_instance_makes_exactly_the_expected_calls() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");

    let app = defaults::CLIENT_ID;
    let key = defaults::SIGNING_KEY_ID;
    let hmac = defaults::WEBHOOK_SIGNING_KEY_ID;
    let hook = defaults::WEBHOOK_ID;
    let (tenant, user) = (fake::TENANT_ID, fake::USER_ID);
    assert_eq!(
        support::calls(&server).await,
        [
            "GET /api/tenant".to_owned(),
            format!("PATCH /api/tenant/{tenant}"),
            format!("GET /api/key/{key}"),
            format!("POST /api/key/generate/{key}"),
            format!("GET /api/key/{hmac}"),
            format!("POST /api/key/import/{hmac}"),
            format!("GET /api/application/{app}"),
            format!("POST /api/application/{app}"),
            format!("GET /api/webhook/{hook}"),
            format!("POST /api/webhook/{hook}"),
            "POST /api/user/search".to_owned(),
            format!("PATCH /api/user/{user}"),
            format!("GET /api/user/registration/{user}/{app}"),
            format!("POST /api/user/registration/{user}"),
        ]
    );

    let desired = Desired::development();
    let requests = support::requests(&server).await;
    let bodies: Vec<_> = requests
        .iter()
        .filter(|r| !r.body.is_empty())
        .map(support::json_body)
        .collect();
    assert_eq!(
        bodies,
        [
            // Only what differs from the pristine tenant: its issuer, the three events (already
            // `transactionType: None` there) and reuse detection (the other two revocation
            // triggers are on by default).
            json!({"tenant": {
                "issuer": "http://localhost:9011",
                "eventConfiguration": {"events": {
                    "jwt.refresh-token.revoke": {"enabled": true},
                    "user.deactivate": {"enabled": true},
                    "user.delete": {"enabled": true}
                }},
                "jwtConfiguration": {"refreshTokenRevocationPolicy": {"onOneTimeTokenReuse": true}}
            }}),
            json!({"key": {"algorithm": "RS256", "name": "For LeptosExampleApp", "length": 2048}}),
            json!({"key": {
                "algorithm": "HS256", "name": format!("Webhook signatures for LeptosExampleApp {hmac}"),
                "secret": defaults::WEBHOOK_SIGNING_SECRET, "type": "HMAC"
            }}),
            desired.application_request(),
            json!({"webhook": {
                "connectTimeout": 1000,
                "description": "LeptosExampleApp: ends sessions whose refresh token is revoked or whose user is deactivated or deleted",
                "eventsEnabled": {"jwt.refresh-token.revoke": true, "user.deactivate": true, "user.delete": true},
                "global": false,
                "readTimeout": 3000,
                "signatureConfiguration": {"enabled": true, "signingKeyId": hmac},
                "tenantIds": [tenant],
                "url": "http://localhost:3000/webhooks/fusionauth"
            }}),
            json!({"search": {"queryString": "*", "numberOfResults": 10}}),
            json!({"user": {"fullName": "Richard Hendricks"}}),
            json!({"registration": {"applicationId": app}}),
        ]
    );
    let application = &bodies[3]["application"];
    assert_eq!(
        application["oauthConfiguration"]["logoutBehavior"], "AllApplications",
        "the logout behaviour is named, not left to FusionAuth's default"
    );
    assert_eq!(
        application["oauthConfiguration"]["generateRefreshTokens"], true,
        "FusionAuth issues no refresh token without it"
    );
    assert_eq!(
        application["oauthConfiguration"]["enabledGrants"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        application["jwtConfiguration"],
        json!({
            "enabled": true,
            "accessTokenKeyId": key,
            "idTokenKeyId": key,
            "refreshTokenExpirationPolicy": "SlidingWindowWithMaximumLifetime",
            "refreshTokenSlidingWindowConfiguration": {"maximumTimeToLiveInMinutes": 480},
            "refreshTokenTimeToLiveInMinutes": 120,
            "refreshTokenUsagePolicy": "OneTimeUse",
            "timeToLiveInSeconds": 300
        })
    );

    for (i, r) in requests.iter().enumerate() {
        // The raw key, as FusionAuth documents it: no "Bearer".
        assert_eq!(
            support::header(r, "authorization"),
            Some(API_KEY),
            "request {i}"
        );
        let expected_tenant = (i > 0).then_some(tenant);
        assert_eq!(
            support::header(r, "x-fusionauth-tenantid"),
            expected_tenant,
            "request {i}"
        );
        if !r.body.is_empty() {
            assert_eq!(
                support::header(r, "content-type"),
                Some("application/json"),
                "request {i}"
            );
        }
    }
    assert!(
        run.stdout.contains("Done: 7 change(s) made."),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(defaults::WEBHOOK_SIGNING_SECRET),
        "the webhook secret must not be printed: {}",
        run.stdout
    );
}

#[tokio::test]
async fn second_run_writes_nothing_and_says_so() {
    let (server, fake) = support::start(State::pristine(API_KEY)).await;
    let first = support::run_against(&server, &[]).await;
    assert_eq!(first.code, EXIT_CHANGED, "{first:?}");
    let after_first = support::writes(&server).await.len();

    let second = support::run_against(&server, &[]).await;
    assert_eq!(second.code, EXIT_NOTHING_TO_DO, "{second:?}");
    assert_eq!(
        support::writes(&server).await.len(),
        after_first,
        "second run wrote"
    );
    assert!(second.stdout.contains("Nothing to do"), "{}", second.stdout);
    assert!(!second.stdout.contains("[changed]"), "{}", second.stdout);
    assert!(!second.stdout.contains("[skipped]"), "{}", second.stdout);

    // And the instance ended up as the app needs it.
    let state = fake.state();
    let tenant = &state.tenants[0];
    assert_eq!(tenant["issuer"], defaults::ISSUER);
    for event in ["jwt.refresh-token.revoke", "user.deactivate", "user.delete"] {
        assert_eq!(
            tenant["eventConfiguration"]["events"][event],
            json!({"enabled": true, "transactionType": "None"}),
            "{event} must be enabled on the tenant, or FusionAuth never sends it"
        );
    }
    assert_eq!(
        tenant["eventConfiguration"]["events"]["user.create"]["enabled"], false,
        "events the app does not use stay as they were"
    );
    assert_eq!(
        tenant["jwtConfiguration"]["refreshTokenRevocationPolicy"],
        json!({"onLoginPrevented": true, "onMultiFactorEnable": false, "onOneTimeTokenReuse": true, "onPasswordChanged": true})
    );
    let app = tutorial_application(&state);
    assert_eq!(
        app["oauthConfiguration"]["authorizedRedirectURLs"],
        json!([
            "http://localhost:3000/callback",
            "http://localhost:3000/logout"
        ])
    );
    assert_eq!(
        app["jwtConfiguration"]["idTokenKeyId"],
        defaults::SIGNING_KEY_ID
    );
    assert_eq!(
        app["oauthConfiguration"]["logoutBehavior"],
        "AllApplications"
    );
    assert_eq!(app["oauthConfiguration"]["generateRefreshTokens"], true);
    assert_eq!(
        app["jwtConfiguration"]["refreshTokenUsagePolicy"],
        "OneTimeUse"
    );
    let webhook = state
        .webhook(defaults::WEBHOOK_ID)
        .expect("the webhook exists");
    assert_eq!(webhook["url"], "http://localhost:3000/webhooks/fusionauth");
    assert_eq!(
        webhook["signatureConfiguration"]["signingKeyId"],
        defaults::WEBHOOK_SIGNING_KEY_ID
    );
    assert_eq!(
        state.secret_of(defaults::WEBHOOK_SIGNING_KEY_ID),
        Some(defaults::WEBHOOK_SIGNING_SECRET),
        "FusionAuth signs with the secret the app verifies with"
    );
}

#[tokio::test]
async fn dry_run_prints_the_plan_and_writes_nothing() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let run = support::run_against(&server, &["--dry-run"]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    assert_eq!(support::writes(&server).await, Vec::<String>::new());
    for planned in [
        "(issuer is \"acme.com\", wanted http://localhost:9011); would update those fields",
        "would generate it",
        "would import the webhook signing secret",
        "would create it",
        "would create it, calling http://localhost:3000/webhooks/fusionauth",
        "would set it to \"Richard Hendricks\"",
        "would register them",
    ] {
        assert!(
            run.stdout.contains(planned),
            "missing {planned:?} in\n{}",
            run.stdout
        );
    }
    assert!(run
        .stdout
        .contains("Dry run: 7 change(s) would be made; nothing was written."));
    assert!(!run.stdout.contains(defaults::WEBHOOK_SIGNING_SECRET));
}

#[tokio::test]
async fn dry_run_on_configured_instance_reports_nothing_to_do() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    support::run_against(&server, &[]).await;
    let before = support::writes(&server).await.len();
    let run = support::run_against(&server, &["--dry-run"]).await;
    assert_eq!(run.code, EXIT_NOTHING_TO_DO, "{run:?}");
    assert_eq!(support::writes(&server).await.len(), before);
}

#[tokio::test]
async fn drifted_application_is_merge_patched_and_its_arrays_replaced_not_appended() {
    // The application as this tool would make it, but for the Flask tutorial's URLs, plus a
    // field setup does not manage.
    let mut app = Desired::development().application_request()["application"].clone();
    app["id"] = json!(defaults::CLIENT_ID);
    app["tenantId"] = json!(fake::TENANT_ID);
    app["roles"] = json!([{"name": "admin"}]);
    app["oauthConfiguration"]["authorizedRedirectURLs"] =
        json!(["http://localhost:5000/callback/"]);
    app["oauthConfiguration"]["logoutURL"] = json!("http://localhost:5000/logout");
    let mut state = State::pristine(API_KEY);
    state.applications.push(app);
    let (server, fake) = support::start(state).await;
    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");

    let requests = support::requests(&server).await;
    let patch = support::application_patch(&requests);
    assert_eq!(
        support::header(patch, "content-type"),
        Some("application/merge-patch+json")
    );
    // Only the fields that differ.
    assert_eq!(
        support::json_body(patch),
        json!({"application": {"oauthConfiguration": {
            "authorizedRedirectURLs": ["http://localhost:3000/callback", "http://localhost:3000/logout"],
            "logoutURL": "http://localhost:3000/logout"
        }}})
    );
    assert!(run.stdout.contains("differs in application.oauthConfiguration.authorizedRedirectURLs, application.oauthConfiguration.logoutURL"), "{}", run.stdout);

    let app = tutorial_application(&fake.state());
    assert_eq!(
        app["oauthConfiguration"]["authorizedRedirectURLs"],
        json!([
            "http://localhost:3000/callback",
            "http://localhost:3000/logout"
        ]),
        "the old redirect URL must be gone, not kept beside the new ones"
    );
    assert_eq!(
        app["roles"],
        json!([{"name": "admin"}]),
        "fields setup does not manage are kept"
    );
}

#[tokio::test]
async fn redirect_only_logout_behavior_is_set_back_to_all_applications() {
    let (server, fake) = support::start(State::pristine(API_KEY)).await;
    support::run_against(&server, &[]).await;
    // Someone picks "Redirect only" in the admin UI: FusionAuth's logout page would no longer
    // call the app's logoutURL.
    let mut state = fake.state();
    let app = support::application_mut(&mut state);
    app["oauthConfiguration"]["logoutBehavior"] = json!("RedirectOnly");
    let (server, fake) = support::start(state).await;

    let run = support::run_against(&server, &[]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    let requests = support::requests(&server).await;
    let patch = support::application_patch(&requests);
    assert_eq!(
        support::json_body(patch),
        json!({"application": {"oauthConfiguration": {"logoutBehavior": "AllApplications"}}})
    );
    assert!(
        run.stdout
            .contains("differs in application.oauthConfiguration.logoutBehavior"),
        "{}",
        run.stdout
    );
    assert_eq!(
        tutorial_application(&fake.state())["oauthConfiguration"]["logoutBehavior"],
        "AllApplications"
    );
}

#[tokio::test]
async fn changed_client_secret_is_updated_without_printing_it() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    support::run_against(&server, &[]).await;
    let secret = "a-new-production-secret-value";
    let url = server.uri();
    let run = support::run_setup(
        &[("FUSIONAUTH_API_KEY", API_KEY), ("CLIENT_SECRET", secret)],
        &["--url", &url],
    )
    .await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    assert!(run
        .stdout
        .contains("application.oauthConfiguration.clientSecret"));
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    assert!(!run.stdout.contains(API_KEY) && !run.stderr.contains(API_KEY));
}

#[tokio::test]
async fn user_named_with_user_flag_is_found_by_exact_email() {
    let mut state = State::pristine(API_KEY);
    state.users.push(json!({"id": "22222222-2222-2222-2222-222222222222", "email": "admin@example.com", "fullName": "Admin User"}));
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &["--user", "richard@example.com"]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    let calls = support::calls(&server).await;
    assert!(
        calls.contains(&"GET /api/user?email=richard%40example.com".to_owned()),
        "{calls:?}"
    );
    assert!(!calls.contains(&"POST /api/user/search".to_owned()));
    assert!(calls.contains(&format!("POST /api/user/registration/{}", fake::USER_ID)));
}

#[tokio::test]
async fn tenant_flag_picks_one_of_several_tenants_and_scopes_requests_to_it() {
    let mut state = State::pristine(API_KEY);
    state.tenants.push(
        json!({"id": "99999999-9999-9999-9999-999999999999", "name": "Other", "issuer": "other"}),
    );
    let (server, _fake) = support::start(state).await;
    let run = support::run_against(&server, &["--tenant", "Default"]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
    let requests = support::requests(&server).await;
    assert!(requests[1..]
        .iter()
        .all(|r| support::header(r, "x-fusionauth-tenantid") == Some(fake::TENANT_ID)));
}

#[tokio::test]
async fn tutorial_api_key_variable_is_accepted() {
    let (server, _fake) = support::start(State::pristine(API_KEY)).await;
    let url = server.uri();
    let run = support::run_setup(&[("fusionauth_api_key", API_KEY)], &["--url", &url]).await;
    assert_eq!(run.code, EXIT_CHANGED, "{run:?}");
}
