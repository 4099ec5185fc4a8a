//! The login flow on the server: start and callback. Logout is in `logout.rs`.
//!
//! Authorization code flow with PKCE (S256), `state` and `nonce`, as in the `openidconnect`
//! crate's documentation, plus what production needs around it: a pending login per attempt
//! in an encrypted cookie, found by its state before anything else and used once; JWKS
//! refetch on key rotation, clock-skew leeway, `at_hash` verification, session id rotation,
//! and errors that say what went wrong without saying anything secret.

use std::sync::Arc;

use base64::Engine as _;
use openidconnect::{
    core::{CoreAuthenticationFlow, CoreErrorResponseType, CoreIdToken, CoreIdTokenClaims},
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, CsrfToken, Nonce, NonceVerifier,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse,
};
use serde_json::{Map, Value};
use tower_cookies::Cookies;
use url::Url;

use super::{
    pending::{Lookup, PendingLogin, PendingLogins},
    provider::{error_chain, promises_response_iss, provider_text, Provider, ProviderClient},
    return_to,
    session::{AuthSession, LoggedInUser},
    settings::AuthSettings,
};
use crate::{error::AuthError, metrics, store::SessionControl};

pub use crate::callback::CallbackParams;

/// The login service: one per app, shared by every request (`Arc`).
pub struct AuthService {
    pub(super) settings: Arc<AuthSettings>,
    pub(crate) provider: Provider,
    /// Leases, revocation and replay records in the session store.
    pub(crate) control: Arc<dyn SessionControl>,
}

pub(super) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl AuthService {
    /// The service for `settings`, talking to the provider with `http` (see
    /// [`provider::http_client`](super::provider::http_client)) and keeping leases,
    /// revocations and replay records in the session store's `control`.
    pub fn new(
        settings: Arc<AuthSettings>,
        http: reqwest::Client,
        control: Arc<dyn SessionControl>,
    ) -> Self {
        let provider = Provider::new(settings.clone(), http);
        Self {
            settings,
            provider,
            control,
        }
    }

    /// What the service was built with.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    fn pending_logins(&self) -> PendingLogins<'_> {
        PendingLogins::new(&self.settings.cookies, self.settings.login_timeout)
    }

    /// Starts a login: records the attempt in an encrypted cookie and returns the provider's
    /// authorization URL to send the browser to. Writes nothing to the session store.
    pub async fn start_login(
        &self,
        cookies: &Cookies,
        return_to: Option<&str>,
    ) -> Result<Url, AuthError> {
        let started = self.begin_login(cookies, return_to).await;
        match started {
            Ok(_) => metrics::login_started(),
            Err(e) => metrics::login_failed(e),
        }
        started
    }

    async fn begin_login(
        &self,
        cookies: &Cookies,
        return_to: Option<&str>,
    ) -> Result<Url, AuthError> {
        let metadata = self.provider.metadata().await?;
        let client = self.provider.client(&metadata);
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(pkce_challenge);
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: pkce_verifier.secret().clone(),
            return_to: return_to::sanitize(return_to),
            created_at: now(),
        };
        self.pending_logins()
            .begin(cookies, &pending)
            .map_err(|e| {
                tracing::error!(error = %e, "pending login does not serialize");
                AuthError::Unexpected
            })?;
        tracing::info!(return_to = %pending.return_to, "login started");
        Ok(url)
    }

    /// Completes a login at the callback. Returns the path to send the user to.
    ///
    /// The attempt is found by `state` first: a callback that matches no attempt of this
    /// browser changes nothing (it cannot spoil a login in progress in another tab). A
    /// matching attempt is used up by this callback whatever its outcome.
    pub async fn finish_login(
        &self,
        session: &AuthSession,
        cookies: &Cookies,
        params: CallbackParams,
    ) -> Result<String, AuthError> {
        let finished = self.complete_login(session, cookies, params).await;
        if let Err(e) = finished {
            metrics::login_failed(e);
        }
        finished
    }

    async fn complete_login(
        &self,
        session: &AuthSession,
        cookies: &Cookies,
        params: CallbackParams,
    ) -> Result<String, AuthError> {
        let lookup = match params.state.as_deref() {
            Some(state) => self.pending_logins().take(cookies, state),
            None => Lookup::Nothing,
        };
        let pending = match lookup {
            Lookup::Found(pending) => pending,
            unmatched => return self.unmatched_callback(session, &params, unmatched).await,
        };

        let age = now() - pending.created_at;
        if age < 0 || age as u64 > self.settings.login_timeout.as_secs() {
            tracing::warn!(age_secs = age, "pending login expired");
            return Err(AuthError::LoginExpired);
        }
        // Error responses name their issuer too (RFC 9207), so this comes first.
        self.check_response_issuer(params.iss.as_deref()).await?;
        if let Some(error) = params.error.as_deref() {
            let description = params.error_description.as_deref().unwrap_or("");
            tracing::warn!(
                error = %provider_text(error),
                description = %provider_text(description),
                "the provider returned an error to the callback"
            );
            return Err(if error == "access_denied" {
                AuthError::AccessDenied
            } else {
                AuthError::ProviderRejected
            });
        }
        let Some(code) = params.code else {
            tracing::warn!("callback without code");
            return Err(AuthError::MissingCode);
        };

        let user = self.redeem(code, &pending).await?;
        session.complete_login(&user).await?;
        // Not counted: a callback that only sends an already logged-in user home.
        metrics::login_completed();
        tracing::info!(sub = ?user.claims.get("sub"), "login completed");
        Ok(pending.return_to)
    }

    /// RFC 9207, the mix-up defence: an authorization response that names an issuer must name
    /// ours, exactly; one that names none is refused when the provider promises to name it.
    /// Checked before the code goes anywhere: a code meant for another provider is never
    /// redeemed at ours.
    async fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), AuthError> {
        match iss {
            Some(iss) if iss == self.settings.issuer => Ok(()),
            Some(iss) => {
                tracing::warn!(
                    iss = %provider_text(iss),
                    "callback from another issuer (mix-up attack?): refused before redeeming the code"
                );
                Err(AuthError::IssuerMismatch)
            }
            None if promises_response_iss(&*self.provider.metadata().await?) => {
                tracing::warn!(
                    "callback without iss although the provider promises it (mix-up attack?): refused"
                );
                Err(AuthError::IssuerMismatch)
            }
            None => Ok(()),
        }
    }

    /// A callback whose state matches no attempt of this browser: a reload of `/callback`
    /// after the login succeeded, a second tab's stale link, a stray `?error=…`, or a forged
    /// or replayed callback. A logged-in user goes home; anyone else sees why nothing happened.
    async fn unmatched_callback(
        &self,
        session: &AuthSession,
        params: &CallbackParams,
        lookup: Lookup,
    ) -> Result<String, AuthError> {
        if session.user().await?.is_some() {
            tracing::info!("callback without a matching login, already logged in: going home");
            return Ok("/".to_owned());
        }
        tracing::warn!(
            has_state = params.state.is_some(),
            has_error = params.error.is_some(),
            "callback without a matching login in this browser (replayed, stale or forged)"
        );
        Err(match lookup {
            Lookup::OtherAttempts => AuthError::StateMismatch,
            _ => AuthError::NoLoginInProgress,
        })
    }

    /// Exchanges the code and verifies the id_token: the user to log in.
    async fn redeem(
        &self,
        code: String,
        pending: &PendingLogin,
    ) -> Result<LoggedInUser, AuthError> {
        let metadata = self.provider.metadata().await?;
        let client = self.provider.client(&metadata);
        let request = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| {
                tracing::error!(error = %e, "the provider advertises no token endpoint");
                AuthError::ProviderBadResponse
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        let asked = std::time::Instant::now();
        let answer = request.request_async(self.provider.http()).await;
        metrics::provider_request("token", token_outcome(&answer), asked);
        let token_response = answer.map_err(|e| {
            // A refused code is the browser's problem, not the provider's.
            if !matches!(e, RequestTokenError::ServerResponse(_)) {
                self.provider
                    .failed(format!("token request: {}", error_chain(&e)));
            }
            token_error(e)
        })?;
        self.provider.answered();

        let Some(id_token) = token_response.id_token() else {
            tracing::error!("token response without id_token");
            return Err(AuthError::ProviderBadResponse);
        };
        let nonce = Nonce::new(pending.nonce.clone());
        let access_token = token_response.access_token();
        let claims = self
            .verify_with_current_keys(&client, id_token, &nonce, access_token)
            .await
            .map_err(|failure| failure.into_auth_error())?;

        Ok(LoggedInUser {
            claims,
            id_token: id_token.to_string(),
            access_token: access_token.secret().clone(),
            refresh_token: token_response.refresh_token().map(|t| t.secret().clone()),
            refresh_after: self.refresh_after(token_response.expires_in()),
            session_expires_at: now() + self.settings.session_ttl.as_secs() as i64,
        })
    }

    /// [`Self::verify`], and when the id_token names a key we have not seen (the provider
    /// rotated its signing key), once more after a (rate-limited) JWKS refetch.
    pub(super) async fn verify_with_current_keys(
        &self,
        client: &ProviderClient,
        id_token: &CoreIdToken,
        nonce: impl NonceVerifier + Copy,
        access_token: &openidconnect::AccessToken,
    ) -> Result<Map<String, Value>, Verification> {
        match self.verify(client, id_token, nonce, access_token) {
            Err(Verification::UnknownKey) => {
                tracing::info!("id_token signed with an unknown key: refetching the JWKS");
                let metadata = self
                    .provider
                    .refetch_jwks()
                    .await
                    .map_err(Verification::Provider)?;
                let client = self.provider.client(&metadata);
                self.verify(&client, id_token, nonce, access_token)
            }
            other => other,
        }
    }

    pub(super) fn verify(
        &self,
        client: &ProviderClient,
        id_token: &CoreIdToken,
        nonce: impl NonceVerifier,
        access_token: &openidconnect::AccessToken,
    ) -> Result<Map<String, Value>, Verification> {
        let skew = chrono::Duration::from_std(self.settings.clock_skew).unwrap_or_default();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(self.settings.signing_algs.iter().cloned())
            .set_time_fn(move || chrono::Utc::now() - skew);
        let claims: &CoreIdTokenClaims =
            id_token.claims(&verifier, nonce).map_err(|e| match e {
                ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                ) => Verification::UnknownKey,
                ClaimsVerificationError::InvalidNonce(_) => Verification::Nonce,
                other => Verification::Invalid(error_chain(&other)),
            })?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token
                .signing_alg()
                .map_err(|e| Verification::Invalid(error_chain(&e)))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| Verification::Invalid(error_chain(&e)))?;
            let actual = AccessTokenHash::from_token(access_token, alg, key)
                .map_err(|e| Verification::Invalid(error_chain(&e)))?;
            if actual != *expected {
                return Err(Verification::Invalid(
                    "at_hash does not match the access token".into(),
                ));
            }
        }
        // The typed claims above are verified; show the user every claim the token carries
        // (FusionAuth adds its own, such as `tid` and `authenticationType`).
        raw_claims(&id_token.to_string())
            .ok_or_else(|| Verification::Invalid("id_token payload is not a JSON object".into()))
    }
}

/// Why an id_token was not accepted.
pub(super) enum Verification {
    UnknownKey,
    Nonce,
    Invalid(String),
    /// The keys could not be refetched.
    Provider(AuthError),
}

impl Verification {
    pub(super) fn into_auth_error(self) -> AuthError {
        match self {
            Self::UnknownKey => {
                tracing::error!("id_token signed with a key the provider does not publish");
                AuthError::InvalidIdToken
            }
            Self::Nonce => {
                tracing::warn!("id_token nonce does not match the pending login (code injection?)");
                AuthError::NonceMismatch
            }
            Self::Invalid(detail) => {
                tracing::error!(error = %detail, "id_token verification failed");
                AuthError::InvalidIdToken
            }
            Self::Provider(error) => error,
        }
    }
}

impl AuthService {
    /// When an access token that lives `expires_in` (FusionAuth always says; without it, an
    /// hour, FusionAuth's default) is due for a refresh: `refresh_skew` before it expires, but
    /// no earlier than half way through its life.
    pub(super) fn refresh_after(&self, expires_in: Option<std::time::Duration>) -> i64 {
        let lifetime = expires_in.unwrap_or(std::time::Duration::from_secs(3600));
        let margin = self.settings.refresh_skew.min(lifetime / 2);
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4);
        now().saturating_add(secs(lifetime) - secs(margin))
    }
}

fn token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> AuthError {
    match &error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            CoreErrorResponseType::InvalidGrant | CoreErrorResponseType::InvalidRequest => {
                tracing::warn!(error = %provider_text(&response.to_string()), "the provider rejected the authorization code");
                AuthError::CodeRejected
            }
            CoreErrorResponseType::InvalidClient | CoreErrorResponseType::UnauthorizedClient => {
                tracing::error!(error = %provider_text(&response.to_string()), "the provider rejected this client: check CLIENT_ID and CLIENT_SECRET");
                AuthError::Unexpected
            }
            _ => {
                tracing::error!(error = %provider_text(&response.to_string()), "the provider refused the token request");
                AuthError::ProviderBadResponse
            }
        },
        RequestTokenError::Request(_) => {
            tracing::error!(error = %error_chain(&error), "token request failed");
            AuthError::ProviderUnavailable
        }
        RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => {
            tracing::error!(error = %error_chain(&error), "token response is invalid");
            AuthError::ProviderBadResponse
        }
    }
}

/// A token request's result as the `outcome` of the provider-requests metric.
pub(super) fn token_outcome<T, RE: std::error::Error + 'static>(
    answer: &Result<
        T,
        RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
    >,
) -> &'static str {
    match answer {
        Ok(_) => "ok",
        Err(RequestTokenError::ServerResponse(_)) => "refused",
        Err(RequestTokenError::Request(_)) => "unavailable",
        Err(RequestTokenError::Parse(_, _) | RequestTokenError::Other(_)) => "bad_response",
    }
}

/// The payload of a JWT as a JSON object (no verification: call after verifying).
fn raw_claims(jwt: &str) -> Option<Map<String, Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}
