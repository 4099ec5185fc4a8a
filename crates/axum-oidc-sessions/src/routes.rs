//! The login's own routes, for [`OidcSessions::routes`]: start, callback, logout both ways,
//! and FusionAuth's webhooks. Failures are answered with the app's error page
//! ([`OidcConfigBuilder::error_page`](crate::config::OidcConfigBuilder::error_page)).

use axum::{
    extract::{RawQuery, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use http::{header, HeaderValue, StatusCode};
use tower_cookies::Cookies;
use tower_sessions::Session;

use crate::{
    oidc::{flow::CallbackParams, logout::front_channel_logout, session::AuthSession},
    OidcSessions,
};

/// `login`, `callback`, `logout` (GET: front-channel, POST: the Logout button) and, with
/// the `fusionauth` feature, the webhook route.
pub(crate) fn all<S: Clone + Send + Sync + 'static>(handle: &OidcSessions) -> Router<S> {
    let settings = handle.service().settings();
    let (login, callback) = (
        settings.cookies.login_path.clone(),
        settings.cookies.callback_path.clone(),
    );
    let (on_login, on_callback, on_logout) = (handle.clone(), handle.clone(), handle.clone());
    provider(handle)
        .route(
            &login,
            get(move |query: RawQuery, cookies: Cookies| start(on_login, query, cookies)),
        )
        .route(
            &callback,
            get(move |query: RawQuery, session: Session, cookies: Cookies| {
                finish(on_callback, query, session, cookies)
            }),
        )
        .route(
            &settings.logout_path,
            post(move |session: Session, cookies: Cookies| logout(on_logout, session, cookies)),
        )
}

/// The routes only the provider calls: the front-channel logout (GET on the logout path) and
/// FusionAuth's webhooks. For apps that start logins and finish them in pages of their own
/// (Leptos server functions).
pub(crate) fn provider<S: Clone + Send + Sync + 'static>(handle: &OidcSessions) -> Router<S> {
    let settings = handle.service().settings();
    let service = handle.service().clone();
    let router = Router::new().route(
        &settings.logout_path,
        get(
            move |headers: HeaderMap, session: Session, cookies: Cookies| {
                front_channel_logout(State(service), headers, session, cookies)
            },
        ),
    );
    #[cfg(feature = "fusionauth")]
    let router = {
        let service = handle.service().clone();
        router.route(
            &settings.webhook_path,
            post(move |headers: HeaderMap, body: axum::body::Bytes| {
                crate::oidc::webhook::receive(State(service), headers, body)
            }),
        )
    };
    router
}

/// The first value of each parameter of a query string.
fn first(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// `GET /login?return_to=/path`: to the provider, or the error page.
async fn start(handle: OidcSessions, RawQuery(query): RawQuery, cookies: Cookies) -> Response {
    let return_to = first(query.as_deref(), "return_to");
    match handle
        .service()
        .start_login(&cookies, return_to.as_deref())
        .await
    {
        Ok(url) => redirect(StatusCode::FOUND, url.as_str()),
        Err(error) => handle.error_page(error),
    }
}

/// `GET /callback?code=…&state=…`: back to where the login started, or the error page.
async fn finish(
    handle: OidcSessions,
    RawQuery(query): RawQuery,
    session: Session,
    cookies: Cookies,
) -> Response {
    let query = query.as_deref();
    let params = CallbackParams {
        code: first(query, "code"),
        state: first(query, "state"),
        iss: first(query, "iss"),
        error: first(query, "error"),
        error_description: first(query, "error_description"),
    };
    match handle
        .service()
        .finish_login(&AuthSession::new(session), &cookies, params)
        .await
    {
        Ok(return_to) => redirect(StatusCode::FOUND, &return_to),
        Err(error) => handle.error_page(error),
    }
}

/// `POST /logout` (same origin only): ends the session and sends the browser to the
/// provider's logout.
async fn logout(handle: OidcSessions, session: Session, cookies: Cookies) -> Response {
    let url = handle
        .service()
        .logout(Some(&AuthSession::new(session)), &cookies)
        .await;
    redirect(StatusCode::SEE_OTHER, url.as_str())
}

/// A redirect that no cache keeps.
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            status,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "redirect location is not a valid header value");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
