//! A login, a refresh, a refused webhook, a bad callback and a logout, each moving exactly
//! its own counters; and the crate's list of names is what the app exports.

use std::time::Duration;

use axum_oidc_sessions::metrics::{self as names, ALL, HISTOGRAMS};
use reqwest::StatusCode;

use crate::{
    scrape::{app_with_metrics, app_with_metrics_and, moves, Metrics, Samples},
    serial,
    support::{
        app::{browser, spawn_app},
        provider::USER_ID,
        refresh::RefreshGrant,
        webhook::{deliver, revoke_event, signature, SECRET},
        EMAIL,
    },
};

/// Just over half the life of a 4-second token: the next page refreshes it.
const HALF_LIFE: Duration = Duration::from_millis(2100);

/// The counters of what the login engine did (the HTTP and store counters are checked
/// apart: they count every request and every round trip).
const EVENTS: &[&str] = &[
    names::LOGINS_STARTED_TOTAL,
    names::LOGINS_COMPLETED_TOTAL,
    names::LOGINS_FAILED_TOTAL,
    names::LOGOUTS_TOTAL,
    names::SESSIONS_ENDED_TOTAL,
    names::REFRESHES_TOTAL,
    names::WEBHOOKS_TOTAL,
    names::PROVIDER_REQUESTS_TOTAL,
];

/// Scrapes, and checks that since `before` the engine's counters (and the HTTP requests,
/// when `http` is given) moved exactly as `expected`.
async fn assert_moved(
    metrics: &Metrics,
    before: &Samples,
    step: &str,
    expected: &[(&str, f64)],
    http: Option<&[(&str, f64)]>,
) -> Samples {
    let after = metrics.scrape().await;
    assert_eq!(
        after.moved_since(before, EVENTS),
        moves(expected),
        "{step}: the engine's counters"
    );
    if let Some(http) = http {
        assert_eq!(
            after.moved_since(before, &[names::HTTP_REQUESTS_TOTAL]),
            moves(http),
            "{step}: the HTTP requests"
        );
    }
    after
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_step_of_a_session_moves_exactly_its_counters() {
    let _serial = serial().await;
    let (s, metrics) = app_with_metrics().await;
    let grant = RefreshGrant::mount(&s.provider, &s.key, 7200).await;
    s.provider.set_token_lifetime(4);
    let start = metrics.scrape().await;

    // A forged callback in a browser that started no login.
    let stranger = browser();
    let response = stranger
        .get(s.app.url("/callback?code=stolen&state=forged"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let after_callback = assert_moved(
        &metrics,
        &start,
        "bad callback",
        &[(
            r#"oidc_sessions_logins_failed_total{kind="no_login_in_progress"}"#,
            1.0,
        )],
        Some(&[(
            r#"oidc_sessions_http_requests_total{method="GET",route="/callback",status="400"}"#,
            1.0,
        )]),
    )
    .await;

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let after_login = assert_moved(
        &metrics,
        &after_callback,
        "login",
        &[
            ("oidc_sessions_logins_started_total", 1.0),
            ("oidc_sessions_logins_completed_total", 1.0),
            (
                r#"oidc_sessions_provider_requests_total{endpoint="discovery",outcome="ok"}"#,
                1.0,
            ),
            (
                r#"oidc_sessions_provider_requests_total{endpoint="token",outcome="ok"}"#,
                1.0,
            ),
        ],
        Some(&[
            (
                r#"oidc_sessions_http_requests_total{method="GET",route="/login",status="302"}"#,
                1.0,
            ),
            (
                r#"oidc_sessions_http_requests_total{method="GET",route="/callback",status="302"}"#,
                1.0,
            ),
        ]),
    )
    .await;
    assert!(
        after_login.get(r#"oidc_sessions_store_operations_total{backend="sqlite",operation="write",result="ok"}"#)
            > after_callback.get(r#"oidc_sessions_store_operations_total{backend="sqlite",operation="write",result="ok"}"#),
        "the new session was written to SQLite"
    );

    tokio::time::sleep(HALF_LIFE).await;
    s.app.assert_logged_in_as(EMAIL).await;
    assert_eq!(grant.refreshed(), 1);
    let after_refresh = assert_moved(
        &metrics,
        &after_login,
        "refresh",
        &[
            (r#"oidc_sessions_refreshes_total{outcome="refreshed"}"#, 1.0),
            (
                r#"oidc_sessions_provider_requests_total{endpoint="token",outcome="ok"}"#,
                1.0,
            ),
        ],
        None,
    )
    .await;
    let waits = "oidc_sessions_refresh_lease_wait_seconds_count";
    assert_eq!(after_refresh.get(waits) - after_login.get(waits), 1.0);

    let body = br#"{"event":{"type":"jwt.refresh-token.revoke","userId":"someone"}}"#;
    let response = deliver(&s.app, body, Some("not-a-signature")).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let after_webhook = assert_moved(
        &metrics,
        &after_refresh,
        "refused webhook",
        &[(
            r#"oidc_sessions_webhooks_total{event="unknown",outcome="bad_signature"}"#,
            1.0,
        )],
        Some(&[(
            r#"oidc_sessions_http_requests_total{method="POST",route="/webhooks/fusionauth",status="401"}"#,
            1.0,
        )]),
    )
    .await;
    s.app.assert_logged_in_as(EMAIL).await;

    s.app.logout().await;
    s.app.assert_guest().await;
    let end = assert_moved(
        &metrics,
        &after_webhook,
        "logout",
        &[
            (r#"oidc_sessions_logouts_total{via="button"}"#, 1.0),
            (
                r#"oidc_sessions_sessions_ended_total{reason="logout"}"#,
                1.0,
            ),
        ],
        None,
    )
    .await;

    // After the whole flow every metric has samples, and each is one the crate lists.
    let exported = end.names();
    for name in &exported {
        assert!(listed(name), "{name} is exported but not in metrics::ALL");
    }
    for name in ALL {
        let present = if HISTOGRAMS.contains(name) {
            exported.contains(&format!("{name}_bucket"))
        } else {
            exported.contains(*name)
        };
        assert!(present, "{name} is listed but was not exported");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_its_replay_and_a_refused_refresh_count_their_outcomes() {
    let _serial = serial().await;
    let (s, metrics) = app_with_metrics().await;
    let grant = RefreshGrant::mount(&s.provider, &s.key, 7200).await;
    s.provider.set_token_lifetime(4);
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let logged_in = metrics.scrape().await;

    let body = serde_json::to_vec(&revoke_event(USER_ID)).expect("json");
    let signed = signature(SECRET, &body);
    let applied = deliver(&s.app, &body, Some(&signed)).await;
    assert_eq!(applied.status(), StatusCode::OK);
    let revoke = r#"event="jwt.refresh-token.revoke""#;
    let after_revocation = assert_moved(
        &metrics,
        &logged_in,
        "revocation",
        &[
            (
                &format!(r#"oidc_sessions_webhooks_total{{{revoke},outcome="applied"}}"#),
                1.0,
            ),
            (
                r#"oidc_sessions_sessions_ended_total{reason="webhook"}"#,
                1.0,
            ),
        ],
        None,
    )
    .await;
    let replayed = deliver(&s.app, &body, Some(&signed)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    let after_replay = assert_moved(
        &metrics,
        &after_revocation,
        "replay",
        &[(
            &format!(r#"oidc_sessions_webhooks_total{{{revoke},outcome="replay"}}"#),
            1.0,
        )],
        None,
    )
    .await;

    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let logged_in_again = metrics.scrape().await;
    assert!(
        logged_in_again.get("oidc_sessions_logins_completed_total")
            > after_replay.get("oidc_sessions_logins_completed_total")
    );
    tokio::time::sleep(HALF_LIFE).await;
    grant.revoke();
    let page = s.app.get("/").await.text().await.expect("body");
    assert!(page.contains(r#"data-testid="session-ended""#), "{page}");
    assert_moved(
        &metrics,
        &logged_in_again,
        "refused refresh",
        &[
            (r#"oidc_sessions_refreshes_total{outcome="refused"}"#, 1.0),
            (
                r#"oidc_sessions_sessions_ended_total{reason="refresh_refused"}"#,
                1.0,
            ),
            (
                r#"oidc_sessions_provider_requests_total{endpoint="token",outcome="refused"}"#,
                1.0,
            ),
        ],
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_counted_when_the_store_sweeps_it_out() {
    let _serial = serial().await;
    let (s, metrics) = app_with_metrics_and(&[("SESSION_TTL_SECS", "1")]).await;
    assert_eq!(s.login().await.status(), StatusCode::FOUND);
    let before = metrics.scrape().await;
    // SQLite compares whole seconds.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The store sweeps expired sessions out when it opens, then every minute: a second app
    // on the same file sweeps now.
    let _second = spawn_app(s.app.settings.clone()).await;
    let expired = r#"oidc_sessions_sessions_ended_total{reason="expiry"}"#;
    let mut waited = Duration::ZERO;
    while metrics.scrape().await.get(expired) == before.get(expired)
        && waited < Duration::from_secs(5)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert_moved(&metrics, &before, "expiry", &[(expired, 1.0)], None).await;
    assert_eq!(s.app.stored_sessions().await, 0);
}

/// Whether a scraped series name is one of [`ALL`] (histograms: with their suffixes).
pub fn listed(name: &str) -> bool {
    ALL.contains(&name)
        || ["_bucket", "_sum", "_count"].iter().any(|suffix| {
            name.strip_suffix(suffix)
                .is_some_and(|base| HISTOGRAMS.contains(&base))
        })
}
