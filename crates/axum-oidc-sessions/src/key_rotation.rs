//! Secret key rotation for the session cookie: a cookie signed with the key from
//! `APP_SECRET_KEY_PREVIOUS` is re-signed with the current key, in the request (so the session
//! layer, which knows one key only, accepts it) and in the response (so the browser keeps the
//! new signature). Nobody is logged out by a rotation; once every browser has been back, the
//! previous key can go.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderValue};
use tower_cookies::cookie::{Cookie, CookieJar, Key, SameSite};

/// The session cookie's name and flags, and the keys it may be signed with.
pub(crate) struct PreviousSessionKey {
    pub(crate) name: String,
    pub(crate) current: Key,
    pub(crate) previous: Key,
    pub(crate) secure: bool,
}

/// With no previous key configured, this layer does nothing.
pub(crate) async fn resign_session_cookie(
    State(keys): State<Option<Arc<PreviousSessionKey>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(keys) = keys else {
        return next.run(request).await;
    };
    let Some(resigned) = resigned_value(&keys, request.headers()) else {
        return next.run(request).await;
    };
    let rewritten = rewrite_cookie_header(request.headers(), &keys.name, &resigned);
    request.headers_mut().remove(header::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&rewritten) {
        request.headers_mut().insert(header::COOKIE, value);
    }
    let mut response = next.run(request).await;
    let already_set = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| {
            v.to_str()
                .is_ok_and(|v| v.starts_with(&format!("{}=", keys.name)))
        });
    if !already_set {
        let cookie = Cookie::build((keys.name.clone(), resigned))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(keys.secure)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    tracing::info!("session cookie signed with the previous secret key: re-signed");
    response
}

fn request_cookies(headers: &http::HeaderMap) -> impl Iterator<Item = Cookie<'static>> + '_ {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse_encoded(v.to_owned()))
        .filter_map(Result::ok)
}

/// The session cookie's value signed with the current key, when the request's cookie carries
/// a valid signature of the previous key only.
fn resigned_value(keys: &PreviousSessionKey, headers: &http::HeaderMap) -> Option<String> {
    let cookie = request_cookies(headers).find(|c| c.name() == keys.name)?;
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    if jar.signed(&keys.current).get(&keys.name).is_some() {
        return None;
    }
    let plain = jar.signed(&keys.previous).get(&keys.name)?;
    let mut fresh = CookieJar::new();
    fresh
        .signed_mut(&keys.current)
        .add(Cookie::new(keys.name.clone(), plain.value().to_owned()));
    fresh.get(&keys.name).map(|c| c.value().to_owned())
}

fn rewrite_cookie_header(headers: &http::HeaderMap, name: &str, value: &str) -> String {
    request_cookies(headers)
        .map(|c| {
            if c.name() == name {
                format!("{name}={value}")
            } else {
                c.encoded().to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
