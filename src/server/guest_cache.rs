//! The guest home page, rendered once and then served from memory.
//!
//! Every visitor without a session sees the same `/`: rendering it through Leptos on each
//! request cost ~85% of the HTTP stack's throughput (make bench). Two decisions keep a
//! logged-in page out of the cache:
//! - *filling* the cache: only a response the home page itself marked as the guest rendering
//!   (it does so when the session held no user), with status 200 and no `Set-Cookie`; never
//!   a guess from the request;
//! - *serving* from the cache: only a `GET /` without a query that carries no cookie of the
//!   session's name, read with the parser the session layer uses (tower-cookies'
//!   `Cookie::parse_encoded` on each `;`-separated part: names trimmed and percent-decoded).
//!   A request with any such cookie, valid or not, is rendered. The layer sits outside the
//!   session layer, so a guest's page costs no session, timeout or error-page machinery.
//!
//! The page carries the response's CSP nonce on its scripts, so it is stored cut at the
//! nonce and served with a fresh nonce and the policy that names it: no two responses share
//! one. The layer sits outside the security policy layer (which it does for a cached page
//! itself) and the session layer: a guest's page costs neither (make bench).

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, OnceLock,
};

use axum::{
    body::{Body, Bytes},
    extract::Request,
    response::{IntoResponse, Response},
};
use http::{header, HeaderMap, Method, StatusCode};
use tower_cookies::Cookie;

use super::security::{new_nonce, ContentSecurityPolicy, CspNonce};

/// Largest page worth keeping.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct GuestPageCache {
    page: Arc<OnceLock<CachedPage>>,
    /// The session cookie's name.
    session_cookie: Arc<str>,
    policy: Arc<ContentSecurityPolicy>,
}

impl GuestPageCache {
    pub fn new(session_cookie: Arc<str>, policy: Arc<ContentSecurityPolicy>) -> Self {
        Self {
            page: Arc::default(),
            session_cookie,
            policy,
        }
    }
}

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

/// The cache as a tower layer: a hit answers without touching (or cloning) the service
/// inside, which `axum::middleware::from_fn` would clone and box on every request.
#[derive(Clone)]
pub struct GuestPageLayer(GuestPageCache);

impl GuestPageLayer {
    pub fn new(cache: GuestPageCache) -> Self {
        Self(cache)
    }
}

impl<S> tower::Layer<S> for GuestPageLayer {
    type Service = GuestPageService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuestPageService {
            cache: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct GuestPageService<S> {
    cache: GuestPageCache,
    inner: S,
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S> tower::Service<Request> for GuestPageService<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<Result<Response, std::convert::Infallible>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let cache = self.cache.clone();
        // The service that was made ready goes with this request; a clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !is_home(&request) || has_cookie(&request, &cache.session_cookie) {
            return Box::pin(inner.call(request));
        }
        if let Some(page) = cache.page.get() {
            let started = std::time::Instant::now();
            let response = page.response(&cache.policy);
            // The router's metrics layer never sees this request.
            super::metrics::record_request("/".into(), &Method::GET, StatusCode::OK, started);
            return Box::pin(std::future::ready(Ok(response)));
        }
        let rendering = GuestRendering::default();
        request.extensions_mut().insert(rendering.clone());
        Box::pin(async move {
            let response = inner.call(request).await?;
            Ok(cache.fill(response, &rendering).await)
        })
    }
}

impl CachedPage {
    /// The page with a fresh nonce, and the policy that names it.
    fn response(&self, policy: &ContentSecurityPolicy) -> Response {
        let nonce = new_nonce();
        let mut headers = self.headers.clone();
        if let Some(policy) = policy.header(&nonce) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        let body = self.pieces.join(nonce.as_bytes());
        let mut response = (StatusCode::OK, headers, body).into_response();
        response.extensions_mut().insert(super::logging::Route("/"));
        response
    }
}

impl GuestPageCache {
    /// Keeps `response` if the home page marked it as the guest rendering; returns it.
    async fn fill(&self, response: Response, rendering: &GuestRendering) -> Response {
        let nonce = response.extensions().get::<CspNonce>().cloned();
        let cacheable = rendering.0.load(Ordering::Relaxed)
            && response.status() == StatusCode::OK
            && !response.headers().contains_key(header::SET_COOKIE);
        let (true, Some(CspNonce(nonce))) = (cacheable, nonce) else {
            return response;
        };
        let (parts, body) = response.into_parts();
        match axum::body::to_bytes(body, MAX_BYTES).await {
            Ok(bytes) => {
                let mut headers = parts.headers.clone();
                headers.remove(header::CONTENT_LENGTH);
                headers.remove(header::CONTENT_SECURITY_POLICY);
                let pieces = split_at(&bytes, nonce.as_bytes());
                let _ = self.page.set(CachedPage { headers, pieces });
                Response::from_parts(parts, Body::from(bytes))
            }
            Err(e) => {
                tracing::error!(error = %e, "guest page could not be buffered");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

/// `GET /` without a query.
fn is_home(request: &Request) -> bool {
    request.method() == Method::GET
        && request.uri().path() == "/"
        && request.uri().query().is_none()
}

/// Whether the request carries a cookie called `name`, as tower-cookies (and so the session
/// layer) reads the `Cookie` headers.
fn has_cookie(request: &Request, name: &str) -> bool {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| std::str::from_utf8(value.as_bytes()).ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|part| Cookie::parse_encoded(part).ok())
        .any(|cookie| cookie.name() == name)
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

    #[test]
    fn a_session_cookie_is_seen_however_it_is_spelled() {
        let request = |cookies: &[&str]| {
            let mut builder = Request::builder().uri("/");
            for cookie in cookies {
                builder = builder.header(header::COOKIE, *cookie);
            }
            builder.body(Body::empty()).expect("request")
        };
        for spelled in [
            vec!["sid=v"],
            vec![" sid =v"],
            vec!["a=1;sid=v"],
            vec!["a=1", "sid=v"],
            vec!["s%69d=v"],
        ] {
            assert!(has_cookie(&request(&spelled), "sid"), "{spelled:?}");
        }
        assert!(!has_cookie(&request(&["sidx=v; a=sid"]), "sid"));
        assert!(!has_cookie(&request(&[]), "sid"));
    }
}
