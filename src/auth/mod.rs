//! Login, callback and logout: the `axum-oidc-sessions` crate's server functions (feature
//! `leptos`), which the pages call, and what the profile view makes of the user's claims.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The query string the provider sends to `/callback` (the crate's; also in the browser).
pub use axum_oidc_sessions::callback::CallbackParams;
/// The server functions and the types they share with the browser.
pub use axum_oidc_sessions::leptos::{
    current_user, finish_login, logout, start_login, UserView, Visitor,
};
/// The server-side engine, from the `axum-oidc-sessions` crate (ssr only).
#[cfg(feature = "ssr")]
pub use axum_oidc_sessions::oidc::{flow, settings};

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

/// What the profile view shows of a logged-in user: their claims, as text and dates.
pub fn profile(user: &UserView) -> Profile {
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
