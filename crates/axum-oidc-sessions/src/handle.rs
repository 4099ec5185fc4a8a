//! [`OidcSessions`]: the login of one app, built once from an [`OidcConfig`].

use std::sync::Arc;

use axum::{response::Response, Router};

use crate::{
    config::OidcConfig,
    error::AuthError,
    health::Readiness,
    layer::AuthLayer,
    oidc::{flow::AuthService, provider, session::user_of},
    store::{self, SetupError, Store},
};

/// Why [`OidcSessions::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The session store could not be opened.
    #[error(transparent)]
    Store(#[from] SetupError),
    /// The HTTP client for the provider could not be built.
    #[error("HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// The login of one app: its configuration, session store and provider client. Cheap to
/// clone (one `Arc`).
#[derive(Clone)]
pub struct OidcSessions(Arc<Inner>);

struct Inner {
    config: OidcConfig,
    service: Arc<AuthService>,
    store: Store,
    origin: String,
}

impl OidcSessions {
    /// Opens the session store and prepares the provider client. Nothing is fetched from the
    /// provider yet: discovery happens at the first login, so the app starts while the
    /// provider is down.
    pub async fn new(config: OidcConfig) -> Result<Self, StartError> {
        let store = store::open(&config.sessions, user_of).await?;
        let http = provider::http_client(config.auth.provider_timeout, &config.user_agent)?;
        let settings = Arc::new(clone_settings(&config));
        let service = Arc::new(AuthService::new(settings, http, Arc::new(store.clone())));
        let origin = config.app_url.origin().ascii_serialization();
        Ok(Self(Arc::new(Inner {
            config,
            service,
            store,
            origin,
        })))
    }

    /// What it was built with.
    pub fn config(&self) -> &OidcConfig {
        &self.0.config
    }

    /// The login engine, for apps that drive the flow from pages of their own.
    pub fn service(&self) -> &Arc<AuthService> {
        &self.0.service
    }

    /// The session store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The app's origin (`scheme://host:port`), which guarded requests must come from.
    pub fn app_origin(&self) -> &str {
        &self.0.origin
    }

    /// The error page for `error`, as the app renders it.
    pub fn error_page(&self, error: AuthError) -> Response {
        (self.0.config.error_page)(error)
    }

    /// Readiness (`/readyz`): a session store round trip and what is known of the provider.
    pub async fn readiness(&self) -> Readiness {
        Readiness::check(&self.0.service).await
    }

    /// The login routes: `GET` login path (to the provider), `GET` callback path, `POST`
    /// logout path (the Logout button), `GET` logout path (FusionAuth's front-channel
    /// logout and the return from it), and FusionAuth's webhook path (feature `fusionauth`).
    /// Merge them into the app's router, and wrap the whole with [`layer`](Self::layer).
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        crate::routes::all(self)
    }

    /// Only the routes the provider calls: the front-channel logout and the webhooks. For an
    /// app whose own pages start and finish logins (with [`service`](Self::service)).
    pub fn provider_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        crate::routes::provider(self)
    }

    /// The layer every request passes through: the session cookie, secret key rotation, the
    /// same-origin guard, and this handle for the [`extract`](crate::extract) extractors.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.clone())
    }
}

/// The engine keeps its own copy of the settings (it outlives no configuration change: both
/// are fixed at start-up).
fn clone_settings(config: &OidcConfig) -> crate::oidc::settings::AuthSettings {
    config.auth.clone()
}
