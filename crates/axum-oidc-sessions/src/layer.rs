//! [`AuthLayer`]: what every request of an app with this login passes through, inside out:
//! the [`OidcSessions`] handle in the request's extensions (for the extractors), the
//! same-origin guard, the session cookie (tower-sessions, signed, HttpOnly, `SameSite=Lax`,
//! `__Host-` over https), and the re-signing of cookies signed with the previous secret key.

use std::{convert::Infallible, sync::Arc};

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, Method};
use tower::{util::BoxCloneSyncService, Layer, Service, ServiceBuilder};
use tower_sessions::{cookie::SameSite, service::SignedCookie, Expiry, SessionManagerLayer};

use crate::{
    error::AuthError,
    key_rotation::{resign_session_cookie, PreviousSessionKey},
    store::Store,
    OidcSessions,
};

/// The layer of [`OidcSessions::layer`]. Wrap the whole router with it (the login routes
/// included); put a request timeout outside it.
#[derive(Clone)]
pub struct AuthLayer {
    handle: OidcSessions,
    sessions: SessionManagerLayer<Store, SignedCookie>,
    rotation: Option<Arc<PreviousSessionKey>>,
}

impl AuthLayer {
    pub(crate) fn new(handle: OidcSessions) -> Self {
        let config = handle.config();
        let secure = config.secure_cookies();
        let sessions = SessionManagerLayer::new(handle.store().clone())
            .with_name(config.auth.cookies.session_name())
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(secure)
            .with_path("/")
            .with_expiry(Expiry::OnSessionEnd)
            .with_signed(config.cookie_key.clone());
        let rotation = config.previous_cookie_key.clone().map(|previous| {
            Arc::new(PreviousSessionKey {
                name: config.auth.cookies.session_name(),
                current: config.cookie_key.clone(),
                previous,
                secure,
            })
        });
        Self {
            handle,
            sessions,
            rotation,
        }
    }
}

impl<S> Layer<S> for AuthLayer
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    type Service = BoxCloneSyncService<Request<Body>, Response, Infallible>;

    fn layer(&self, inner: S) -> Self::Service {
        let stack = ServiceBuilder::new()
            .layer(axum::middleware::from_fn_with_state(
                self.rotation.clone(),
                resign_session_cookie,
            ))
            .layer(self.sessions.clone())
            .layer(axum::middleware::from_fn_with_state(
                self.handle.clone(),
                same_origin_only,
            ))
            .layer(axum::Extension(self.handle.clone()))
            .service(inner);
        BoxCloneSyncService::new(stack)
    }
}

/// Whether `request` must come from the app's own origin: every POST, PUT, PATCH and DELETE
/// except FusionAuth's signed webhooks, and anything below a configured prefix or (feature
/// `leptos`) the server functions' prefix.
fn guarded(handle: &OidcSessions, method: &Method, path: &str) -> bool {
    let config = handle.config();
    #[cfg(feature = "leptos")]
    if path.starts_with(crate::leptos::SERVER_FN_PREFIX) {
        return true;
    }
    if config
        .same_origin_prefixes
        .iter()
        .any(|prefix| path.starts_with(prefix.as_str()))
    {
        return true;
    }
    let changes_state = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    changes_state && path != config.auth.webhook_path
}

/// Refuses guarded requests from other sites (login CSRF, logout CSRF): the `Origin` must be
/// the app's own; a request without `Origin` must say `Sec-Fetch-Site: same-origin` (or
/// `none`: typed into the address bar). Anything else, including `Origin: null` and a
/// request with neither header, gets the 403 error page.
async fn same_origin_only(
    State(handle): State<OidcSessions>,
    request: Request,
    next: Next,
) -> Response {
    if !guarded(&handle, request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN);
    let fetch_site = headers.get("sec-fetch-site");
    let allowed = match origin {
        Some(origin) => origin.as_bytes() == handle.app_origin().as_bytes(),
        None => fetch_site.is_some_and(|site| matches!(site.as_bytes(), b"same-origin" | b"none")),
    };
    if allowed {
        return next.run(request).await;
    }
    tracing::warn!(
        path = %request.uri().path(),
        origin = ?origin,
        sec_fetch_site = ?fetch_site,
        "cross-site request refused"
    );
    handle.error_page(AuthError::CrossSiteRequest)
}
