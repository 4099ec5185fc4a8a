//! A typed view of the browser's session: the logged-in user.
//!
//! The user lives in the server-side session store; the browser only holds the signed,
//! HttpOnly session id cookie. Logins in progress are not here: they are per-attempt
//! cookies (`pending.rs`), so a visitor who never finishes a login leaves no session row.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tower_sessions::{session, session_store, Expiry, Session};

use crate::error::AuthError;

/// The key of the logged-in user in the session. A new release that changes
/// [`LoggedInUser`]'s shape keeps this key: sessions of the old shape are dropped on read.
const USER: &str = "auth.user";

/// The logged-in user: the verified id_token claims and the tokens, kept server-side.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoggedInUser {
    pub claims: Map<String, Value>,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds from which the access token is refreshed before use: `REFRESH_SKEW_SECS`
    /// before it expires, or half way through its life when that is shorter (a short-lived
    /// token must not be refreshed on every request). 0: refresh at once.
    #[serde(default)]
    pub refresh_after: i64,
    /// Unix seconds at which this login ends.
    pub session_expires_at: i64,
}

impl std::fmt::Debug for LoggedInUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedInUser")
            .field("sub", &self.claims.get("sub"))
            .field("refresh_after", &self.refresh_after)
            .field("session_expires_at", &self.session_expires_at)
            .finish_non_exhaustive()
    }
}

/// The session, seen through the operations the login flow needs.
#[derive(Clone)]
pub struct AuthSession(Session);

fn store_error(op: &'static str) -> impl FnOnce(session::Error) -> AuthError {
    move |e| {
        tracing::error!(error = %e, op, "session store failure");
        AuthError::SessionStore
    }
}

/// Whether a read failed because the stored data has a shape this release cannot read
/// (written by an older or newer release), as opposed to the store failing.
fn is_unreadable(error: &session::Error) -> bool {
    matches!(
        error,
        session::Error::SerdeJson(_) | session::Error::Store(session_store::Error::Decode(_))
    )
}

impl AuthSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// The logged-in user, or `None` for a guest. A session this release cannot read is
    /// treated as no session: it is deleted, and the user simply logs in again.
    pub async fn user(&self) -> Result<Option<LoggedInUser>, AuthError> {
        match self.0.get::<LoggedInUser>(USER).await {
            Ok(user) => Ok(user),
            Err(e) if is_unreadable(&e) => {
                tracing::warn!(error = %e, "stored session has a shape this release cannot read: dropping it");
                if let Err(e) = self.0.flush().await {
                    tracing::warn!(error = %e, "could not delete the unreadable session");
                }
                Ok(None)
            }
            Err(e) => Err(store_error("get user")(e)),
        }
    }

    /// Stores the user under a new session id (against session fixation). The session
    /// layer saves it when the response is ready.
    pub async fn complete_login(&self, user: &LoggedInUser) -> Result<(), AuthError> {
        // A session without an id was never stored (the visitor had no session cookie, or
        // one the store did not know): it gets a fresh id when it is first saved, and cycling
        // would only delete what does not exist (one store round trip per login).
        if self.0.id().is_some() {
            self.0.cycle_id().await.map_err(store_error("cycle id"))?;
        }
        self.put(user).await
    }

    async fn put(&self, user: &LoggedInUser) -> Result<(), AuthError> {
        let until = OffsetDateTime::from_unix_timestamp(user.session_expires_at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        self.0.set_expiry(Some(Expiry::AtDateTime(until)));
        self.0
            .insert(USER, user)
            .await
            .map_err(store_error("insert user"))
    }

    /// Replaces the user (new tokens after a refresh) and writes the session to the store
    /// at once, so that requests waiting for this refresh, on any replica, see it.
    pub async fn replace_user(&self, user: &LoggedInUser) -> Result<(), AuthError> {
        self.put(user).await?;
        self.0
            .save()
            .await
            .map_err(store_error("save refreshed user"))
    }

    /// Reads the session again from the store (another request may have changed it).
    pub async fn reload(&self) -> Result<(), AuthError> {
        if self.0.id().is_none() {
            return Ok(());
        }
        self.0.load().await.map_err(store_error("reload"))
    }

    /// The session's id, as the store knows it.
    pub fn id(&self) -> Option<String> {
        self.0.id().map(|id| id.to_string())
    }

    /// Ends the local session: deletes it from the store and returns who was logged in.
    ///
    /// Never fails: logout must go on whatever the store says (the caller expires the
    /// cookie and sends the browser to the provider). The session is deleted without being
    /// marked modified, so the session layer does not try to save it again afterwards.
    pub async fn end(&self) -> Option<LoggedInUser> {
        self.0.id()?;
        // A store failure is logged by `user`; an unreadable session is already deleted.
        let user = self.user().await.unwrap_or(None);
        if self.0.id().is_some() {
            if let Err(e) = self.0.delete().await {
                tracing::error!(error = %e, "could not delete the session at logout; it expires by itself");
            }
        }
        user
    }
}
