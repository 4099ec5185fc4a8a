//! Login, callback and logout: the server functions the pages call, and the types they share
//! with the browser. The server-side engine is the `axum-oidc-sessions` crate's `oidc`
//! module, re-exported here under `ssr`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AuthError;

/// [`AuthError`] as the server functions return it. Leptos's `FromServerFnError` cannot be
/// implemented for the crate's type here (the orphan rule), so this wraps it; it travels as
/// the same JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(transparent)]
#[error(transparent)]
pub struct AuthFnError(pub AuthError);

impl From<AuthError> for AuthFnError {
    fn from(error: AuthError) -> Self {
        Self(error)
    }
}

impl From<AuthFnError> for AuthError {
    fn from(error: AuthFnError) -> Self {
        error.0
    }
}

impl leptos::server_fn::error::FromServerFnError for AuthFnError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        tracing::error!(error = %value, "server function transport error");
        #[cfg(not(feature = "ssr"))]
        let _ = value;
        Self(AuthError::Unexpected)
    }
}

/// The server-side engine, from the `axum-oidc-sessions` crate (ssr only).
#[cfg(feature = "ssr")]
pub use axum_oidc_sessions::oidc::{
    flow, logout, pending, provider, refresh, return_to, session, settings, webhook,
};

/// The query string the provider sends to `/callback` (the crate's; also in the browser).
pub use axum_oidc_sessions::callback::CallbackParams;

/// What the profile view shows: the id_token's claims, never a token. Prepared on the server
/// (the view is rendered there only; the browser gets HTML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    /// The id_token's claims, in the token's order, for the table.
    pub claims: Vec<Claim>,
    /// The same claims as pretty-printed JSON, for the JSON view.
    pub claims_json: String,
    /// When the login ends, RFC 3339 (UTC).
    pub session_expires_at: String,
}

/// One claim of the id_token, as the table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub name: String,
    /// The value as text: a string as it is, anything else as JSON.
    pub value: String,
    /// For the time claims (`exp`, `iat`, `auth_time`, …): the date the number stands for.
    pub date: Option<String>,
}

/// Starts a login (the `/login` page runs it while rendering on the server).
#[server(prefix = "/auth", endpoint = "start_login")]
pub async fn start_login(return_to: Option<String>) -> Result<(), AuthFnError> {
    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let url = auth.start_login(&cookies, return_to.as_deref()).await?;
    ssr::redirect(url.as_str());
    Ok(())
}

/// Completes a login (the `/callback` page runs it while rendering on the server).
#[server(prefix = "/auth", endpoint = "finish_login")]
pub async fn finish_login(params: CallbackParams) -> Result<(), AuthFnError> {
    let auth = ssr::auth()?;
    let (session, cookies) = (ssr::session().await?, ssr::cookies().await?);
    let return_to = auth.finish_login(&session, &cookies, params).await?;
    ssr::redirect(&return_to);
    Ok(())
}

/// The Logout button: ends the local session, expires the cookie, and sends the browser to
/// the provider's logout, which comes back through `/logout` to `/`. It never fails: even
/// without a readable local session, the provider's session must end.
#[server(prefix = "/auth", endpoint = "logout")]
pub async fn logout() -> Result<(), AuthFnError> {
    let auth = ssr::auth()?;
    let cookies = ssr::cookies().await?;
    let session = ssr::session().await.ok();
    let url = auth.logout(session.as_ref(), &cookies).await;
    ssr::redirect(url.as_str());
    Ok(())
}

/// Who is at the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Visitor {
    Guest,
    /// A guest whose session FusionAuth ended (the refresh token was refused).
    SessionEnded,
    LoggedIn(Profile),
}

/// The visitor of this request; a logged-in user's tokens are refreshed first when they are
/// about to expire.
#[server(prefix = "/auth", endpoint = "me")]
pub async fn current_user() -> Result<Visitor, AuthFnError> {
    use refresh::Viewer;
    let auth = ssr::auth()?;
    let session = ssr::session().await?;
    Ok(match auth.viewer(&session).await? {
        Viewer::Guest => Visitor::Guest,
        Viewer::SessionEnded => {
            auth.expire_session_cookie(&ssr::cookies().await?);
            Visitor::SessionEnded
        }
        Viewer::User(user) => Visitor::LoggedIn(ssr::profile(&user)),
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Glue between the server functions and the axum request they run in.

    use std::sync::Arc;

    use http::{header, HeaderValue, StatusCode};
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use serde_json::Value;

    use super::{
        flow::AuthService,
        session::{AuthSession, LoggedInUser},
        Claim, Profile,
    };
    use crate::error::AuthError;

    /// The login service.
    pub fn auth() -> Result<Arc<AuthService>, AuthError> {
        use_context::<Arc<AuthService>>().ok_or_else(|| {
            tracing::error!("AuthService missing from the Leptos context");
            AuthError::Unexpected
        })
    }

    /// This request's session.
    pub async fn session() -> Result<AuthSession, AuthError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map(AuthSession::new)
            .map_err(|e| {
                tracing::error!(error = %e, "no session on the request (is the session layer installed?)");
                AuthError::SessionStore
            })
    }

    /// This request's cookie jar (the one the session layer parses and writes back).
    pub async fn cookies() -> Result<tower_cookies::Cookies, AuthError> {
        leptos_axum::extract::<tower_cookies::Cookies>()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "no cookie jar on the request (is the session layer installed?)");
                AuthError::Unexpected
            })
    }

    /// Redirects the browser, for page navigations and plain form posts alike:
    /// 302 for a GET, 303 (so the browser follows with a GET) otherwise.
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

    /// The view of a logged-in user that may reach the browser.
    pub fn profile(user: &LoggedInUser) -> Profile {
        let text = |key: &str| {
            user.claims
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let email = text("email")
            .or_else(|| text("preferred_username"))
            .or_else(|| text("sub"))
            .unwrap_or_default();
        let claims = user
            .claims
            .iter()
            .map(|(name, value)| Claim {
                name: name.clone(),
                value: match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                },
                date: TIME_CLAIMS
                    .contains(&name.as_str())
                    .then(|| value.as_i64().and_then(readable_date))
                    .flatten(),
            })
            .collect();
        Profile {
            email,
            claims,
            claims_json: serde_json::to_string_pretty(&user.claims).unwrap_or_default(),
            session_expires_at: rfc3339(user.session_expires_at).unwrap_or_default(),
        }
    }

    /// Claims that hold seconds since 1970 (OIDC Core 2 and 5.1).
    const TIME_CLAIMS: [&str; 5] = ["exp", "iat", "auth_time", "nbf", "updated_at"];

    fn rfc3339(unix: i64) -> Option<String> {
        time::OffsetDateTime::from_unix_timestamp(unix)
            .ok()?
            .format(&time::format_description::well_known::Rfc3339)
            .ok()
    }

    /// `2026-11-28 10:39:46 UTC`.
    fn readable_date(unix: i64) -> Option<String> {
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
        time::OffsetDateTime::from_unix_timestamp(unix)
            .ok()?
            .format(&format)
            .ok()
    }
}
