//! Extractors for handlers behind [`OidcSessions::layer`]:
//! - [`Viewer`]: who is at the browser (guest, a session the provider ended, or a user,
//!   with tokens refreshed first when they are about to expire);
//! - [`LoggedIn`]: the user, or a redirect through the login and back (a guard).

use axum::{extract::FromRequestParts, response::Response};
use http::{request::Parts, StatusCode};
use tower_cookies::Cookies;
use tower_sessions::Session;

/// Who is at the browser (also `oidc::refresh::Viewer`): an extractor.
pub use crate::oidc::refresh::Viewer;
use crate::{
    error::AuthError,
    oidc::{session::AuthSession, session::LoggedInUser},
    routes::redirect,
    OidcSessions,
};

/// The handle the layer put into the request, or the error page when the layer is missing.
fn handle(parts: &Parts) -> Result<OidcSessions, Box<Response>> {
    parts
        .extensions
        .get::<OidcSessions>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("OidcSessions::layer() is not installed around this route");
            Box::new(crate::config::plain_error_page(AuthError::Unexpected))
        })
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let handle = handle(parts).map_err(|page| *page)?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| handle.error_page(AuthError::SessionStore))?;
        let viewer = handle
            .service()
            .viewer(&AuthSession::new(session))
            .await
            .map_err(|error| handle.error_page(error))?;
        if matches!(viewer, Viewer::SessionEnded) {
            if let Some(cookies) = parts.extensions.get::<Cookies>() {
                handle.service().expire_session_cookie(cookies);
            }
        }
        Ok(viewer)
    }
}

/// A logged-in user. A guest (or a user whose session the provider ended) is sent to the
/// login, which brings them back to this page.
pub struct LoggedIn(pub LoggedInUser);

impl<S: Send + Sync> FromRequestParts<S> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Viewer::from_request_parts(parts, state).await? {
            Viewer::User(user) => Ok(Self(user)),
            Viewer::Guest | Viewer::SessionEnded => {
                let handle = handle(parts).map_err(|page| *page)?;
                let here = parts.uri.path_and_query().map_or("/", |path| path.as_str());
                let login = format!(
                    "{}?{}",
                    handle.service().settings().cookies.login_path,
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("return_to", here)
                        .finish()
                );
                Err(redirect(StatusCode::FOUND, &login))
            }
        }
    }
}
