//! The metrics this crate and the app around it record: every name in one place.
//!
//! The crate records through the [`metrics`](https://docs.rs/metrics) facade and installs
//! no exporter: the app chooses one (Prometheus text on its own listener, `METRICS_ADDR`) or
//! none, and then every recording is a no-op. Names follow Prometheus conventions: the common
//! prefix `oidc_sessions_`, `_total` for counters, `_seconds` for histograms, snake_case
//! labels. Every label value is one of a fixed set (an [`AuthError`](crate::error::AuthError)
//! kind, an outcome, a route template): never a path, a user, a token or a code.
//!
//! The HTTP and build-info names are recorded by the app, which knows its routes and its
//! build; they are listed here so that the list is complete.

/// HTTP requests answered, by `route` (the route template; `static` for a static file,
/// `unmatched` for a 404 of no route), `method` (`other` for an unknown one) and `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "oidc_sessions_http_requests_total";
/// Time to answer an HTTP request (to the response's head), by `route` and `method`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "oidc_sessions_http_request_duration_seconds";
/// Logins started: the browser was sent to the provider.
pub const LOGINS_STARTED_TOTAL: &str = "oidc_sessions_logins_started_total";
/// Logins completed: a session was created for a verified user.
pub const LOGINS_COMPLETED_TOTAL: &str = "oidc_sessions_logins_completed_total";
/// Logins that failed, at their start or at the callback, by `kind` (the `AuthError` kind,
/// e.g. `state_mismatch`, `provider_unavailable`).
pub const LOGINS_FAILED_TOTAL: &str = "oidc_sessions_logins_failed_total";
/// Logouts asked for, by `via`: `button` (the Logout button) or `front_channel` (the
/// provider's logout page).
pub const LOGOUTS_TOTAL: &str = "oidc_sessions_logouts_total";
/// Sessions ended, by `reason`: `logout`, `expiry` (swept out by the SQLite and memory
/// stores; Redis expires its keys unseen), `refresh_refused`, `webhook` (a user's revocation,
/// or a session found written before an application-wide one) or `unreadable` (a stored
/// session this release can never read, deleted).
pub const SESSIONS_ENDED_TOTAL: &str = "oidc_sessions_sessions_ended_total";
/// Token refreshes, by `outcome`: `refreshed`, `reused` (another request's refresh served
/// this one), `refused` (the provider refused the refresh token: the session ends) or
/// `provider_failed` (unreachable or a bad answer: the tokens are kept).
pub const REFRESHES_TOTAL: &str = "oidc_sessions_refreshes_total";
/// Time a request needing a refresh waited for the refresh lease (taken, or the other
/// holder's refresh finished).
pub const REFRESH_LEASE_WAIT_SECONDS: &str = "oidc_sessions_refresh_lease_wait_seconds";
/// FusionAuth webhooks received, by `event` (a handled event type, `other`, or `unknown`
/// when the body was not read) and `outcome`: `applied`, `ignored`, `bad_signature`,
/// `replay`, `stale` (undated, too old or dated ahead), `bad_request` (unreadable body),
/// `disabled` (no signing secret) or `store_down`.
pub const WEBHOOKS_TOTAL: &str = "oidc_sessions_webhooks_total";
/// Requests to the provider, by `endpoint` (`discovery`, `jwks`, `token`) and `outcome`:
/// `ok`, `refused` (an OAuth error answer), `unavailable` (not reached, or a 5xx) or
/// `bad_response`.
pub const PROVIDER_REQUESTS_TOTAL: &str = "oidc_sessions_provider_requests_total";
/// Time a request to the provider took, by `endpoint`.
pub const PROVIDER_REQUEST_DURATION_SECONDS: &str =
    "oidc_sessions_provider_request_duration_seconds";
/// Session store operations, by `backend` (`sqlite`, `redis`, `memory`), `operation` and
/// `result` (`ok` or `error`).
pub const STORE_OPERATIONS_TOTAL: &str = "oidc_sessions_store_operations_total";
/// Time a session store operation took, by `backend` and `operation`.
pub const STORE_OPERATION_DURATION_SECONDS: &str = "oidc_sessions_store_operation_duration_seconds";
/// Always 1, with the build's `version`, `commit` and the session store `backend`.
pub const BUILD_INFO: &str = "oidc_sessions_build_info";

/// Every metric name, counters, histograms and gauges.
pub const ALL: &[&str] = &[
    HTTP_REQUESTS_TOTAL,
    HTTP_REQUEST_DURATION_SECONDS,
    LOGINS_STARTED_TOTAL,
    LOGINS_COMPLETED_TOTAL,
    LOGINS_FAILED_TOTAL,
    LOGOUTS_TOTAL,
    SESSIONS_ENDED_TOTAL,
    REFRESHES_TOTAL,
    REFRESH_LEASE_WAIT_SECONDS,
    WEBHOOKS_TOTAL,
    PROVIDER_REQUESTS_TOTAL,
    PROVIDER_REQUEST_DURATION_SECONDS,
    STORE_OPERATIONS_TOTAL,
    STORE_OPERATION_DURATION_SECONDS,
    BUILD_INFO,
];

/// The histograms among [`ALL`]: Prometheus exports each as `_bucket`, `_sum` and `_count`.
pub const HISTOGRAMS: &[&str] = &[
    HTTP_REQUEST_DURATION_SECONDS,
    REFRESH_LEASE_WAIT_SECONDS,
    PROVIDER_REQUEST_DURATION_SECONDS,
    STORE_OPERATION_DURATION_SECONDS,
];

/// Bucket bounds, in seconds, suited to every histogram here: from a memory store's
/// microseconds to a provider's timeout.
pub const BUCKETS_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[cfg(feature = "server")]
pub use record::describe;
#[cfg(feature = "server")]
pub(crate) use record::*;

#[cfg(feature = "server")]
mod record {
    use std::{future::Future, time::Instant};

    use metrics::{counter, describe_counter, describe_gauge, describe_histogram, histogram, Unit};

    use super::*;
    use crate::store::StoreUnavailable;

    /// Gives every metric its help text, for the exporter to show. Call it once, after the
    /// recorder is installed.
    pub fn describe() {
        let counters = [
            (HTTP_REQUESTS_TOTAL, "HTTP requests answered"),
            (LOGINS_STARTED_TOTAL, "Logins started"),
            (LOGINS_COMPLETED_TOTAL, "Logins completed"),
            (LOGINS_FAILED_TOTAL, "Logins failed, by error kind"),
            (LOGOUTS_TOTAL, "Logouts asked for"),
            (SESSIONS_ENDED_TOTAL, "Sessions ended, by reason"),
            (REFRESHES_TOTAL, "Token refreshes, by outcome"),
            (WEBHOOKS_TOTAL, "FusionAuth webhooks, by event and outcome"),
            (PROVIDER_REQUESTS_TOTAL, "Requests to the identity provider"),
            (STORE_OPERATIONS_TOTAL, "Session store operations"),
        ];
        for (name, help) in counters {
            describe_counter!(name, Unit::Count, help);
        }
        let histograms = [
            (HTTP_REQUEST_DURATION_SECONDS, "HTTP request duration"),
            (
                REFRESH_LEASE_WAIT_SECONDS,
                "Time waited for the refresh lease",
            ),
            (
                PROVIDER_REQUEST_DURATION_SECONDS,
                "Identity provider request duration",
            ),
            (
                STORE_OPERATION_DURATION_SECONDS,
                "Session store operation duration",
            ),
        ];
        for (name, help) in histograms {
            describe_histogram!(name, Unit::Seconds, help);
        }
        describe_gauge!(BUILD_INFO, "Build information (always 1)");
    }

    pub(crate) fn login_started() {
        counter!(LOGINS_STARTED_TOTAL).increment(1);
    }

    pub(crate) fn login_completed() {
        counter!(LOGINS_COMPLETED_TOTAL).increment(1);
    }

    pub(crate) fn login_failed(error: crate::error::AuthError) {
        counter!(LOGINS_FAILED_TOTAL, "kind" => error.kind()).increment(1);
    }

    pub(crate) fn logout(via: &'static str) {
        counter!(LOGOUTS_TOTAL, "via" => via).increment(1);
    }

    /// Why sessions ended.
    #[derive(Clone, Copy)]
    pub(crate) enum Ended {
        Logout,
        Expiry,
        RefreshRefused,
        Webhook,
        Unreadable,
    }

    pub(crate) fn sessions_ended(reason: Ended, count: u64) {
        let reason = match reason {
            Ended::Logout => "logout",
            Ended::Expiry => "expiry",
            Ended::RefreshRefused => "refresh_refused",
            Ended::Webhook => "webhook",
            Ended::Unreadable => "unreadable",
        };
        counter!(SESSIONS_ENDED_TOTAL, "reason" => reason).increment(count);
    }

    pub(crate) fn refresh(outcome: &'static str) {
        counter!(REFRESHES_TOTAL, "outcome" => outcome).increment(1);
    }

    pub(crate) fn lease_waited(since: Instant) {
        histogram!(REFRESH_LEASE_WAIT_SECONDS).record(since.elapsed().as_secs_f64());
    }

    #[cfg(feature = "fusionauth")]
    /// A handled FusionAuth event type as a label; any other is `other`.
    pub(crate) fn webhook_event(kind: &str) -> &'static str {
        match kind {
            "jwt.refresh-token.revoke" => "jwt.refresh-token.revoke",
            "user.deactivate" => "user.deactivate",
            "user.delete" => "user.delete",
            "user.delete.complete" => "user.delete.complete",
            _ => "other",
        }
    }

    #[cfg(feature = "fusionauth")]
    pub(crate) fn webhook(event: &'static str, outcome: &'static str) {
        counter!(WEBHOOKS_TOTAL, "event" => event, "outcome" => outcome).increment(1);
    }

    pub(crate) fn provider_request(endpoint: &'static str, outcome: &'static str, since: Instant) {
        counter!(PROVIDER_REQUESTS_TOTAL, "endpoint" => endpoint, "outcome" => outcome)
            .increment(1);
        histogram!(PROVIDER_REQUEST_DURATION_SECONDS, "endpoint" => endpoint)
            .record(since.elapsed().as_secs_f64());
    }

    /// Runs a store operation, counting it and timing it.
    pub(crate) async fn store_operation<T>(
        backend: &'static str,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreUnavailable>>,
    ) -> Result<T, StoreUnavailable> {
        let start = Instant::now();
        let result = work.await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        counter!(STORE_OPERATIONS_TOTAL, "backend" => backend, "operation" => operation, "result" => outcome)
            .increment(1);
        histogram!(STORE_OPERATION_DURATION_SECONDS, "backend" => backend, "operation" => operation)
            .record(start.elapsed().as_secs_f64());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_the_prefix_and_the_suffix_of_its_type() {
        for name in ALL {
            assert!(name.starts_with("oidc_sessions_"), "{name}");
            let histogram = HISTOGRAMS.contains(name);
            assert_eq!(histogram, name.ends_with("_seconds"), "{name}");
            assert!(
                histogram || name.ends_with("_total") || *name == BUILD_INFO,
                "{name}"
            );
        }
        assert!(HISTOGRAMS.iter().all(|h| ALL.contains(h)));
        let mut unique = ALL.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ALL.len());
    }
}
