//! The OpenID provider as this app sees it: discovery and JWKS, fetched lazily and cached.
//!
//! The app starts even when the provider is down. Discovery (with its JWKS) is fetched on
//! the first login and kept; a failed fetch is retried by the next request that needs it.
//! `openidconnect` never refetches the JWKS by itself, so an id_token signed with a key we
//! have not seen triggers one rate-limited refetch (key rotation).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    core::{CoreClient, CoreJsonWebKeySet},
    ClientId, ClientSecret, DiscoveryError, HttpClientError, IssuerUrl, ProviderMetadataWithLogout,
    RedirectUrl,
};
use secrecy::ExposeSecret;
use tokio::sync::{Mutex, RwLock};

use crate::{error::AuthError, server::config::Config};

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

/// The one HTTP client the server uses to talk to the provider: no redirects followed
/// (as the OAuth specs require for these endpoints), bounded timeouts, an honest User-Agent.
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("fusionauth-leptos/", env!("CARGO_PKG_VERSION")))
        .build()
}

pub struct Provider {
    config: Arc<Config>,
    http: reqwest::Client,
    metadata: RwLock<Option<Arc<ProviderMetadataWithLogout>>>,
    /// Serialises discovery and JWKS refetches; holds when the JWKS was last *re*fetched
    /// (the first unknown key after discovery always gets a refetch).
    refresh: Mutex<Option<Instant>>,
}

impl Provider {
    pub fn new(config: Arc<Config>, http: reqwest::Client) -> Self {
        Self {
            config,
            http,
            metadata: RwLock::new(None),
            refresh: Mutex::new(None),
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The provider's metadata (with its JWKS), discovering it on first use.
    pub async fn metadata(&self) -> Result<Arc<ProviderMetadataWithLogout>, AuthError> {
        if let Some(metadata) = self.metadata.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        let _serialised = self.refresh.lock().await;
        // Another request may have discovered while we waited for the lock.
        if let Some(metadata) = self.metadata.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| {
            tracing::error!(error = %e, "ISSUER is not a valid issuer URL");
            AuthError::Unexpected
        })?;
        let discovered = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| discovery_error(&self.config.issuer, e))?;
        tracing::info!(issuer = %self.config.issuer, keys = discovered.jwks().keys().len(), "discovered the identity provider");
        let discovered = Arc::new(discovered);
        *self.metadata.write().await = Some(discovered.clone());
        Ok(discovered)
    }

    /// Refetches the JWKS after an id_token named a key we do not have. Returns the new
    /// metadata, or `None` when a refetch happened too recently to try again.
    pub async fn refetch_jwks(&self) -> Result<Option<Arc<ProviderMetadataWithLogout>>, AuthError> {
        let mut last_fetch = self.refresh.lock().await;
        if last_fetch.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            tracing::warn!(
                "unknown signing key, but the JWKS was refetched moments ago: not again"
            );
            return Ok(None);
        }
        // Not `self.metadata()`: that takes the lock held here.
        let Some(current) = self.metadata.read().await.clone() else {
            return Err(AuthError::Unexpected);
        };
        let jwks = CoreJsonWebKeySet::fetch_async(current.jwks_uri(), &self.http)
            .await
            .map_err(|e| {
                tracing::error!(error = %error_chain(&e), "JWKS refetch failed");
                match e {
                    DiscoveryError::Request(_) => AuthError::ProviderUnavailable,
                    _ => AuthError::ProviderBadResponse,
                }
            })?;
        tracing::info!(keys = jwks.keys().len(), "refetched the provider's JWKS");
        let updated = Arc::new(current.as_ref().clone().set_jwks(jwks));
        *self.metadata.write().await = Some(updated.clone());
        *last_fetch = Some(Instant::now());
        Ok(Some(updated))
    }

    /// An OIDC client for this app, configured from the provider's metadata.
    pub fn client(&self, metadata: &ProviderMetadataWithLogout) -> ProviderClient {
        CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(RedirectUrl::from_url(self.config.redirect_uri.clone()))
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

/// An error with its sources, for the log.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
