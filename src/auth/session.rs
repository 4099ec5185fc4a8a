//! A typed view of the browser's session: the pending login and the logged-in user.
//!
//! Everything here lives in the server-side session store; the browser only holds the
//! signed, HttpOnly session id cookie.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tower_sessions::{Expiry, Session};

use crate::error::AuthError;

const PENDING_LOGIN: &str = "auth.pending_login";
const USER: &str = "auth.user";

/// What a started login needs at its callback. Single use: taken out of the session.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// A path on this site, already checked by `return_to::sanitize`.
    pub return_to: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("return_to", &self.return_to)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The logged-in user: the verified id_token claims and the tokens, kept server-side.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoggedInUser {
    pub claims: Map<String, Value>,
    pub id_token: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Unix seconds at which this login ends.
    pub session_expires_at: i64,
}

impl std::fmt::Debug for LoggedInUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedInUser")
            .field("sub", &self.claims.get("sub"))
            .field("session_expires_at", &self.session_expires_at)
            .finish_non_exhaustive()
    }
}

/// The session, seen through the operations the login flow needs.
#[derive(Clone)]
pub struct AuthSession(Session);

fn store_error(op: &'static str) -> impl FnOnce(tower_sessions::session::Error) -> AuthError {
    move |e| {
        tracing::error!(error = %e, op, "session store failure");
        AuthError::SessionStore
    }
}

impl AuthSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Records a started login. A guest session only lives as long as the login may take.
    pub async fn begin_login(
        &self,
        pending: &PendingLogin,
        lifetime: std::time::Duration,
    ) -> Result<(), AuthError> {
        if self.user().await?.is_none() {
            let until = OffsetDateTime::now_utc() + lifetime;
            self.0.set_expiry(Some(Expiry::AtDateTime(until)));
        }
        self.0
            .insert(PENDING_LOGIN, pending)
            .await
            .map_err(store_error("insert pending login"))
    }

    /// Takes the pending login out of the session, so a callback can use it once only.
    pub async fn take_pending_login(&self) -> Result<Option<PendingLogin>, AuthError> {
        self.0
            .remove(PENDING_LOGIN)
            .await
            .map_err(store_error("remove pending login"))
    }

    /// Stores the user under a new session id (against session fixation).
    pub async fn complete_login(&self, user: &LoggedInUser) -> Result<(), AuthError> {
        self.0.cycle_id().await.map_err(store_error("cycle id"))?;
        let until = OffsetDateTime::from_unix_timestamp(user.session_expires_at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        self.0.set_expiry(Some(Expiry::AtDateTime(until)));
        self.0
            .insert(USER, user)
            .await
            .map_err(store_error("insert user"))
    }

    pub async fn user(&self) -> Result<Option<LoggedInUser>, AuthError> {
        self.0.get(USER).await.map_err(store_error("get user"))
    }

    /// Ends the local session and deletes it from the store. Returns who was logged in.
    pub async fn end(&self) -> Result<Option<LoggedInUser>, AuthError> {
        if self.0.id().is_none() {
            // No session cookie: nothing to end (FusionAuth's front-channel iframe calls
            // `/logout` after the Logout button already ended the session).
            return Ok(None);
        }
        let user = self.user().await?;
        self.0.flush().await.map_err(store_error("flush"))?;
        Ok(user)
    }
}
