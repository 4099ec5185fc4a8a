//! The OpenID provider as this app sees it: discovery and JWKS, fetched lazily and cached.
//!
//! The app starts even when the provider is down. Discovery (with its JWKS) is fetched on
//! the first request that needs it and kept. While it is being fetched, every other request
//! that needs it waits for that one fetch (never a queue of fetches), and a failed fetch is
//! remembered for `provider_retry_after`: meanwhile requests fail at once, without a request
//! to the provider. `openidconnect` never refetches the JWKS by itself, so an id_token signed
//! with a key we have not seen triggers one rate-limited refetch (key rotation).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    core::{
        CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
        CoreGrantType, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
        CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType,
        CoreSubjectIdentifierType,
    },
    AdditionalProviderMetadata, ClientId, ClientSecret, DiscoveryError, HttpClientError, IssuerUrl,
    LogoutProviderMetadata, RedirectUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use super::settings::AuthSettings;
use crate::{error::AuthError, metrics};

/// Discovery fields the app reads beyond the core ones and RP-initiated logout's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ExtraProviderMetadata {
    /// RFC 9207: every authorization response names its issuer (`iss`); FusionAuth since 1.69.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for ExtraProviderMetadata {}

/// The provider's discovery document as the app reads it: `openidconnect`'s
/// `ProviderMetadataWithLogout` plus [`ExtraProviderMetadata`].
pub type ProviderMetadata = openidconnect::ProviderMetadata<
    LogoutProviderMetadata<ExtraProviderMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Whether the provider promises `iss` in every authorization response (RFC 9207).
pub fn promises_response_iss(metadata: &ProviderMetadata) -> bool {
    metadata
        .additional_metadata()
        .additional_metadata
        .authorization_response_iss_parameter_supported
        == Some(true)
}

/// The client type `from_provider_metadata` gives: auth URL set, token and userinfo URLs
/// taken from discovery.
pub type ProviderClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Shortest time between two JWKS refetches.
const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// Longest wait for a TCP connection to the provider.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The one HTTP client the server uses to talk to the provider: no redirects followed
/// (as the OAuth specs require for these endpoints), bounded timeouts, an honest User-Agent
/// (`user_agent`: the app's name and version).
pub fn http_client(timeout: Duration, user_agent: &str) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(user_agent)
        .build()
}

/// The provider: its metadata and keys, cached, and the HTTP client that reaches it.
pub struct Provider {
    settings: Arc<AuthSettings>,
    http: reqwest::Client,
    metadata: RwLock<Option<Arc<ProviderMetadata>>>,
    /// Held while discovery or a JWKS refetch runs, so there is one fetch at a time and the
    /// requests that wait for it share its result.
    fetch: Mutex<FetchState>,
    /// When a token request last failed to reach the provider.
    token_failure: std::sync::Mutex<Option<Instant>>,
    /// When the provider last answered and how it last failed, for readiness probes.
    contact: std::sync::Mutex<Contact>,
}

#[derive(Default)]
struct Contact {
    discovered: Option<Instant>,
    jwks_fetched: Option<Instant>,
    /// The last answer to any request (a token request's too).
    answered: Option<Instant>,
    failure: Option<(Instant, String)>,
}

/// What the app knows of the provider from its own requests (readiness probes make none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderContact {
    /// Time since discovery last succeeded; `None`: never.
    pub discovery_age: Option<Duration>,
    /// Time since the JWKS was last fetched (with discovery, or refetched); `None`: never.
    pub jwks_age: Option<Duration>,
    /// The last failure to reach the provider or to read its answer, one cleaned line
    /// ([`provider_text`]).
    pub last_error: Option<String>,
    /// Whether the provider is failing now: its last failure came after its last success,
    /// or a token request failed moments ago.
    pub failing: bool,
}

#[derive(Default)]
struct FetchState {
    /// The last failed discovery, remembered for `provider_retry_after`.
    failed: Option<(Instant, AuthError)>,
    /// When the JWKS was last *re*fetched (the first unknown key after discovery always
    /// gets a refetch).
    jwks_refetched: Option<Instant>,
}

impl Provider {
    /// Remembers that a token request could not reach the provider: for
    /// `provider_retry_after`, refreshes are not tried (pages use the tokens they have).
    pub fn token_endpoint_failed(&self) {
        *self.token_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.failed("token request failed (details in the log)".into());
    }

    /// Remembers how a request to the provider failed (`what`: cleaned with
    /// [`provider_text`]), for readiness probes.
    pub fn failed(&self, what: String) {
        self.contact().failure = Some((Instant::now(), provider_text(&what)));
    }

    /// Remembers that a token request got a valid answer: a failure before it is over.
    pub fn answered(&self) {
        self.contact().answered = Some(Instant::now());
    }

    /// Remembers that the JWKS (with discovery, when `discovery`) was just fetched.
    fn fetched(&self, discovery: bool) {
        let now = Some(Instant::now());
        let mut contact = self.contact();
        (contact.jwks_fetched, contact.answered) = (now, now);
        if discovery {
            contact.discovered = now;
        }
    }

    fn contact(&self) -> std::sync::MutexGuard<'_, Contact> {
        self.contact.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// When the provider last answered and how it last failed; asks the provider nothing.
    pub fn last_contact(&self) -> ProviderContact {
        let contact = self.contact();
        let last_success = contact
            .discovered
            .max(contact.jwks_fetched)
            .max(contact.answered);
        let failing_since_success = contact
            .failure
            .as_ref()
            .is_some_and(|(at, _)| last_success.is_none_or(|ok| *at > ok));
        ProviderContact {
            discovery_age: contact.discovered.map(|at| at.elapsed()),
            jwks_age: contact.jwks_fetched.map(|at| at.elapsed()),
            last_error: contact.failure.as_ref().map(|(_, text)| text.clone()),
            failing: failing_since_success || self.token_endpoint_failing(),
        }
    }

    /// Whether a token request failed moments ago.
    pub fn token_endpoint_failing(&self) -> bool {
        self.token_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() < self.settings.provider_retry_after)
    }
}

impl Provider {
    /// The provider at `settings.issuer`; nothing is fetched until first needed.
    pub fn new(settings: Arc<AuthSettings>, http: reqwest::Client) -> Self {
        Self {
            settings,
            http,
            metadata: RwLock::new(None),
            fetch: Mutex::new(FetchState::default()),
            token_failure: std::sync::Mutex::new(None),
            contact: std::sync::Mutex::new(Contact::default()),
        }
    }

    /// The HTTP client for the provider's endpoints.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The provider's metadata (with its JWKS), discovering it on first use.
    pub async fn metadata(&self) -> Result<Arc<ProviderMetadata>, AuthError> {
        if let Some(metadata) = self.metadata.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        let mut state = self.fetch.lock().await;
        // The fetch we waited for may have succeeded, or failed moments ago.
        if let Some(metadata) = self.metadata.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        if let Some((at, error)) = state.failed {
            if at.elapsed() < self.settings.provider_retry_after {
                return Err(error);
            }
        }
        let discovered = self.discover().await;
        state.failed = discovered.as_ref().err().map(|e| (Instant::now(), *e));
        let discovered = Arc::new(discovered?);
        *self.metadata.write().await = Some(discovered.clone());
        Ok(discovered)
    }

    async fn discover(&self) -> Result<ProviderMetadata, AuthError> {
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| {
            tracing::error!(error = %e, "ISSUER is not a valid issuer URL");
            AuthError::Unexpected
        })?;
        // Discovery fetches the JWKS too: one `discovery` request in the metrics.
        let asked = Instant::now();
        let answer = ProviderMetadata::discover_async(issuer, &self.http).await;
        metrics::provider_request("discovery", fetch_outcome(&answer), asked);
        let discovered = answer.map_err(|e| {
            self.failed(format!("discovery: {}", error_chain(&e)));
            discovery_error(&self.settings.issuer, e)
        })?;
        self.fetched(true);
        tracing::info!(issuer = %self.settings.issuer, keys = discovered.jwks().keys().len(), "discovered the identity provider");
        Ok(discovered)
    }

    /// The metadata if discovery has already succeeded; never waits or fetches.
    pub async fn cached_metadata(&self) -> Option<Arc<ProviderMetadata>> {
        self.metadata.read().await.clone()
    }

    /// Refetches the JWKS after an id_token named a key we do not have, and returns the
    /// metadata to verify with again. Within `JWKS_REFETCH_INTERVAL` of the last refetch it
    /// fetches nothing and returns the current metadata: a request that waited for another's
    /// refetch then verifies with the keys that refetch brought.
    pub async fn refetch_jwks(&self) -> Result<Arc<ProviderMetadata>, AuthError> {
        let mut state = self.fetch.lock().await;
        // Not `self.metadata()`: that takes the lock held here.
        let Some(current) = self.metadata.read().await.clone() else {
            return Err(AuthError::Unexpected);
        };
        if state
            .jwks_refetched
            .is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL)
        {
            tracing::info!(
                "unknown signing key, but the JWKS was refetched moments ago: not again"
            );
            return Ok(current);
        }
        state.jwks_refetched = Some(Instant::now());
        let asked = Instant::now();
        let answer = CoreJsonWebKeySet::fetch_async(current.jwks_uri(), &self.http).await;
        metrics::provider_request("jwks", fetch_outcome(&answer), asked);
        let jwks = answer.map_err(|e| {
            tracing::error!(error = %error_chain(&e), "JWKS refetch failed");
            self.failed(format!("JWKS: {}", error_chain(&e)));
            match e {
                DiscoveryError::Request(_) => AuthError::ProviderUnavailable,
                _ => AuthError::ProviderBadResponse,
            }
        })?;
        tracing::info!(keys = jwks.keys().len(), "refetched the provider's JWKS");
        self.fetched(false);
        let updated = Arc::new(current.as_ref().clone().set_jwks(jwks));
        *self.metadata.write().await = Some(updated.clone());
        Ok(updated)
    }

    /// An OIDC client for this app, configured from the provider's metadata.
    pub fn client(&self, metadata: &ProviderMetadata) -> ProviderClient {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            Some(ClientSecret::new(
                self.settings.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(RedirectUrl::from_url(self.settings.redirect_uri.clone()))
    }
}

/// A discovery or JWKS fetch's result as the `outcome` of the provider-requests metric.
fn fetch_outcome<T>(
    answer: &Result<T, DiscoveryError<HttpClientError<reqwest::Error>>>,
) -> &'static str {
    match answer {
        Ok(_) => "ok",
        Err(DiscoveryError::Request(_)) => "unavailable",
        Err(DiscoveryError::Response(status, _, _)) if status.is_server_error() => "unavailable",
        Err(_) => "bad_response",
    }
}

fn discovery_error(
    issuer: &str,
    error: DiscoveryError<HttpClientError<reqwest::Error>>,
) -> AuthError {
    let detail = error_chain(&error);
    match error {
        DiscoveryError::Request(_) => {
            tracing::error!(issuer, error = %detail, "identity provider unreachable");
            AuthError::ProviderUnavailable
        }
        DiscoveryError::Response(status, _, _) if status.is_server_error() => {
            tracing::error!(issuer, %status, "identity provider failing");
            AuthError::ProviderUnavailable
        }
        _ => {
            tracing::error!(issuer, error = %detail, "identity provider discovery answer is invalid");
            AuthError::ProviderBadResponse
        }
    }
}

/// An error with its sources, for the log. Each message is cleaned like [`provider_text`]:
/// parse errors quote what the provider sent.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = provider_text(&error.to_string());
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&provider_text(&cause.to_string()));
        source = cause.source();
    }
    out
}

/// Longest provider-supplied text one log field carries, in characters.
const PROVIDER_TEXT_MAX_CHARS: usize = 200;

/// Text the provider chose (an error code or description, an issuer, a message quoting its
/// answer), as it goes to the log: cut to 200 characters, and every control character
/// (newlines among them), line or paragraph separator and bidirectional override replaced by
/// a space, so it stays one field of one line and cannot forge a log line of its own.
pub fn provider_text(text: &str) -> String {
    text.chars()
        .take(PROVIDER_TEXT_MAX_CHARS)
        .map(|c| if breaks_a_log_line(c) { ' ' } else { c })
        .collect()
}

fn breaks_a_log_line(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_text_is_one_bounded_line() {
        let hostile = format!("bad\r\nFAKE\u{2028}LINE\u{202e}\t{}", "x".repeat(5000));
        let cleaned = provider_text(&hostile);
        assert!(cleaned.starts_with("bad  FAKE LINE  x"), "{cleaned}");
        assert_eq!(cleaned.chars().count(), 200);
        assert_eq!(provider_text("invalid_grant"), "invalid_grant");
        assert_eq!(
            provider_text("e\u{301}t\u{e9} \u{1F600}"),
            "e\u{301}t\u{e9} \u{1F600}"
        );
    }
}
