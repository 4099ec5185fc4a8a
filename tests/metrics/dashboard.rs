//! The Grafana dashboard in `deploy/grafana/` is valid JSON and queries only metrics the app
//! exports (the crate's list; a histogram also as its `_bucket`, `_sum` and `_count`).

use serde_json::Value;

use crate::flow::listed;

const DASHBOARD: &str = include_str!("../../deploy/grafana/oidc-sessions.json");

fn exprs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", Value::String(expr)) => found.push(expr),
                    _ => exprs(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| exprs(item, found)),
        _ => {}
    }
}

/// The `oidc_sessions_…` names an expression uses.
fn metric_names(expr: &str) -> Vec<&str> {
    expr.match_indices("oidc_sessions_")
        .map(|(at, _)| {
            let rest = &expr[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

#[test]
fn the_dashboard_queries_only_metrics_the_app_exports() {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("valid JSON");
    assert!(dashboard["title"].is_string());
    let mut found = Vec::new();
    exprs(&dashboard, &mut found);
    assert!(found.len() >= 8, "the panels' queries: {found:?}");
    let mut used = std::collections::BTreeSet::new();
    for expr in found {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "a query of no metric of the app: {expr}");
        for name in names {
            assert!(
                listed(name),
                "{name} (in {expr}) is not a metric the app exports"
            );
            used.insert(name);
        }
    }
    for needed in [
        "oidc_sessions_logins_completed_total",
        "oidc_sessions_logins_failed_total",
        "oidc_sessions_refreshes_total",
        "oidc_sessions_webhooks_total",
        "oidc_sessions_http_request_duration_seconds_bucket",
        "oidc_sessions_store_operations_total",
        "oidc_sessions_provider_requests_total",
    ] {
        assert!(used.contains(needed), "the dashboard shows {needed}");
    }
}

#[test]
fn a_name_outside_the_list_is_caught() {
    assert!(listed("oidc_sessions_http_request_duration_seconds_bucket"));
    assert!(!listed("oidc_sessions_http_requests_total_bucket"));
    assert!(!listed("oidc_sessions_logins_total"));
    assert_eq!(
        metric_names("sum(rate(oidc_sessions_logins_started_total[5m])) / 2"),
        ["oidc_sessions_logins_started_total"]
    );
}
