//! The login flow on the server: start, callback, logout.
//!
//! Authorization code flow with PKCE (S256), `state` and `nonce`, as in the `openidconnect`
//! crate's documentation, plus what production needs around it: a single-use pending login
//! that expires, constant-time state comparison, JWKS refetch on key rotation, clock-skew
//! leeway, `at_hash` verification, session id rotation, and errors that say what went wrong
//! without saying anything secret.

use std::sync::Arc;

use base64::Engine as _;
use openidconnect::{
    core::{
        CoreAuthenticationFlow, CoreErrorResponseType, CoreIdToken, CoreIdTokenClaims,
        CoreJwsSigningAlgorithm,
    },
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, CsrfToken, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use url::Url;

use super::{
    provider::{error_chain, Provider, ProviderClient},
    return_to,
    session::{AuthSession, LoggedInUser, PendingLogin},
    CallbackParams,
};
use crate::{error::AuthError, server::config::Config};

/// Scopes requested at login. `offline_access` asks FusionAuth for a refresh token.
const SCOPES: [&str; 3] = ["profile", "email", "offline_access"];

pub struct AuthService {
    config: Arc<Config>,
    provider: Provider,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl AuthService {
    pub fn new(config: Arc<Config>, http: reqwest::Client) -> Self {
        let provider = Provider::new(config.clone(), http);
        Self { config, provider }
    }

    /// Starts a login: records the pending login in the session and returns the provider's
    /// authorization URL to send the browser to.
    pub async fn start_login(
        &self,
        session: &AuthSession,
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
        for scope in SCOPES {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: pkce_verifier.secret().clone(),
            return_to: return_to::sanitize(return_to),
            created_at: now(),
        };
        // The session outlives the pending login by a minute, so an expired login is
        // reported as expired rather than as unknown.
        let lifetime = self.config.login_timeout + std::time::Duration::from_secs(60);
        session.begin_login(&pending, lifetime).await?;
        tracing::info!(return_to = %pending.return_to, "login started");
        Ok(url)
    }

    /// Completes a login at the callback. Returns the path to send the user to.
    pub async fn finish_login(
        &self,
        session: &AuthSession,
        params: CallbackParams,
    ) -> Result<String, AuthError> {
        // Whatever happens next, this login attempt is used up.
        let pending = session.take_pending_login().await?;

        if let Some(error) = params.error.as_deref() {
            let description = params.error_description.as_deref().unwrap_or("");
            tracing::warn!(
                error = %truncate(error),
                description = %truncate(description),
                "the provider returned an error to the callback"
            );
            return Err(if error == "access_denied" {
                AuthError::AccessDenied
            } else {
                AuthError::ProviderRejected
            });
        }

        let Some(state) = params.state.as_deref() else {
            tracing::warn!("callback without state");
            return Err(AuthError::NoLoginInProgress);
        };
        let Some(pending) = pending else {
            tracing::warn!(
                "callback without a pending login in this session (replayed or foreign)"
            );
            return Err(AuthError::NoLoginInProgress);
        };
        if !bool::from(state.as_bytes().ct_eq(pending.state.as_bytes())) {
            tracing::warn!("callback state does not match the pending login");
            return Err(AuthError::StateMismatch);
        }
        let age = now() - pending.created_at;
        if age < 0 || age as u64 > self.config.login_timeout.as_secs() {
            tracing::warn!(age_secs = age, "pending login expired");
            return Err(AuthError::LoginExpired);
        }
        let Some(code) = params.code else {
            tracing::warn!("callback without code");
            return Err(AuthError::MissingCode);
        };

        let metadata = self.provider.metadata().await?;
        let client = self.provider.client(&metadata);
        let token_response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| {
                tracing::error!(error = %e, "the provider advertises no token endpoint");
                AuthError::ProviderBadResponse
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(self.provider.http())
            .await
            .map_err(token_error)?;

        let Some(id_token) = token_response.id_token() else {
            tracing::error!("token response without id_token");
            return Err(AuthError::ProviderBadResponse);
        };
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(&client, id_token, &nonce, token_response.access_token()) {
            Err(Verification::UnknownKey) => {
                tracing::info!("id_token signed with an unknown key: refetching the JWKS");
                match self.provider.refetch_jwks().await? {
                    Some(metadata) => {
                        let client = self.provider.client(&metadata);
                        self.verify(&client, id_token, &nonce, token_response.access_token())
                    }
                    None => Err(Verification::UnknownKey),
                }
            }
            other => other,
        }
        .map_err(|failure| failure.into_auth_error())?;

        let session_expires_at = now() + self.config.session_ttl.as_secs() as i64;
        let user = LoggedInUser {
            claims,
            id_token: id_token.to_string(),
            access_token: token_response.access_token().secret().clone(),
            refresh_token: token_response.refresh_token().map(|t| t.secret().clone()),
            session_expires_at,
        };
        session.complete_login(&user).await?;
        tracing::info!(sub = ?user.claims.get("sub"), "login completed");
        Ok(pending.return_to)
    }

    fn verify(
        &self,
        client: &ProviderClient,
        id_token: &CoreIdToken,
        nonce: &Nonce,
        access_token: &openidconnect::AccessToken,
    ) -> Result<Map<String, Value>, Verification> {
        let skew = chrono::Duration::from_std(self.config.clock_skew).unwrap_or_default();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
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

    /// Ends the local session and returns where to send the browser: the provider's
    /// end-session endpoint when the user was logged in and it is known, else `/`.
    pub async fn logout(&self, session: &AuthSession) -> Result<String, AuthError> {
        let Some(user) = session.end().await? else {
            return Ok("/".to_owned());
        };
        tracing::info!(sub = ?user.claims.get("sub"), "logged out locally");
        // The local session is gone whatever the provider says; a provider we cannot reach
        // only means its own session outlives ours.
        let metadata = match self.provider.metadata().await {
            Ok(metadata) => metadata,
            Err(e) => {
                tracing::warn!(error = %e, "cannot reach the provider to end its session");
                return Ok("/".to_owned());
            }
        };
        let Some(end_session) = metadata.additional_metadata().end_session_endpoint.clone() else {
            tracing::warn!("the provider advertises no end_session_endpoint");
            return Ok("/".to_owned());
        };
        let mut request = openidconnect::LogoutRequest::from(end_session)
            .set_client_id(openidconnect::ClientId::new(self.config.client_id.clone()))
            .set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(
                self.config.post_logout_redirect_uri.clone(),
            ))
            .set_state(CsrfToken::new_random());
        match user.id_token.parse::<CoreIdToken>() {
            Ok(id_token) => request = request.set_id_token_hint(&id_token),
            Err(e) => {
                tracing::warn!(error = %e, "stored id_token does not parse; logging out without a hint")
            }
        }
        Ok(request.http_get_url().to_string())
    }
}

/// Why an id_token was not accepted.
enum Verification {
    UnknownKey,
    Nonce,
    Invalid(String),
}

impl Verification {
    fn into_auth_error(self) -> AuthError {
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
        }
    }
}

fn token_error<RE: std::error::Error + 'static>(
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> AuthError {
    match &error {
        RequestTokenError::ServerResponse(response) => match response.error() {
            CoreErrorResponseType::InvalidGrant | CoreErrorResponseType::InvalidRequest => {
                tracing::warn!(error = %response, "the provider rejected the authorization code");
                AuthError::CodeRejected
            }
            CoreErrorResponseType::InvalidClient | CoreErrorResponseType::UnauthorizedClient => {
                tracing::error!(error = %response, "the provider rejected this client: check CLIENT_ID and CLIENT_SECRET");
                AuthError::Unexpected
            }
            _ => {
                tracing::error!(error = %response, "the provider refused the token request");
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

/// Provider-supplied text goes to the log bounded and on one line.
fn truncate(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
