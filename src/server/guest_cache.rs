//! The guest home page, rendered once and then served from memory.
//!
//! Every visitor without a session sees the same `/`: rendering it through Leptos on each
//! request cost ~85% of the HTTP stack's throughput (make bench). Two decisions keep a
//! logged-in page out of the cache, and neither re-parses the `Cookie` header:
//! - *serving* from the cache: only a `GET /` without a query for which the session layer
//!   found no session cookie (its parser, its signature check);
//! - *filling* the cache: only a response the home page itself marked as the guest rendering
//!   (it does so when the session held no user), with status 200 and no `Set-Cookie`.
//!
//! The page carries the response's CSP nonce on its scripts, so it is stored cut at the
//! nonce and served with the nonce of the request at hand: no two responses share one.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, OnceLock,
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, HeaderMap, Method, StatusCode};
use tower_sessions::Session;

use super::security::CspNonce;

/// Largest page worth keeping.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Clone, Default)]
pub struct GuestPageCache(Arc<OnceLock<CachedPage>>);

struct CachedPage {
    headers: HeaderMap,
    /// The body, cut where the nonce it was rendered with stood.
    pieces: Vec<Bytes>,
}

/// Put in a request's extensions; the home page sets it when it rendered the guest view.
#[derive(Clone, Default)]
pub struct GuestRendering(Arc<AtomicBool>);

/// Marks the response being rendered as the guest home page (server only; called by the
/// home page when the session held no user).
pub fn mark_as_guest_rendering() {
    if let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() {
        if let Some(GuestRendering(flag)) = parts.extensions.get::<GuestRendering>() {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

pub async fn serve(
    State(cache): State<GuestPageCache>,
    mut request: Request,
    next: Next,
) -> Response {
    let nonce = request.extensions().get::<CspNonce>().cloned();
    let (true, Some(CspNonce(nonce))) = (is_home_without_session(&request), nonce) else {
        return next.run(request).await;
    };
    if let Some(page) = cache.0.get() {
        let body = page.pieces.join(nonce.as_bytes());
        return (StatusCode::OK, page.headers.clone(), body).into_response();
    }
    let rendering = GuestRendering::default();
    request.extensions_mut().insert(rendering.clone());
    let response = next.run(request).await;
    let cacheable = rendering.0.load(Ordering::Relaxed)
        && response.status() == StatusCode::OK
        && !response.headers().contains_key(header::SET_COOKIE);
    if !cacheable {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BYTES).await {
        Ok(bytes) => {
            let mut headers = parts.headers.clone();
            headers.remove(header::CONTENT_LENGTH);
            let pieces = split_at(&bytes, nonce.as_bytes());
            let _ = cache.0.set(CachedPage { headers, pieces });
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(e) => {
            tracing::error!(error = %e, "guest page could not be buffered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /`, no query, and no session as the session layer sees it.
fn is_home_without_session(request: &Request) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/"
        && request.uri().query().is_none()
        && request
            .extensions()
            .get::<Session>()
            .is_some_and(|session| session.id().is_none())
}

/// `bytes` cut at every occurrence of `separator`.
fn split_at(bytes: &Bytes, separator: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while !separator.is_empty() && at + separator.len() <= bytes.len() {
        if &bytes[at..at + separator.len()] == separator {
            pieces.push(bytes.slice(start..at));
            at += separator.len();
            start = at;
        } else {
            at += 1;
        }
    }
    pieces.push(bytes.slice(start..));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_cut_at_its_nonce_joins_back_with_another() {
        let page = Bytes::from_static(b"<script nonce=\"N1\">a</script><link crossorigin=\"N1\">");
        let pieces = split_at(&page, b"N1");
        assert_eq!(pieces.len(), 3);
        assert_eq!(
            pieces.join(&b"N2"[..]),
            b"<script nonce=\"N2\">a</script><link crossorigin=\"N2\">".to_vec()
        );
        assert_eq!(split_at(&page, b"absent").join(&b"x"[..]), page.to_vec());
    }
}
