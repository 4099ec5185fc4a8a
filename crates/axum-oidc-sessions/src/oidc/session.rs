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
/// [`LoggedInUser`]'s shape keeps this key and raises [`SCHEMA`]: sessions of an older shape
/// are dropped on read, sessions of a newer one are left for the replicas that read them.
const USER: &str = "auth.user";
/// The version of [`LoggedInUser`]'s stored shape, kept beside it (none: version 1).
const SCHEMA_KEY: &str = "auth.schema";
const SCHEMA: u64 = 1;

/// The user (`sub`) a stored session belongs to, if it is a logged-in session: how the
/// session store indexes sessions by user without knowing their shape.
pub fn user_of(data: &std::collections::HashMap<String, Value>) -> Option<&str> {
    data.get(USER)?.pointer("/claims/sub")?.as_str()
}

/// The logged-in user: the verified id_token claims and the tokens, kept server-side.
#[derive(Clone, Serialize, Deserialize)]
pub struct LoggedInUser {
    /// The id_token's claims, in the token's order.
    pub claims: Map<String, Value>,
    /// The id_token itself (the `id_token_hint` at logout).
    pub id_token: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token, when the provider gave one (scope `offline_access`).
    pub refresh_token: Option<String>,
    /// Unix seconds from which the access token is refreshed before use: `REFRESH_SKEW_SECS`
    /// before it expires, or half way through its life when that is shorter (a short-lived
    /// token must not be refreshed on every request). 0: refresh at once.
    #[serde(default)]
    pub refresh_after: i64,
    /// Unix seconds at which this login ends.
    pub session_expires_at: i64,
}

impl LoggedInUser {
    /// A claim that is a string (`email`, `sub`, `name`, …).
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
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

impl AuthSession {
    /// This request's session (tower-sessions').
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// The logged-in user, or `None` for a guest. A session this release cannot read is
    /// treated as no session for this request. It is deleted (and the user simply logs in
    /// again) only when it is provably garbage: written by an older release in a shape
    /// this one no longer reads. One written by a newer release, or sealed with a key this
    /// server does not have yet (a rolling upgrade or key rotation), is left in the store for
    /// the replicas that can read it, and the browser keeps its cookie.
    pub async fn user(&self) -> Result<Option<LoggedInUser>, AuthError> {
        match self.0.get::<LoggedInUser>(USER).await {
            Ok(user) => Ok(user),
            Err(session::Error::Store(session_store::Error::Decode(why))) => {
                tracing::info!(why, "a stored session this server cannot open: no session for this request, left in the store");
                Ok(None)
            }
            Err(session::Error::SerdeJson(e)) => {
                let schema = self.0.get::<u64>(SCHEMA_KEY).await.ok().flatten();
                if schema.is_some_and(|schema| schema > SCHEMA) {
                    tracing::info!(?schema, "a session written by a newer release: no session for this request, left in the store");
                } else {
                    tracing::warn!(error = %e, "stored session has a shape this release no longer reads: dropping it");
                    match self.0.flush().await {
                        Ok(()) => {
                            crate::metrics::sessions_ended(crate::metrics::Ended::Unreadable, 1)
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "could not delete the unreadable session")
                        }
                    }
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
            match self.0.cycle_id().await {
                Ok(()) => {}
                // The browser's old session is one this server cannot open: the login
                // replaces it all the same.
                Err(session::Error::Store(session_store::Error::Decode(_))) => self
                    .0
                    .flush()
                    .await
                    .map_err(store_error("replace session"))?,
                Err(e) => return Err(store_error("cycle id")(e)),
            }
        }
        self.put(user).await
    }

    async fn put(&self, user: &LoggedInUser) -> Result<(), AuthError> {
        let until = OffsetDateTime::from_unix_timestamp(user.session_expires_at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        self.0.set_expiry(Some(Expiry::AtDateTime(until)));
        self.0
            .insert(SCHEMA_KEY, SCHEMA)
            .await
            .map_err(store_error("insert schema"))?;
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
