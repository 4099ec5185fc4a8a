//! Leptos server functions for the login (feature `leptos`, in the browser and on the server;
//! their server side needs `leptos-ssr`): [`start_login`] and [`finish_login`] for the login
//! and callback pages, [`logout`] for the Logout button, [`current_user`] for every page.
//! They live under [`SERVER_FN_PREFIX`], which [`OidcSessions::layer`](crate::OidcSessions::layer)
//! guards against other sites. Provide the login to them with [`ssr::provide`] in the Leptos
//! context of each request.
//!
//! [`AuthError`] is their error type: it travels to the browser as JSON, as what it is.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{callback::CallbackParams, error::AuthError};

/// Where the server functions are served (their paths' directory).
pub const SERVER_FN_PREFIX: &str = "/auth/";

impl leptos::server_fn::error::FromServerFnError for AuthError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        #[cfg(feature = "leptos-ssr")]
        tracing::error!(error = %value, "server function transport error");
        #[cfg(not(feature = "leptos-ssr"))]
        let _ = value;
        AuthError::Unexpected
    }
}

/// Who is at the browser, as a page sees it: never a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Visitor {
    /// Nobody is logged in.
    Guest,
    /// A guest whose session the provider ended (the refresh token was refused).
    SessionEnded,
    /// A logged-in user.
    User(UserView),
}

/// What a page may know of the logged-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    /// The id_token's claims, in the token's order.
    pub claims: Map<String, Value>,
    /// Unix seconds at which the login ends.
    pub session_expires_at: i64,
}

impl UserView {
    /// A claim that is a string (`email`, `sub`, `name`, …).
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// Starts a login: sends the browser to the provider (run it while rendering the login page
/// on the server). `return_to` is a path on this site to come back to.
#[server(prefix = "/auth", endpoint = "start_login")]
pub async fn start_login(return_to: Option<String>) -> Result<(), AuthError> {
    let auth = ssr::service()?;
    let cookies = ssr::cookies().await?;
    let url = auth.start_login(&cookies, return_to.as_deref()).await?;
    ssr::redirect(url.as_str());
    Ok(())
}

/// Completes a login at the callback: sends the browser back where the login started.
#[server(prefix = "/auth", endpoint = "finish_login")]
pub async fn finish_login(params: CallbackParams) -> Result<(), AuthError> {
    let auth = ssr::service()?;
    let (session, cookies) = (ssr::session().await?, ssr::cookies().await?);
    let return_to = auth.finish_login(&session, &cookies, params).await?;
    ssr::redirect(&return_to);
    Ok(())
}

/// The Logout button: ends the local session, expires the cookie, and sends the browser to
/// the provider's logout. It never fails: even without a readable local session, the
/// provider's session must end.
#[server(prefix = "/auth", endpoint = "logout")]
pub async fn logout() -> Result<(), AuthError> {
    let auth = ssr::service()?;
    let cookies = ssr::cookies().await?;
    let session = ssr::session().await.ok();
    let url = auth.logout(session.as_ref(), &cookies).await;
    ssr::redirect(url.as_str());
    Ok(())
}

/// The visitor of this request; a user's tokens are refreshed first when they are about to
/// expire.
#[server(prefix = "/auth", endpoint = "me")]
pub async fn current_user() -> Result<Visitor, AuthError> {
    use crate::oidc::refresh::Viewer;
    let auth = ssr::service()?;
    let session = ssr::session().await?;
    Ok(match auth.viewer(&session).await? {
        Viewer::Guest => Visitor::Guest,
        Viewer::SessionEnded => {
            auth.expire_session_cookie(&ssr::cookies().await?);
            Visitor::SessionEnded
        }
        Viewer::User(user) => Visitor::User(UserView {
            claims: user.claims,
            session_expires_at: user.session_expires_at,
        }),
    })
}

/// Glue between the server functions and the axum request they run in.
#[cfg(feature = "leptos-ssr")]
pub mod ssr {
    use std::sync::Arc;

    use http::{header, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;

    use crate::{
        error::AuthError,
        oidc::{flow::AuthService, session::AuthSession},
        OidcSessions,
    };

    /// Makes the login available to the server functions: call it in the Leptos context of
    /// every request (`leptos_routes_with_context`).
    pub fn provide(handle: &OidcSessions) {
        provide_context(handle.service().clone());
    }

    /// [`provide`] as the context function `leptos_routes_with_context` takes.
    pub fn context(handle: &OidcSessions) -> impl Fn() + Clone + Send + Sync + 'static {
        let handle = handle.clone();
        move || provide(&handle)
    }

    /// The login service of this request's context.
    pub fn service() -> Result<Arc<AuthService>, AuthError> {
        use_context::<Arc<AuthService>>().ok_or_else(|| {
            tracing::error!("the login is missing from the Leptos context (ssr::provide)");
            AuthError::Unexpected
        })
    }

    /// This request's session.
    pub async fn session() -> Result<AuthSession, AuthError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map(AuthSession::new)
            .map_err(|e| {
                tracing::error!(error = %e, "no session on the request (is OidcSessions::layer installed?)");
                AuthError::SessionStore
            })
    }

    /// This request's cookie jar (the one the session layer parses and writes back).
    pub async fn cookies() -> Result<tower_cookies::Cookies, AuthError> {
        leptos_axum::extract::<tower_cookies::Cookies>()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "no cookie jar on the request (is OidcSessions::layer installed?)");
                AuthError::Unexpected
            })
    }

    /// Redirects the browser, for page navigations and plain form posts alike: 302 for a
    /// GET, 303 (so the browser follows with a GET) otherwise.
    pub fn redirect(location: &str) {
        let (Some(parts), Some(response)) = (
            use_context::<http::request::Parts>(),
            use_context::<ResponseOptions>(),
        ) else {
            tracing::error!("redirect outside of a request");
            return;
        };
        match HeaderValue::from_str(location) {
            Ok(value) => {
                response.insert_header(header::LOCATION, value);
                response.set_status(if parts.method == http::Method::GET {
                    StatusCode::FOUND
                } else {
                    StatusCode::SEE_OTHER
                });
            }
            Err(e) => tracing::error!(error = %e, "redirect location is not a valid header value"),
        }
    }
}

#[cfg(all(test, feature = "leptos-ssr"))]
mod tests {
    use leptos::server_fn::ServerFn;

    use super::*;

    #[test]
    fn every_server_function_is_under_the_guarded_prefix() {
        for path in [
            <StartLogin as ServerFn>::PATH,
            <FinishLogin as ServerFn>::PATH,
            <Logout as ServerFn>::PATH,
            <CurrentUser as ServerFn>::PATH,
        ] {
            assert!(path.starts_with(SERVER_FN_PREFIX), "{path} is not guarded");
        }
    }
}
