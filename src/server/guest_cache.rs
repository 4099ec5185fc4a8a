//! The guest home page, rendered once and then served from memory.
//!
//! Every visitor without a session cookie sees the same `/`: rendering it through Leptos on
//! each request cost ~85% of the HTTP stack's throughput (make bench). Only a `GET /` with no
//! query and no session cookie is answered from the cache, and only a plain 200 response
//! without `Set-Cookie` is ever stored, so no per-user byte can be shared.

use std::sync::{Arc, OnceLock};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, HeaderMap, Method, StatusCode};

use super::SESSION_COOKIE;

/// Largest page worth keeping.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Clone, Default)]
pub struct GuestPageCache(Arc<OnceLock<(HeaderMap, Bytes)>>);

pub async fn serve(State(cache): State<GuestPageCache>, request: Request, next: Next) -> Response {
    if !is_anonymous_home(&request) {
        return next.run(request).await;
    }
    if let Some((headers, body)) = cache.0.get() {
        return (StatusCode::OK, headers.clone(), body.clone()).into_response();
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BYTES).await {
        Ok(bytes) => {
            let _ = cache.0.set((parts.headers.clone(), bytes.clone()));
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "guest page could not be buffered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn is_anonymous_home(request: &Request) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/"
        && request.uri().query().is_none()
        && !request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|c| {
                c.trim_start()
                    .strip_prefix(SESSION_COOKIE)
                    .is_some_and(|rest| rest.starts_with('='))
            })
}
