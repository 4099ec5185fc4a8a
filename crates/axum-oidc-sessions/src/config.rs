//! Everything the login needs to know, in one value built once at start-up: the provider,
//! the client, the app's address, the secret key, where sessions live, and every policy
//! (paths, cookie names, scopes, algorithms, timeouts), each with a default.
//!
//! Build it with [`OidcConfig::builder`], or read it from the environment with
//! [`OidcConfigBuilder::from_env`] (feature `env`). Errors name the environment variable that
//! sets the value, and say how to fix it.
//!
//! ```
//! use axum_oidc_sessions::{config::OidcConfig, store::StoreLocation};
//!
//! let config = OidcConfig::builder()
//!     .issuer("http://localhost:9011")
//!     .client("my-client-id", "my-client-secret")
//!     .app_url("http://localhost:3000")
//!     .secret_key("a secret of 32 bytes or more, from a vault...")
//!     .store(StoreLocation::Memory)
//!     .build()
//!     .expect("valid configuration");
//! assert_eq!(config.auth.redirect_uri.as_str(), "http://localhost:3000/callback");
//! assert_eq!(config.auth.cookies.session_name(), "fa_leptos_session");
//! ```

#[cfg(feature = "env")]
use std::path::PathBuf;
use std::{sync::Arc, time::Duration};

use hkdf::Hkdf;
use openidconnect::core::CoreJwsSigningAlgorithm;
#[cfg(feature = "env")]
use rand::RngCore;
use secrecy::SecretString;
use sha2::Sha256;
use tower_cookies::Key;
use url::Url;

#[cfg(feature = "env")]
use crate::store::parse_redis_url;
use crate::{
    error::AuthError,
    oidc::settings::{AuthSettings, CookieSettings},
    store::{SessionStoreSettings, StoreLocation},
};

/// Shortest accepted secret key, in bytes.
pub const MIN_SECRET_KEY_LEN: usize = 32;

/// Shortest accepted webhook signing secret, in characters.
pub const MIN_WEBHOOK_SECRET_LEN: usize = 32;

/// A setting that is missing or not valid. `var` is the environment variable that sets it
/// (also when it was given to the builder), `fix` says what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required setting is missing.
    #[error("{var} is not set. {fix}")]
    Missing {
        /// The environment variable.
        var: &'static str,
        /// What to do about it.
        fix: &'static str,
    },
    /// A setting has a value that cannot be used.
    #[error("{var} is not valid ({reason}). {fix}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What is wrong with the value (never the value of a secret).
        reason: String,
        /// What to do about it.
        fix: &'static str,
    },
}

/// Renders the page a user sees when the login fails (its status is the error's
/// [`status`](AuthError::status)). The app's own look: see
/// [`OidcConfigBuilder::error_page`].
pub type ErrorPage = Arc<dyn Fn(AuthError) -> axum::response::Response + Send + Sync>;

/// The default error page: the error's title, message and status, and a link home. Plain
/// HTML, no styles.
pub fn plain_error_page(error: AuthError) -> axum::response::Response {
    use axum::response::IntoResponse;
    let status = http::StatusCode::from_u16(error.status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1><p>{message}</p><p>Error {status}</p><a href=\"/\">Back to start</a></main></body></html>\n",
        title = error.title(),
        message = error.message(),
        status = status.as_u16(),
    );
    (
        status,
        [
            (http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

/// The built configuration. Its parts are public so that an app (or a test) can adjust a
/// policy after [`OidcConfigBuilder::build`]; the login service reads them once, at
/// [`OidcSessions::new`](crate::OidcSessions::new).
pub struct OidcConfig {
    /// What the login flow needs (issuer, client, timeouts, cookie settings).
    pub auth: AuthSettings,
    /// Where sessions live, and the keys that seal and index them.
    pub sessions: SessionStoreSettings,
    /// The app's public base URL (an origin: no path).
    pub app_url: Url,
    /// Signs the session cookie.
    pub cookie_key: Key,
    /// Still accepted (and replaced) on session cookies: the key being rotated out.
    pub previous_cookie_key: Option<Key>,
    /// The `User-Agent` of requests to the provider.
    pub user_agent: String,
    /// Requests below these path prefixes, whatever their method, must come from the app's
    /// own origin (besides every POST, PUT, PATCH and DELETE outside the webhook path).
    pub same_origin_prefixes: Vec<String>,
    /// Renders the error pages of the login routes and of the same-origin guard.
    pub error_page: ErrorPage,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("auth", &self.auth)
            .field("sessions", &self.sessions.location)
            .field("app_url", &self.app_url.as_str())
            .field("cookie_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl OidcConfig {
    /// A builder with every policy at its default.
    pub fn builder() -> OidcConfigBuilder {
        OidcConfigBuilder::default()
    }

    /// Whether cookies carry `Secure` (and the `__Host-`/`__Secure-` name prefixes): when the
    /// app is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.auth.cookies.secure
    }
}

/// Builds an [`OidcConfig`]. Required: [`issuer`](Self::issuer), [`client`](Self::client),
/// [`app_url`](Self::app_url) and [`secret_key`](Self::secret_key); everything else has the
/// default its setter names.
pub struct OidcConfigBuilder {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    app_url: Option<String>,
    secret_key: Option<Vec<u8>>,
    previous_secret_key: Option<Vec<u8>>,
    store: StoreLocation,
    max_sessions_per_user: usize,
    cleanup_interval: Duration,
    login_path: String,
    callback_path: String,
    logout_path: String,
    post_logout_path: String,
    webhook_path: String,
    provider_logout_path: String,
    session_cookie: String,
    pending_cookie_prefix: String,
    pending_index_cookie: String,
    scopes: Vec<String>,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
    key_label: String,
    login_timeout: Duration,
    session_ttl: Duration,
    refresh_skew: Duration,
    clock_skew: Duration,
    provider_timeout: Duration,
    provider_retry_after: Duration,
    webhook_secret: Option<SecretString>,
    previous_webhook_secret: Option<SecretString>,
    user_agent: String,
    same_origin_prefixes: Vec<String>,
    error_page: ErrorPage,
}

impl Default for OidcConfigBuilder {
    fn default() -> Self {
        Self {
            issuer: None,
            client_id: None,
            client_secret: None,
            app_url: None,
            secret_key: None,
            previous_secret_key: None,
            store: StoreLocation::Memory,
            max_sessions_per_user: 100,
            cleanup_interval: Duration::from_secs(60),
            login_path: "/login".into(),
            callback_path: "/callback".into(),
            logout_path: "/logout".into(),
            post_logout_path: "/logout".into(),
            webhook_path: "/webhooks/fusionauth".into(),
            provider_logout_path: "/oauth2/logout".into(),
            session_cookie: "fa_leptos_session".into(),
            pending_cookie_prefix: "fa_login.".into(),
            pending_index_cookie: "fa_logins".into(),
            scopes: ["profile", "email", "offline_access"]
                .map(str::to_owned)
                .to_vec(),
            signing_algs: vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            key_label: "fusionauth-leptos".into(),
            login_timeout: Duration::from_secs(10 * 60),
            session_ttl: Duration::from_secs(8 * 3600),
            refresh_skew: Duration::from_secs(60),
            clock_skew: Duration::from_secs(60),
            provider_timeout: Duration::from_secs(10),
            provider_retry_after: Duration::from_secs(5),
            webhook_secret: None,
            previous_webhook_secret: None,
            user_agent: concat!("axum-oidc-sessions/", env!("CARGO_PKG_VERSION")).into(),
            same_origin_prefixes: Vec::new(),
            error_page: Arc::new(plain_error_page),
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = value;
                self
            }
        )*
    };
}

macro_rules! path_setters {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, path: impl Into<String>) -> Self {
                self.$name = path.into();
                self
            }
        )*
    };
}

impl OidcConfigBuilder {
    /// The provider's issuer (`ISSUER`), e.g. FusionAuth's `http://localhost:9011`. Discovery
    /// lives below it and must return it byte for byte.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The OAuth client (`CLIENT_ID`, `CLIENT_SECRET`). A UUID client id is compared in lower
    /// case, as FusionAuth writes it into `aud`.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// The app's public base URL (`APP_URL`), e.g. `https://app.example.com`: an origin
    /// without a path. The redirect URI is this plus the callback path; `https` makes every
    /// cookie `Secure`.
    pub fn app_url(mut self, url: impl Into<String>) -> Self {
        self.app_url = Some(url.into());
        self
    }

    /// The secret every key is derived from (`APP_SECRET_KEY`), at least 32 bytes: it signs
    /// the session cookie, encrypts logins in progress and seals sessions at rest.
    pub fn secret_key(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.secret_key = Some(secret.into());
        self
    }

    /// The secret being rotated out (`APP_SECRET_KEY_PREVIOUS`): what it signed, encrypted or
    /// sealed is still accepted, so a rotation logs nobody out.
    pub fn previous_secret_key(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.previous_secret_key = Some(secret.into());
        self
    }

    /// The HMAC secret FusionAuth signs its webhooks with (`WEBHOOK_SIGNING_SECRET`, at least
    /// 32 characters). Without it webhooks are refused.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// The webhook secret being rotated out (`WEBHOOK_SIGNING_SECRET_PREVIOUS`).
    pub fn previous_webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.previous_webhook_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Renders the error pages of the login routes and the same-origin guard (default
    /// [`plain_error_page`]); the response's status should be the error's.
    pub fn error_page(
        mut self,
        page: impl Fn(AuthError) -> axum::response::Response + Send + Sync + 'static,
    ) -> Self {
        self.error_page = Arc::new(page);
        self
    }

    /// Requests below `prefix`, whatever their method, must come from the app's own origin
    /// (e.g. Leptos's server functions, `/api/`). Every POST, PUT, PATCH and DELETE is checked
    /// anyway, except the webhook's.
    pub fn same_origin_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.same_origin_prefixes.push(prefix.into());
        self
    }

    /// The scopes requested besides `openid` (default `profile`, `email`, `offline_access`;
    /// without `offline_access` FusionAuth issues no refresh token).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The `User-Agent` of the requests to the provider (default `axum-oidc-sessions/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    setters! {
        /// Where sessions live (`REDIS_URL`, `SESSION_DB`; default memory, which a restart empties).
        store: StoreLocation;
        /// A login beyond this many sessions of one user ends the oldest (`MAX_SESSIONS_PER_USER`, default 100).
        max_sessions_per_user: usize;
        /// How often expired SQLite sessions are deleted (default 60 s).
        cleanup_interval: Duration;
        /// The id_token signature algorithms accepted (default RS256 only).
        signing_algs: Vec<CoreJwsSigningAlgorithm>;
        /// How long a started login may take at the provider (default 10 minutes).
        login_timeout: Duration;
        /// How long a login lasts (`SESSION_TTL_SECS`, default 8 hours).
        session_ttl: Duration;
        /// An access token this close to its expiry is refreshed first (`REFRESH_SKEW_SECS`, default 60 s).
        refresh_skew: Duration;
        /// Leeway for the id_token's times (`CLOCK_SKEW_SECS`, default 60 s).
        clock_skew: Duration;
        /// Longest wait for one request to the provider (`PROVIDER_TIMEOUT_SECS`, default 10 s).
        provider_timeout: Duration;
        /// How long a failed discovery is remembered, failing logins at once (default 5 s).
        provider_retry_after: Duration;
    }

    path_setters! {
        /// The route that starts a login (default `/login`).
        login_path;
        /// The OAuth redirect URI's path (default `/callback`).
        callback_path;
        /// The logout route: POST logs out, GET is FusionAuth's front-channel logout (default `/logout`).
        logout_path;
        /// Where the provider sends the browser after logout (default `/logout`).
        post_logout_path;
        /// Where FusionAuth posts its webhooks (default `/webhooks/fusionauth`).
        webhook_path;
        /// The provider's end-session path below the issuer, for when discovery is down (default `/oauth2/logout`).
        provider_logout_path;
        /// The session cookie's name, before the `__Host-` prefix of a secure app (default `fa_leptos_session`).
        session_cookie;
        /// The pending-login cookies' name prefix (default `fa_login.`).
        pending_cookie_prefix;
        /// The attempt list's cookie name (default `fa_logins`).
        pending_index_cookie;
        /// The label the keys are derived under (default `fusionauth-leptos`): changing it
        /// is like changing the secret key.
        key_label;
    }

    /// Checks every setting and derives the keys.
    pub fn build(self) -> Result<OidcConfig, ConfigError> {
        let issuer = self.issuer.ok_or(ConfigError::Missing {
            var: "ISSUER",
            fix: "Set ISSUER to the provider's URL, e.g. http://localhost:9011",
        })?;
        parse_url(
            "ISSUER",
            &issuer,
            "Set ISSUER to FusionAuth's URL, e.g. http://localhost:9011",
        )?;
        let client_id = self.client_id.ok_or(ConfigError::Missing {
            var: "CLIENT_ID",
            fix: "Set CLIENT_ID to the OAuth application's client id",
        })?;
        let client_secret = self.client_secret.ok_or(ConfigError::Missing {
            var: "CLIENT_SECRET",
            fix: "Set CLIENT_SECRET to the OAuth application's client secret",
        })?;
        const APP_URL_FIX: &str =
            "Set APP_URL to the app's public base URL, e.g. https://app.example.com";
        let app_url = parse_url(
            "APP_URL",
            self.app_url.as_deref().ok_or(ConfigError::Missing {
                var: "APP_URL",
                fix: APP_URL_FIX,
            })?,
            APP_URL_FIX,
        )?;
        if app_url.path() != "/" || app_url.query().is_some() {
            return Err(ConfigError::Invalid {
                var: "APP_URL",
                reason: "it must be a bare origin without a path or query".into(),
                fix: "Set APP_URL to e.g. https://app.example.com",
            });
        }
        let join = |path: &str| {
            app_url.join(path).map_err(|e| ConfigError::Invalid {
                var: "APP_URL",
                reason: e.to_string(),
                fix: APP_URL_FIX,
            })
        };
        let redirect_uri = join(&self.callback_path)?;
        let post_logout_redirect_uri = join(&self.post_logout_path)?;

        let secret = match self.secret_key {
            None => return Err(ConfigError::Missing {
                var: "APP_SECRET_KEY",
                fix:
                    "A stable key signs session cookies. Generate one with: openssl rand -base64 48",
            }),
            Some(secret) if secret.len() < MIN_SECRET_KEY_LEN => {
                return Err(ConfigError::Invalid {
                    var: "APP_SECRET_KEY",
                    reason: format!("it is shorter than {MIN_SECRET_KEY_LEN} characters"),
                    fix: "Generate one with: openssl rand -base64 48",
                })
            }
            Some(secret) => secret,
        };
        let previous = match self.previous_secret_key {
            Some(previous) if previous.len() < MIN_SECRET_KEY_LEN => {
                return Err(ConfigError::Invalid {
                    var: "APP_SECRET_KEY_PREVIOUS",
                    reason: format!("it is shorter than {MIN_SECRET_KEY_LEN} characters"),
                    fix: "Set it to the APP_SECRET_KEY being replaced, or unset it once every session has been renewed",
                })
            }
            previous => previous,
        };
        check_webhook_secret(
            self.webhook_secret.as_ref(),
            "WEBHOOK_SIGNING_SECRET",
            "Generate one with: openssl rand -base64 48, and give FusionAuth's webhook signing key the same secret",
        )?;
        check_webhook_secret(
            self.previous_webhook_secret.as_ref(),
            "WEBHOOK_SIGNING_SECRET_PREVIOUS",
            "Set it to the WEBHOOK_SIGNING_SECRET being replaced, or unset it once FusionAuth signs with the new key only",
        )?;
        if self.previous_webhook_secret.is_some() && self.webhook_secret.is_none() {
            return Err(ConfigError::Missing {
                var: "WEBHOOK_SIGNING_SECRET",
                fix: "WEBHOOK_SIGNING_SECRET_PREVIOUS is set: set WEBHOOK_SIGNING_SECRET to the secret that replaces it",
            });
        }
        if self.max_sessions_per_user == 0 {
            return Err(ConfigError::Invalid {
                var: "MAX_SESSIONS_PER_USER",
                reason: "it must be a whole number above 0".into(),
                fix: "Set it to how many sessions (browsers, devices) one user may have at once, e.g. 100",
            });
        }
        if self.provider_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                var: "PROVIDER_TIMEOUT_SECS",
                reason: "it is 0".into(),
                fix: "Give the provider time to answer, e.g. 10 seconds",
            });
        }

        let label = &self.key_label;
        let sessions = SessionStoreSettings {
            location: self.store,
            cleanup_interval: self.cleanup_interval,
            data_key: derive_bytes(label, &secret, "session-data"),
            previous_data_keys: previous
                .iter()
                .map(|previous| derive_bytes(label, previous, "session-data"))
                .collect(),
            index_keys: std::iter::once(&secret)
                .chain(&previous)
                .map(|secret| derive_bytes(label, secret, "user-index"))
                .collect(),
            max_sessions_per_user: self.max_sessions_per_user,
        };
        let auth = AuthSettings {
            issuer,
            client_id: normalize_client_id(&client_id),
            client_secret,
            redirect_uri,
            post_logout_redirect_uri,
            clock_skew: self.clock_skew,
            session_ttl: self.session_ttl,
            login_timeout: self.login_timeout,
            provider_timeout: self.provider_timeout,
            provider_retry_after: self.provider_retry_after,
            refresh_skew: self.refresh_skew,
            webhook_secret: self.webhook_secret,
            previous_webhook_secret: self.previous_webhook_secret,
            provider_logout_path: self.provider_logout_path,
            scopes: self.scopes,
            signing_algs: self.signing_algs,
            logout_path: self.logout_path,
            webhook_path: self.webhook_path,
            cookies: CookieSettings {
                secure: app_url.scheme() == "https",
                pending_login_key: derive_key(label, &secret, "pending-login"),
                previous_pending_login_key: previous
                    .as_deref()
                    .map(|previous| derive_key(label, previous, "pending-login")),
                callback_path: self.callback_path,
                login_path: self.login_path,
                session_cookie: self.session_cookie,
                pending_cookie_prefix: self.pending_cookie_prefix,
                pending_index_cookie: self.pending_index_cookie,
            },
        };
        Ok(OidcConfig {
            auth,
            sessions,
            app_url,
            // The session cookie's key is derived as it always was (cookie's HKDF), so an
            // upgrade keeps everybody logged in.
            cookie_key: Key::derive_from(&secret),
            previous_cookie_key: previous.as_deref().map(Key::derive_from),
            user_agent: self.user_agent,
            same_origin_prefixes: self.same_origin_prefixes,
            error_page: self.error_page,
        })
    }
}

#[cfg(feature = "env")]
impl OidcConfigBuilder {
    /// The builder filled from the process environment: `ISSUER`, `CLIENT_ID`,
    /// `CLIENT_SECRET`, `APP_URL`, `APP_SECRET_KEY` (+ `_PREVIOUS`), `REDIS_URL` or
    /// `SESSION_DB` (default `.data/sessions.db`), `MAX_SESSIONS_PER_USER`,
    /// `WEBHOOK_SIGNING_SECRET` (+ `_PREVIOUS`), `SESSION_TTL_SECS`, `REFRESH_SKEW_SECS`,
    /// `CLOCK_SKEW_SECS`, `PROVIDER_TIMEOUT_SECS`. A debug build without `APP_SECRET_KEY`
    /// gets a random key (sessions then end with the process).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok(), cfg!(debug_assertions))
    }

    /// [`from_env`](Self::from_env) through `lookup`, so that an app can add defaults of its
    /// own and tests can pass their variables. `development` allows a missing
    /// `APP_SECRET_KEY` (a random key is generated). Empty values count as unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        development: bool,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let secret_key = match get("APP_SECRET_KEY") {
            Some(secret) => Some(secret.into_bytes()),
            None if development => {
                let mut bytes = vec![0u8; 64];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                Some(bytes)
            }
            None => None,
        };
        let store = match get("REDIS_URL") {
            Some(url) => {
                parse_redis_url(&url).map_err(|reason| ConfigError::Invalid {
                    var: "REDIS_URL",
                    reason,
                    fix: "Set REDIS_URL to e.g. redis://127.0.0.1:6379/0, or unset it to keep sessions in SQLite (SESSION_DB)",
                })?;
                StoreLocation::Redis(url)
            }
            None => StoreLocation::Sqlite(PathBuf::from(
                get("SESSION_DB").unwrap_or_else(|| ".data/sessions.db".to_owned()),
            )),
        };
        let mut builder = Self {
            issuer: get("ISSUER"),
            client_id: get("CLIENT_ID"),
            client_secret: get("CLIENT_SECRET").map(SecretString::from),
            app_url: get("APP_URL"),
            secret_key,
            previous_secret_key: get("APP_SECRET_KEY_PREVIOUS").map(String::into_bytes),
            store,
            webhook_secret: get("WEBHOOK_SIGNING_SECRET").map(SecretString::from),
            previous_webhook_secret: get("WEBHOOK_SIGNING_SECRET_PREVIOUS").map(SecretString::from),
            ..Self::default()
        };
        if let Some(max) = get("MAX_SESSIONS_PER_USER") {
            builder.max_sessions_per_user = max
                .parse()
                .ok()
                .filter(|max| *max > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    var: "MAX_SESSIONS_PER_USER",
                    reason: "it must be a whole number above 0".into(),
                    fix: "Set it to how many sessions (browsers, devices) one user may have at once, e.g. 100",
                })?;
        }
        let secs = |var: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map(Duration::from_secs)
                    .map_err(|_| ConfigError::Invalid {
                        var,
                        reason: format!("{v:?} is not a whole number of seconds"),
                        fix: "Use a whole number of seconds, e.g. 60",
                    }),
            }
        };
        builder.session_ttl = secs("SESSION_TTL_SECS", builder.session_ttl)?;
        builder.refresh_skew = secs("REFRESH_SKEW_SECS", builder.refresh_skew)?;
        builder.clock_skew = secs("CLOCK_SKEW_SECS", builder.clock_skew)?;
        builder.provider_timeout = secs("PROVIDER_TIMEOUT_SECS", builder.provider_timeout)?;
        Ok(builder)
    }
}

fn check_webhook_secret(
    secret: Option<&SecretString>,
    var: &'static str,
    fix: &'static str,
) -> Result<(), ConfigError> {
    use secrecy::ExposeSecret;
    match secret {
        Some(secret) if secret.expose_secret().chars().count() < MIN_WEBHOOK_SECRET_LEN => {
            Err(ConfigError::Invalid {
                var,
                reason: format!("it is shorter than {MIN_WEBHOOK_SECRET_LEN} characters"),
                fix,
            })
        }
        _ => Ok(()),
    }
}

/// A cookie key for one purpose, derived from the secret (see [`derive_bytes`]).
fn derive_key(label: &str, secret: &[u8], purpose: &str) -> Key {
    Key::from(&derive_bytes::<64>(label, secret, purpose))
}

/// `N` bytes for one purpose, derived from the secret with HKDF-SHA256 under
/// `"{label} {purpose} v1"`, so that keys for different jobs are independent of each other.
fn derive_bytes<const N: usize>(label: &str, secret: &[u8], purpose: &str) -> [u8; N] {
    let mut okm = [0u8; N];
    let info = format!("{label} {purpose} v1");
    // 32 or 64 bytes is far below HKDF-SHA256's limit of 255 * 32: this cannot fail.
    if Hkdf::<Sha256>::new(None, secret)
        .expand(info.as_bytes(), &mut okm)
        .is_err()
    {
        unreachable!("HKDF output of {N} bytes is always valid");
    }
    okm
}

/// FusionAuth's ids are UUIDs, which FusionAuth writes in lower case (the id_token's `aud`
/// among them); a kickstart or `.env` may spell them in upper case.
fn normalize_client_id(value: &str) -> String {
    let groups: Vec<&str> = value.split('-').collect();
    let is_uuid = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()));
    if is_uuid {
        value.to_ascii_lowercase()
    } else {
        value.to_owned()
    }
}

fn parse_url(var: &'static str, value: &str, fix: &'static str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|e| ConfigError::Invalid {
        var,
        reason: format!("{value:?}: {e}"),
        fix,
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::Invalid {
            var,
            reason: format!("{value:?} is not an http(s) URL"),
            fix,
        });
    }
    Ok(url)
}

#[cfg(all(test, feature = "env"))]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    const CLIENT_ID: &str = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e";

    /// The configuration from `vars` on top of a valid minimum.
    fn config(vars: &[(&str, &str)], development: bool) -> Result<OidcConfig, ConfigError> {
        let mut all: HashMap<String, String> = [
            ("ISSUER", "http://localhost:9011"),
            ("CLIENT_ID", CLIENT_ID),
            ("CLIENT_SECRET", "the-client-secret"),
            ("APP_URL", "http://localhost:3000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        OidcConfigBuilder::from_lookup(|name| all.get(name).cloned(), development)?.build()
    }

    #[test]
    fn every_default_is_the_previous_release_s_value() {
        let c = config(&[("APP_SECRET_KEY", &"k".repeat(40))], false).expect("valid");
        let auth = &c.auth;
        assert_eq!(auth.cookies.session_name(), "fa_leptos_session");
        assert_eq!(auth.cookies.pending_prefix(), "fa_login.");
        assert_eq!(auth.cookies.pending_index_name(), "fa_logins");
        assert_eq!(auth.scopes, ["profile", "email", "offline_access"]);
        assert_eq!(auth.session_ttl, Duration::from_secs(8 * 3600));
        assert_eq!(auth.login_timeout, Duration::from_secs(600));
        assert_eq!(auth.refresh_skew, Duration::from_secs(60));
        assert_eq!(auth.clock_skew, Duration::from_secs(60));
        assert_eq!(auth.provider_timeout, Duration::from_secs(10));
        assert_eq!(c.sessions.max_sessions_per_user, 100);
        assert_eq!(
            c.sessions.location,
            StoreLocation::Sqlite(".data/sessions.db".into())
        );
        // The key-derivation labels of the previous release: an upgrade logs nobody out.
        assert_eq!(
            c.sessions.data_key,
            derive_bytes::<32>("fusionauth-leptos", &[b'k'; 40], "session-data")
        );
        let info = b"fusionauth-leptos user-index v1";
        let mut expected = [0u8; 32];
        Hkdf::<Sha256>::new(None, &[b'k'; 40])
            .expand(info, &mut expected)
            .expect("32 bytes");
        assert_eq!(c.sessions.index_keys[0], expected);
    }

    #[test]
    fn required_settings_are_named_when_missing() {
        let err = OidcConfig::builder().build().expect_err("must fail");
        assert!(err.to_string().starts_with("ISSUER is not set."), "{err}");
        let err = OidcConfig::builder()
            .issuer("http://localhost:9011")
            .client("id", "secret")
            .app_url("http://localhost:3000")
            .build()
            .expect_err("must fail");
        assert!(
            err.to_string().starts_with("APP_SECRET_KEY is not set."),
            "{err}"
        );
    }

    #[test]
    fn weak_secret_key_is_refused_even_in_development() {
        let err = config(&[("APP_SECRET_KEY", "short")], true).expect_err("must fail");
        assert!(err.to_string().contains("APP_SECRET_KEY"), "{err}");
    }

    #[test]
    fn a_short_webhook_secret_is_refused() {
        let key = "k".repeat(40);
        let good = "w".repeat(40);
        for var in ["WEBHOOK_SIGNING_SECRET", "WEBHOOK_SIGNING_SECRET_PREVIOUS"] {
            let mut vars = vec![
                ("APP_SECRET_KEY", key.as_str()),
                ("WEBHOOK_SIGNING_SECRET", good.as_str()),
            ];
            vars.push((var, "short-webhook-secret"));
            let err = config(&vars, false).expect_err("must fail");
            assert!(
                matches!(err, ConfigError::Invalid { var: named, .. } if named == var),
                "{err}"
            );
            assert!(
                err.to_string().contains("shorter than 32 characters"),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_urls_name_the_variable() {
        let err = config(&[("ISSUER", "localhost:9011")], true).expect_err("must fail");
        assert!(err.to_string().starts_with("ISSUER is not valid"), "{err}");
        let err = config(&[("APP_URL", "http://x.test/app")], true).expect_err("must fail");
        assert!(err.to_string().starts_with("APP_URL is not valid"), "{err}");
    }

    #[test]
    fn https_app_url_makes_cookies_secure() {
        let c = config(
            &[
                ("APP_URL", "https://app.example.com"),
                ("APP_SECRET_KEY", &"k".repeat(40)),
            ],
            false,
        )
        .expect("valid");
        assert!(c.secure_cookies());
        assert_eq!(
            c.auth.redirect_uri.as_str(),
            "https://app.example.com/callback"
        );
        // Secure cookies get the prefixes that make browsers enforce it.
        assert_eq!(c.auth.cookies.session_name(), "__Host-fa_leptos_session");
        assert!(c.auth.cookies.pending_prefix().starts_with("__Secure-"));
    }

    #[test]
    fn client_id_uuid_is_compared_in_lower_case() {
        let upper = CLIENT_ID.to_ascii_uppercase();
        let c = config(&[("CLIENT_ID", &upper)], true).expect("valid");
        assert_eq!(c.auth.client_id, CLIENT_ID);
        let c = config(&[("CLIENT_ID", "Not-A-Uuid")], true).expect("valid");
        assert_eq!(
            c.auth.client_id, "Not-A-Uuid",
            "other ids are kept as they are"
        );
    }

    #[test]
    fn keys_for_different_purposes_differ() {
        let secret = b"a-secret-that-is-long-enough-for-the-app-0123";
        let label = "fusionauth-leptos";
        let pending = derive_key(label, secret, "pending-login");
        assert_ne!(
            pending.master(),
            derive_key(label, secret, "other").master()
        );
        assert_ne!(pending.master(), Key::derive_from(secret).master());
        assert_ne!(
            pending.master(),
            derive_key("another-app", secret, "pending-login").master()
        );
        assert_eq!(
            pending.master(),
            derive_key(label, secret, "pending-login").master()
        );
    }

    #[test]
    fn revocation_finds_sessions_indexed_under_the_previous_key() {
        let old = config(&[("APP_SECRET_KEY", &"o".repeat(40))], false).expect("valid");
        let rotated = config(
            &[
                ("APP_SECRET_KEY", &"n".repeat(40)),
                ("APP_SECRET_KEY_PREVIOUS", &"o".repeat(40)),
            ],
            false,
        )
        .expect("valid");
        assert_eq!(old.sessions.index_keys.len(), 1);
        assert_eq!(rotated.sessions.index_keys.len(), 2);
        assert_ne!(rotated.sessions.index_keys[0], old.sessions.index_keys[0]);
        assert_eq!(rotated.sessions.index_keys[1], old.sessions.index_keys[0]);
    }

    #[test]
    fn the_session_cap_is_a_positive_number() {
        for bad in ["0", "-1", "many"] {
            let err = config(&[("MAX_SESSIONS_PER_USER", bad)], true).expect_err("must fail");
            assert!(
                err.to_string()
                    .starts_with("MAX_SESSIONS_PER_USER is not valid"),
                "{err}"
            );
        }
    }

    #[test]
    fn clock_skew_must_be_a_number() {
        let err = config(&[("CLOCK_SKEW_SECS", "1m")], true).expect_err("must fail");
        assert!(
            err.to_string().starts_with("CLOCK_SKEW_SECS is not valid"),
            "{err}"
        );
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let c = config(&[("WEBHOOK_SIGNING_SECRET", &"w".repeat(40))], true).expect("valid");
        let shown = format!("{c:?}");
        assert!(!shown.contains("the-client-secret"));
        assert!(!shown.contains(&"w".repeat(40)));
        assert!(c
            .auth
            .webhook_secret
            .as_ref()
            .is_some_and(|s| s.expose_secret() == "w".repeat(40)));
    }
}
