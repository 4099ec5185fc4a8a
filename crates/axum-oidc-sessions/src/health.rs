//! Readiness (`/readyz`): what each dependency looks like to this process, as JSON.
//!
//! - `status`: `ready` (everything up), `degraded` (logged-in users are served but the
//!   provider has never answered or is failing: logins and refreshes may fail), or
//!   `unavailable` (the session store is down: only guests are served). HTTP 503 only for
//!   `unavailable`, else 200.
//! - `components.session_store`: `status` (`up`/`down`) after one real round trip (Redis
//!   `PING`, SQLite `select 1`, memory trivially) within a bounded deadline; `backend`
//!   (`sqlite`, `redis`, `memory`); `latency_ms` of that round trip; `error` when down.
//! - `components.provider`: `status` (`up`/`degraded`, never down: guests need no provider);
//!   `discovery_age_secs` and `jwks_age_secs` since they were last fetched (absent: never);
//!   `last_error`, the last failure's cleaned text. The check asks the provider nothing: it
//!   reports what the app's own requests found, so probes cannot amplify load on it.
//!
//! No secret, token or credential is ever in the body.

use std::time::Instant;

use http::{header, HeaderValue, StatusCode};
use serde::Serialize;

use crate::oidc::{flow::AuthService, provider::ProviderContact};

/// The whole app's readiness.
#[derive(Clone, Debug, Serialize)]
pub struct Readiness {
    /// The summary: see the module documentation.
    pub status: Status,
    /// Each dependency.
    pub components: Components,
}

/// The summary of a [`Readiness`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every dependency is up.
    Ready,
    /// Logged-in users are served, but the provider is not known to answer.
    Degraded,
    /// The session store is down: logged-in users cannot be served.
    Unavailable,
}

/// The dependencies of the app.
#[derive(Clone, Debug, Serialize)]
pub struct Components {
    /// Where sessions are kept.
    pub session_store: StoreHealth,
    /// The OpenID provider.
    pub provider: ProviderHealth,
}

/// Whether a component answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentStatus {
    /// It answers.
    Up,
    /// It is not known to answer, but the app still serves (the provider).
    Degraded,
    /// It does not answer (the session store).
    Down,
}

/// The session store after one round trip.
#[derive(Clone, Debug, Serialize)]
pub struct StoreHealth {
    /// `up` or `down`.
    pub status: ComponentStatus,
    /// `sqlite`, `redis` or `memory`.
    pub backend: &'static str,
    /// How long the round trip took, in milliseconds.
    pub latency_ms: f64,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The provider as the app's own requests found it.
#[derive(Clone, Debug, Serialize)]
pub struct ProviderHealth {
    /// `up`, or `degraded` when it never answered or is failing.
    pub status: ComponentStatus,
    /// Seconds since discovery last succeeded; absent when it never did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_age_secs: Option<u64>,
    /// Seconds since the JWKS was last fetched; absent when it never was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_age_secs: Option<u64>,
    /// The last failure to reach the provider or read its answer, cleaned to one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl From<ProviderContact> for ProviderHealth {
    fn from(contact: ProviderContact) -> Self {
        let up = contact.discovery_age.is_some() && !contact.failing;
        Self {
            status: if up {
                ComponentStatus::Up
            } else {
                ComponentStatus::Degraded
            },
            discovery_age_secs: contact.discovery_age.map(|age| age.as_secs()),
            jwks_age_secs: contact.jwks_age.map(|age| age.as_secs()),
            last_error: contact.last_error,
        }
    }
}

impl Readiness {
    /// Pings the session store (bounded by its deadline) and reads what the app knows of the
    /// provider (no request to it).
    pub async fn check(auth: &AuthService) -> Self {
        let started = Instant::now();
        let ping = auth.control.ping().await;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        let session_store = StoreHealth {
            status: if ping.is_ok() {
                ComponentStatus::Up
            } else {
                ComponentStatus::Down
            },
            backend: auth.control.backend_kind(),
            latency_ms: (latency_ms * 1000.0).round() / 1000.0,
            error: ping.err().map(|e| e.to_string()),
        };
        let provider = ProviderHealth::from(auth.provider.last_contact());
        let status = match (session_store.status, provider.status) {
            (ComponentStatus::Up, ComponentStatus::Up) => Status::Ready,
            (ComponentStatus::Up, _) => Status::Degraded,
            _ => Status::Unavailable,
        };
        Self {
            status,
            components: Components {
                session_store,
                provider,
            },
        }
    }

    /// 503 when logged-in users cannot be served (the session store is down), else 200.
    pub fn http_status(&self) -> StatusCode {
        match self.status {
            Status::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Status::Ready | Status::Degraded => StatusCode::OK,
        }
    }
}

impl axum::response::IntoResponse for Readiness {
    fn into_response(self) -> axum::response::Response {
        let body = serde_json::to_vec(&self).unwrap_or_else(|e| {
            tracing::error!(error = %e, "readiness does not serialize");
            br#"{"status":"unavailable"}"#.to_vec()
        });
        (
            self.http_status(),
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response()
    }
}
