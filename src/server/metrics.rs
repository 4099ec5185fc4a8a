//! Prometheus metrics: the recorder, the `/metrics` listener on `METRICS_ADDR` (never the
//! public port), the HTTP request metrics and the build info.
//!
//! The auth crate records its own metrics through the `metrics` facade
//! (`axum_oidc_sessions::metrics` lists every name); this module installs the one recorder
//! they all go to, once per process, and serves its text rendering.
//!
//! An HTTP request is labelled with its route *template* (axum's `MatchedPath`, e.g.
//! `/auth/logout`, never the path a client sent), so a client that sends random paths adds no
//! series: a request that matched no route is `static` when a file answered it (2xx, 3xx)
//! and `unmatched` otherwise. Methods outside the standard ones are `other`.

use std::{
    net::SocketAddr,
    sync::OnceLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use axum_oidc_sessions::metrics::{
    BUCKETS_SECONDS, BUILD_INFO, HTTP_REQUESTS_TOTAL, HTTP_REQUEST_DURATION_SECONDS,
};
use http::{header, HeaderValue, Method, StatusCode};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use axum_oidc_sessions::store::StoreLocation;

use super::{config::Config, StartupError};

/// How often histograms are folded in between scrapes, so that memory stays bounded when
/// nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's one recorder, installed on first use (tests start several apps in one
/// process: they share it).
fn recorder() -> Result<PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS_SECONDS)
                .map_err(|e| e.to_string())?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
            axum_oidc_sessions::metrics::describe();
            Ok(handle)
        })
        .clone()
}

/// With `METRICS_ADDR` set: installs the recorder, records the build info and serves
/// `GET /metrics` there, in a task of its own. Returns the address it listens on (the port
/// the system chose, for port 0), or `None` when metrics are off.
pub async fn start(config: &Config) -> Result<Option<SocketAddr>, StartupError> {
    let Some(addr) = config.metrics_addr else {
        return Ok(None);
    };
    let handle = recorder().map_err(StartupError::Metrics)?;
    let backend = match config.oidc.sessions.location {
        StoreLocation::Sqlite(_) => "sqlite",
        StoreLocation::Redis(_) => "redis",
        StoreLocation::Memory => "memory",
    };
    metrics::gauge!(
        BUILD_INFO,
        "version" => env!("CARGO_PKG_VERSION"),
        "commit" => env!("GIT_COMMIT"),
        "backend" => backend,
    )
    .set(1.0);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::MetricsBind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartupError::MetricsBind { addr, source })?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(UPKEEP_EVERY);
        loop {
            ticker.tick().await;
            upkeep.run_upkeep();
        }
    });
    let scrape = Router::new().route("/metrics", get(move || render(handle.clone())));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, scrape).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    tracing::info!("metrics on http://{bound}/metrics");
    Ok(Some(bound))
}

async fn render(handle: PrometheusHandle) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// Middleware inside the app's router (where the route template is known): counts and
/// times every request by route, method and status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    // No route: the static files answered, or nothing did (a 404, or a request refused
    // before, such as a cross-site call to no server function).
    let route = route.unwrap_or_else(|| {
        let status = response.status();
        let served = status.is_success() || status.is_redirection();
        if served { "static" } else { "unmatched" }.to_owned()
    });
    record_request(route, &method, response.status(), started);
    response
}

/// Records one answered request; `route` is a route template or a fixed label.
pub fn record_request(route: String, method: &Method, status: StatusCode, started: Instant) {
    let method = method_label(method);
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "route" => route.clone(),
        "method" => method,
        "status" => status.as_u16().to_string(),
    )
    .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION_SECONDS, "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        for odd in ["PURGE", "get", "X-RANDOM"] {
            let method = Method::from_bytes(odd.as_bytes()).expect("a valid token");
            assert_eq!(method_label(&method), "other", "{odd}");
        }
    }
}
