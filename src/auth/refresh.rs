//! Keeping a logged-in session's tokens fresh, the way FusionAuth expects.
//!
//! When a request needs the user and the access token expires within `refresh_skew` (or is
//! past half its life, for short-lived tokens), the app redeems the refresh token once, under a lease in the session store that every replica
//! honours (Redis; in process under SQLite). Requests of the same session that arrive
//! meanwhile wait for that refresh and reuse its result: one token request per expiry,
//! however many requests and replicas. FusionAuth's `OneTimeUse` policy rotates the refresh
//! token, so the new one is stored; `invalid_grant` (revoked, expired, user deactivated) ends
//! the session; a provider that cannot be reached leaves the user logged in with the tokens
//! they have, and the next request tries again after `provider_retry_after`.

use std::time::{Duration, Instant};

use openidconnect::{
    core::CoreErrorResponseType, OAuth2TokenResponse, RefreshToken, RequestTokenError,
    TokenResponse,
};

use super::{
    flow::{now, AuthService, Verification},
    provider::error_chain,
    session::{AuthSession, LoggedInUser},
};
use crate::error::AuthError;

/// How often a request waiting for another's refresh looks again.
const WAIT_STEP: Duration = Duration::from_millis(25);

/// Who is at the browser, as the pages see it.
pub enum Viewer {
    Guest,
    /// The session ended at the provider (the refresh token was refused).
    SessionEnded,
    User(LoggedInUser),
}

impl AuthService {
    /// This session's user, with tokens refreshed first when they are about to expire.
    pub async fn viewer(&self, session: &AuthSession) -> Result<Viewer, AuthError> {
        let Some(user) = session.user().await? else {
            return Ok(Viewer::Guest);
        };
        if !self.needs_refresh(&user) || self.provider.token_endpoint_failing() {
            return Ok(Viewer::User(user));
        }
        let Some(id) = session.id() else {
            return Ok(Viewer::User(user));
        };
        // The lease outlives the slowest token request the HTTP client allows.
        let lease_ttl = self.settings.provider_timeout + Duration::from_secs(5);
        let give_up = Instant::now() + lease_ttl;
        loop {
            let lease = match self
                .control
                .try_lease(&format!("refresh:{id}"), lease_ttl)
                .await
            {
                Ok(lease) => lease,
                Err(e) => {
                    tracing::error!(error = %e, "cannot take the refresh lease");
                    return Err(AuthError::SessionStore);
                }
            };
            if let Some(lease) = lease {
                let outcome = self.refresh_holding_lease(session).await;
                self.control.release(&lease).await;
                return outcome;
            }
            // Another request (on this replica or another) is refreshing: wait for it.
            tokio::time::sleep(WAIT_STEP).await;
            session.reload().await?;
            match session.user().await? {
                None => return Ok(Viewer::SessionEnded),
                Some(fresh) if !self.needs_refresh(&fresh) => return Ok(Viewer::User(fresh)),
                Some(stale)
                    if Instant::now() >= give_up || self.provider.token_endpoint_failing() =>
                {
                    return Ok(Viewer::User(stale));
                }
                Some(_) => {}
            }
        }
    }

    fn needs_refresh(&self, user: &LoggedInUser) -> bool {
        user.refresh_token.is_some() && now() >= user.refresh_after
    }

    /// The refresh itself. A provider that cannot be reached keeps the tokens the user has.
    async fn refresh_holding_lease(&self, session: &AuthSession) -> Result<Viewer, AuthError> {
        // What the store holds now: a refresh that finished just before we took the lease
        // has already stored fresh tokens (and rotated the refresh token we were holding).
        session.reload().await?;
        let Some(user) = session.user().await? else {
            return Ok(Viewer::SessionEnded);
        };
        if !self.needs_refresh(&user) {
            return Ok(Viewer::User(user));
        }
        let Some(refresh_token) = user.refresh_token.clone() else {
            return Ok(Viewer::User(user));
        };
        match self.redeem_refresh_token(&user, refresh_token).await {
            Ok(refreshed) => {
                session.replace_user(&refreshed).await?;
                tracing::info!(sub = ?refreshed.claims.get("sub"), "tokens refreshed");
                Ok(Viewer::User(refreshed))
            }
            Err(RefreshFailure::Refused) => {
                session.end().await;
                tracing::info!(sub = ?user.claims.get("sub"), "refresh token refused: session ended");
                Ok(Viewer::SessionEnded)
            }
            Err(RefreshFailure::Failed) => {
                self.provider.token_endpoint_failed();
                Ok(Viewer::User(user))
            }
        }
    }

    async fn redeem_refresh_token(
        &self,
        user: &LoggedInUser,
        refresh_token: String,
    ) -> Result<LoggedInUser, RefreshFailure> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(|_| RefreshFailure::Failed)?;
        let client = self.provider.client(&metadata);
        let response = client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.clone()))
            .map_err(|e| {
                tracing::error!(error = %e, "the provider advertises no token endpoint");
                RefreshFailure::Failed
            })?
            .request_async(self.provider.http())
            .await
            .map_err(refresh_error)?;

        let access_token = response.access_token();
        let mut refreshed = LoggedInUser {
            access_token: access_token.secret().clone(),
            // OneTimeUse hands out a new refresh token; Reusable may send none back.
            refresh_token: Some(
                response
                    .refresh_token()
                    .map_or(refresh_token, |t| t.secret().clone()),
            ),
            refresh_after: self.refresh_after(response.expires_in()),
            ..user.clone()
        };
        if let Some(id_token) = response.id_token() {
            // A refreshed id_token is verified like the first (no nonce: OIDC Core 12.2), and
            // must name the same user.
            let claims = self
                .verify(
                    &client,
                    id_token,
                    |_: Option<&openidconnect::Nonce>| Ok(()),
                    access_token,
                )
                .map_err(|failure| {
                    // Logs why.
                    let _ = Verification::into_auth_error(failure);
                    RefreshFailure::Failed
                })?;
            if claims.get("sub") != user.claims.get("sub") {
                tracing::error!("refreshed id_token names another user: keeping the old tokens");
                return Err(RefreshFailure::Failed);
            }
            refreshed.claims = claims;
            refreshed.id_token = id_token.to_string();
        }
        Ok(refreshed)
    }
}

enum RefreshFailure {
    /// `invalid_grant`: the refresh token is revoked or expired, or the user can no longer
    /// log in. The session ends.
    Refused,
    /// The provider could not be reached, or gave a bad answer: logged, the tokens kept, and
    /// no refresh tried again for `provider_retry_after`.
    Failed,
}

fn refresh_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> RefreshFailure {
    use super::provider::provider_text;
    match &error {
        RequestTokenError::ServerResponse(response)
            if *response.error() == CoreErrorResponseType::InvalidGrant =>
        {
            tracing::info!(error = %provider_text(&response.to_string()), "the provider refused the refresh token");
            RefreshFailure::Refused
        }
        RequestTokenError::ServerResponse(response) => {
            tracing::error!(error = %provider_text(&response.to_string()), "the provider refused the refresh request");
            RefreshFailure::Failed
        }
        RequestTokenError::Request(_) => {
            tracing::warn!(error = %error_chain(&error), "refresh request failed: keeping the current tokens");
            RefreshFailure::Failed
        }
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => {
            tracing::error!(error = %error_chain(&error), "refresh response is invalid");
            RefreshFailure::Failed
        }
    }
}
