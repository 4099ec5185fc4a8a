//! Logout, both ways it happens:
//! - the Logout button (the `logout` server function): ends the local session, expires the
//!   cookie, and *always* sends the browser to FusionAuth's end-session endpoint, so that
//!   FusionAuth's SSO session ends too even when the local one was already gone;
//! - FusionAuth's front-channel logout: its logout page loads `GET /logout` (the
//!   application's logoutURL) in a hidden iframe. Only that iframe load ends a session; a
//!   top-level visit to `/logout` (the post-logout return, or a link from anywhere) just goes
//!   home, so another site cannot log anybody out.

use std::sync::Arc;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use openidconnect::{core::CoreIdToken, CsrfToken, PostLogoutRedirectUrl};
use tower_cookies::{
    cookie::{time, SameSite},
    Cookie, Cookies,
};
use tower_sessions::Session;
use url::Url;

use super::{flow::AuthService, session::AuthSession};
use crate::metrics;

impl AuthService {
    /// The Logout button: ends the local session whatever state it is in (missing,
    /// unreadable, or the store down), expires the session cookie, and returns FusionAuth's
    /// end-session URL (with `id_token_hint` when the session still knew the user).
    pub async fn logout(&self, session: Option<&AuthSession>, cookies: &Cookies) -> Url {
        metrics::logout("button");
        let user = match session {
            Some(session) => session.end().await,
            None => None,
        };
        match &user {
            Some(user) => {
                metrics::sessions_ended(metrics::Ended::Logout, 1);
                tracing::info!(sub = ?user.claims.get("sub"), "logged out locally");
            }
            None => {
                tracing::info!("logout without a readable local session: ending the provider's")
            }
        }
        self.expire_session_cookie(cookies);
        self.end_session_url(user.map(|u| u.id_token).as_deref())
            .await
    }

    /// Tells the browser to drop the session cookie, whatever it holds.
    pub fn expire_session_cookie(&self, cookies: &Cookies) {
        let settings = &self.settings.cookies;
        let mut cookie = Cookie::build((settings.session_name(), ""))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(settings.secure)
            .max_age(time::Duration::ZERO)
            .build();
        cookie.make_removal();
        cookies.add(cookie);
    }

    /// FusionAuth's end-session URL: `client_id`, `post_logout_redirect_uri`, a `state`, and
    /// `id_token_hint` when known. The endpoint comes from discovery; when discovery cannot be
    /// reached, from FusionAuth's documented path below the issuer, so that the browser,
    /// which may well reach FusionAuth, still ends the SSO session.
    pub async fn end_session_url(&self, id_token: Option<&str>) -> Url {
        let discovered = match self.provider.metadata().await {
            Ok(metadata) => metadata
                .additional_metadata()
                .end_session_endpoint
                .as_ref()
                .map(|endpoint| endpoint.url().clone()),
            Err(e) => {
                tracing::warn!(error = %e, "discovery unavailable at logout: using FusionAuth's logout path");
                None
            }
        };
        let endpoint = discovered
            .or_else(|| self.settings.fallback_end_session_endpoint())
            .unwrap_or_else(|| self.settings.post_logout_redirect_uri.clone());
        let mut request =
            openidconnect::LogoutRequest::from(openidconnect::EndSessionUrl::from_url(endpoint))
                .set_client_id(openidconnect::ClientId::new(
                    self.settings.client_id.clone(),
                ))
                .set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(
                    self.settings.post_logout_redirect_uri.clone(),
                ))
                .set_state(CsrfToken::new_random());
        if let Some(id_token) = id_token {
            match id_token.parse::<CoreIdToken>() {
                Ok(id_token) => request = request.set_id_token_hint(&id_token),
                Err(e) => {
                    tracing::warn!(error = %e, "stored id_token does not parse; logging out without a hint")
                }
            }
        }
        request.http_get_url()
    }
}

/// `GET /logout`: FusionAuth's logoutURL and the post-logout redirect.
///
/// Loaded in an iframe (`Sec-Fetch-Dest: iframe`, FusionAuth's front-channel logout): ends
/// the local session and answers a tiny page, not the app and its wasm. Anything else (the
/// post-logout return, a link from anywhere): a redirect to a clean `/`, with no effect on
/// the session. The session cookie is SameSite=Lax, so the iframe carries it only when
/// FusionAuth is on the same site as the app (README).
pub async fn front_channel_logout(
    State(auth): State<Arc<AuthService>>,
    headers: HeaderMap,
    session: Session,
    cookies: Cookies,
) -> Response {
    let in_iframe = headers
        .get("sec-fetch-dest")
        .is_some_and(|dest| dest.as_bytes() == b"iframe");
    if !in_iframe {
        return (
            StatusCode::FOUND,
            [
                (header::LOCATION, HeaderValue::from_static("/")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response();
    }
    metrics::logout("front_channel");
    if let Some(user) = AuthSession::new(session).end().await {
        metrics::sessions_ended(metrics::Ended::Logout, 1);
        tracing::info!(sub = ?user.claims.get("sub"), "logged out by the provider's logout page");
        auth.expire_session_cookie(&cookies);
    }
    let frame_ancestors = auth
        .settings()
        .issuer_origin()
        .unwrap_or_else(|| "'none'".to_owned());
    let policy = format!("default-src 'none'; frame-ancestors {frame_ancestors}");
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&policy)
                    .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
            ),
        ],
        FRONT_CHANNEL_PAGE,
    )
        .into_response()
}

/// What FusionAuth's hidden iframe receives: nobody sees it, so no styles and no scripts.
const FRONT_CHANNEL_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Logged out</title></head><body><p>Logged out.</p></body></html>\n";
