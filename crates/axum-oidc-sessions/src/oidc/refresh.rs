//! Keeping a logged-in session's tokens fresh, the way FusionAuth expects.
//!
//! When a request needs the user and the access token expires within `refresh_skew` (or is
//! past half its life, for short-lived tokens), the app redeems the refresh token once, under
//! a lease in the session store that every replica honours (Redis; in process under SQLite).
//! Requests of the same session that arrive meanwhile wait for that refresh and reuse its
//! result: one token request per expiry, however many requests and replicas. FusionAuth's
//! `OneTimeUse` policy rotates the refresh token, so the new one is stored; `invalid_grant`
//! (revoked, expired, user deactivated) ends the session; a provider that cannot be reached
//! leaves the user logged in with the tokens they have, and the next request tries again
//! after `provider_retry_after`.
//!
//! Once FusionAuth has answered, the old refresh token is spent: presenting it again would
//! fail, and with `onOneTimeTokenReuse` revoke the user everywhere. So the rotated token is
//! never dropped: the refresh runs in a task of its own that finishes and stores it even when
//! the request that started it is cancelled (client gone, request timeout, proxy gave up); a
//! failed store write is retried while the lease is held; the lease is kept alive for as
//! long as the work takes; and a refreshed id_token that fails verification still has its
//! refresh token stored (with the claims the user had).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    core::CoreErrorResponseType, OAuth2TokenResponse, RefreshToken, RequestTokenError,
    TokenResponse,
};
use tracing::Instrument;

use super::{
    flow::{now, token_outcome, AuthService},
    provider::error_chain,
    session::{AuthSession, LoggedInUser},
};
use crate::{error::AuthError, metrics, store::Lease};

/// How often a request waiting for another's refresh looks again.
const WAIT_STEP: Duration = Duration::from_millis(25);
/// First pause before a failed store write of refreshed tokens is tried again (then doubled,
/// up to a second).
const STORE_RETRY_FIRST: Duration = Duration::from_millis(50);

/// Who is at the browser, as the pages see it.
pub enum Viewer {
    /// Nobody is logged in.
    Guest,
    /// The session ended at the provider (the refresh token was refused).
    SessionEnded,
    /// A logged-in user, with fresh tokens.
    User(LoggedInUser),
}

/// A task that ends when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What a redemption of the refresh token brought.
enum Redeemed {
    /// New tokens, the id_token verified (or none sent).
    Verified(LoggedInUser),
    /// New tokens whose id_token failed verification: the user as they were, with the
    /// rotated refresh token (the old one is spent).
    Unverified(LoggedInUser),
}

impl AuthService {
    /// This session's user, with tokens refreshed first when they are about to expire.
    pub async fn viewer(self: &Arc<Self>, session: &AuthSession) -> Result<Viewer, AuthError> {
        let Some(user) = session.user().await? else {
            return Ok(Viewer::Guest);
        };
        if !self.needs_refresh(&user) || self.provider.token_endpoint_failing() {
            return Ok(Viewer::User(user));
        }
        let Some(id) = session.id() else {
            return Ok(Viewer::User(user));
        };
        let waiting = Instant::now();
        let give_up = waiting + self.lease_ttl();
        loop {
            let lease = match self
                .control
                .try_lease(&format!("refresh:{id}"), self.lease_ttl())
                .await
            {
                Ok(lease) => lease,
                Err(e) => {
                    tracing::error!(error = %e, "cannot take the refresh lease");
                    return Err(AuthError::SessionStore);
                }
            };
            if let Some(lease) = lease {
                metrics::lease_waited(waiting);
                // A task of its own: dropping this request must not drop the rotated token.
                // In the request's span, so that its log lines carry the request's id.
                let refresh = self.clone().refresh_holding(session.clone(), lease);
                let refresh = tokio::spawn(refresh.in_current_span());
                return refresh.await.unwrap_or_else(|e| {
                    tracing::error!(error = %e, "the refresh task failed");
                    Err(AuthError::Unexpected)
                });
            }
            // Another request (on this replica or another) is refreshing: wait for it.
            tokio::time::sleep(WAIT_STEP).await;
            session.reload().await?;
            match session.user().await? {
                None => {
                    metrics::lease_waited(waiting);
                    return Ok(Viewer::SessionEnded);
                }
                Some(fresh) if !self.needs_refresh(&fresh) => {
                    metrics::lease_waited(waiting);
                    metrics::refresh("reused");
                    return Ok(Viewer::User(fresh));
                }
                Some(stale)
                    if Instant::now() >= give_up || self.provider.token_endpoint_failing() =>
                {
                    metrics::lease_waited(waiting);
                    return Ok(Viewer::User(stale));
                }
                Some(_) => {}
            }
        }
    }

    fn needs_refresh(&self, user: &LoggedInUser) -> bool {
        user.refresh_token.is_some() && now() >= user.refresh_after
    }

    /// How long a refresh lease lasts unless renewed: longer than the slowest token request
    /// the HTTP client allows. The holder renews it every third of that while it works.
    fn lease_ttl(&self) -> Duration {
        self.settings.provider_timeout + Duration::from_secs(5)
    }

    /// The refresh, holding `lease` and keeping it alive until the new tokens are stored.
    async fn refresh_holding(
        self: Arc<Self>,
        session: AuthSession,
        lease: Lease,
    ) -> Result<Viewer, AuthError> {
        let ttl = self.lease_ttl();
        // Stops with this function, even if it panics: a lease renewed forever would stop
        // every later refresh of this session.
        let _keep_alive = AbortOnDrop({
            let (control, lease) = (self.control.clone(), lease.clone());
            let renew = async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    match control.renew(&lease, ttl).await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("the refresh lease was lost while refreshing");
                            return;
                        }
                        Err(e) => tracing::warn!(error = %e, "could not renew the refresh lease"),
                    }
                }
            };
            tokio::spawn(renew.in_current_span())
        });
        let outcome = self.refresh_under_lease(&session).await;
        self.control.release(&lease).await;
        outcome
    }

    /// The refresh itself. A provider that cannot be reached keeps the tokens the user has.
    async fn refresh_under_lease(&self, session: &AuthSession) -> Result<Viewer, AuthError> {
        // What the store holds now: a refresh that finished just before we took the lease
        // has already stored fresh tokens (and rotated the refresh token we were holding).
        session.reload().await?;
        let Some(user) = session.user().await? else {
            return Ok(Viewer::SessionEnded);
        };
        if !self.needs_refresh(&user) {
            metrics::refresh("reused");
            return Ok(Viewer::User(user));
        }
        let Some(refresh_token) = user.refresh_token.clone() else {
            return Ok(Viewer::User(user));
        };
        let refreshed = match self.redeem_refresh_token(&user, refresh_token).await {
            Ok(Redeemed::Verified(refreshed)) => {
                metrics::refresh("refreshed");
                tracing::info!(sub = ?refreshed.claims.get("sub"), "tokens refreshed");
                refreshed
            }
            Ok(Redeemed::Unverified(kept)) => {
                metrics::refresh("provider_failed");
                self.provider.token_endpoint_failed();
                kept
            }
            Err(RefreshFailure::Refused) => {
                metrics::refresh("refused");
                if session.end().await.is_some() {
                    metrics::sessions_ended(metrics::Ended::RefreshRefused, 1);
                }
                tracing::info!(sub = ?user.claims.get("sub"), "refresh token refused: session ended");
                return Ok(Viewer::SessionEnded);
            }
            Err(RefreshFailure::Failed) => {
                metrics::refresh("provider_failed");
                self.provider.token_endpoint_failed();
                return Ok(Viewer::User(user));
            }
        };
        self.store_refreshed(session, &refreshed).await?;
        // A logout or a revocation while the provider answered has deleted the session, and
        // the write above did not bring it back.
        session.reload().await?;
        Ok(match session.user().await? {
            Some(_) => Viewer::User(refreshed),
            None => {
                tracing::info!("the session ended while it was being refreshed");
                Viewer::SessionEnded
            }
        })
    }

    /// Stores refreshed tokens, retrying a failed write for as long as the lease lasts: the
    /// refresh token they replace is spent.
    async fn store_refreshed(
        &self,
        session: &AuthSession,
        user: &LoggedInUser,
    ) -> Result<(), AuthError> {
        let deadline = Instant::now() + self.lease_ttl();
        let mut pause = STORE_RETRY_FIRST;
        loop {
            match session.replace_user(user).await {
                Ok(()) => return Ok(()),
                Err(_) if Instant::now() + pause < deadline => {
                    tracing::warn!(
                        retry_in_ms = pause.as_millis() as u64,
                        "storing the refreshed tokens failed: retrying"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(e) => {
                    tracing::error!("the refreshed tokens could not be stored: the rotated refresh token is lost");
                    return Err(e);
                }
            }
        }
    }

    async fn redeem_refresh_token(
        &self,
        user: &LoggedInUser,
        refresh_token: String,
    ) -> Result<Redeemed, RefreshFailure> {
        let metadata = self
            .provider
            .metadata()
            .await
            .map_err(|_| RefreshFailure::Failed)?;
        let client = self.provider.client(&metadata);
        let presented = RefreshToken::new(refresh_token.clone());
        let request = client.exchange_refresh_token(&presented).map_err(|e| {
            tracing::error!(error = %e, "the provider advertises no token endpoint");
            RefreshFailure::Failed
        })?;
        let asked = Instant::now();
        let answer = request.request_async(self.provider.http()).await;
        metrics::provider_request("token", token_outcome(&answer), asked);
        let response = answer.map_err(refresh_error)?;
        self.provider.answered();

        // From here on the old refresh token is spent (OneTimeUse): keep the new one, whatever
        // else goes wrong. Reusable may send none back.
        let rotated = Some(
            response
                .refresh_token()
                .map_or(refresh_token, |t| t.secret().clone()),
        );
        let access_token = response.access_token();
        let refreshed = LoggedInUser {
            access_token: access_token.secret().clone(),
            refresh_token: rotated.clone(),
            refresh_after: self.refresh_after(response.expires_in()),
            ..user.clone()
        };
        let Some(id_token) = response.id_token() else {
            return Ok(Redeemed::Verified(refreshed));
        };
        // A refreshed id_token is verified like the first (no nonce: OIDC Core 12.2), with a
        // JWKS refetch when it names a key we have not seen (FusionAuth rotated its key).
        let no_nonce = |_: Option<&openidconnect::Nonce>| Ok(());
        match self
            .verify_with_current_keys(&client, id_token, no_nonce, access_token)
            .await
        {
            Ok(claims) if claims.get("sub") == user.claims.get("sub") => {
                Ok(Redeemed::Verified(LoggedInUser {
                    claims,
                    id_token: id_token.to_string(),
                    ..refreshed
                }))
            }
            Ok(_) => {
                tracing::error!("refreshed id_token names another user: ending the session");
                Err(RefreshFailure::Refused)
            }
            Err(failure) => {
                // Logs why.
                let _ = failure.into_auth_error();
                tracing::error!("refreshed id_token not accepted: keeping the user's claims and the rotated refresh token");
                Ok(Redeemed::Unverified(LoggedInUser {
                    refresh_token: rotated,
                    ..user.clone()
                }))
            }
        }
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
