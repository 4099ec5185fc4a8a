//! What the login flow needs to know. The app fills these settings (from its environment);
//! tests build or adjust them directly.

use std::time::Duration;

use secrecy::SecretString;
use tower_cookies::Key;
use url::Url;

/// The provider, the client and the timings of the login.
#[derive(Clone)]
pub struct AuthSettings {
    /// The provider's issuer; discovery lives below it and must return it byte for byte.
    pub issuer: String,
    /// The OAuth client id (FusionAuth's application id), in lower case when it is a UUID:
    /// FusionAuth writes ids in lower case into `aud`.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
    /// `APP_URL/callback`: the OAuth redirect URI.
    pub redirect_uri: Url,
    /// `APP_URL/logout`: where the provider sends the browser after logout.
    pub post_logout_redirect_uri: Url,
    /// Leeway for the id_token's `exp`.
    pub clock_skew: Duration,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// How long a started login may take at the provider.
    pub login_timeout: Duration,
    /// Longest wait for one request to the provider.
    pub provider_timeout: Duration,
    /// How long a failed discovery is remembered: meanwhile logins fail at once, with no
    /// request to the provider.
    pub provider_retry_after: Duration,
    /// An access token this close to its expiry is refreshed before the request goes on.
    pub refresh_skew: Duration,
    /// The HMAC secret FusionAuth signs its webhooks with; `None`: webhooks are refused.
    pub webhook_secret: Option<SecretString>,
    /// The secret being replaced while FusionAuth's HMAC key rotates: its signatures are
    /// still accepted.
    pub previous_webhook_secret: Option<SecretString>,
    /// The provider's end-session endpoint below the issuer (FusionAuth: `/oauth2/logout`),
    /// for when discovery cannot be reached at logout.
    pub provider_logout_path: String,
    /// The logout route: POST logs out, GET is FusionAuth's front-channel logout.
    pub logout_path: String,
    /// Where FusionAuth posts its webhooks (exempt from the same-origin guard: they are
    /// signed, and come from FusionAuth's server).
    pub webhook_path: String,
    /// Scopes requested at login besides `openid` (default `profile`, `email` and
    /// `offline_access`, which asks FusionAuth for a refresh token).
    pub scopes: Vec<String>,
    /// The id_token signature algorithms accepted (default RS256 only).
    pub signing_algs: Vec<openidconnect::core::CoreJwsSigningAlgorithm>,
    /// The cookies' names, flags and keys.
    pub cookies: CookieSettings,
}

impl AuthSettings {
    /// The issuer's origin (`scheme://host:port`), for the security policy.
    pub fn issuer_origin(&self) -> Option<String> {
        Url::parse(&self.issuer)
            .ok()
            .map(|url| url.origin().ascii_serialization())
    }

    /// FusionAuth's end-session endpoint, for when discovery cannot be reached at logout.
    pub fn fallback_end_session_endpoint(&self) -> Option<Url> {
        Url::parse(&format!(
            "{}{}",
            self.issuer.trim_end_matches('/'),
            self.provider_logout_path
        ))
        .ok()
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("clock_skew", &self.clock_skew)
            .field("session_ttl", &self.session_ttl)
            .field("login_timeout", &self.login_timeout)
            .field("provider_timeout", &self.provider_timeout)
            .field("refresh_skew", &self.refresh_skew)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "previous_webhook_secret",
                &self.previous_webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("cookies", &self.cookies)
            .finish_non_exhaustive()
    }
}

/// The browser-side half of the login: cookie names, flags and the pending-login key.
#[derive(Clone)]
pub struct CookieSettings {
    /// `Secure` on every cookie (the app is served over https), and the name prefixes that
    /// make browsers enforce it.
    pub secure: bool,
    /// Encrypts the pending-login cookies. Derived from `APP_SECRET_KEY`, apart from the key
    /// that signs the session cookie.
    pub pending_login_key: Key,
    /// The key of `APP_SECRET_KEY_PREVIOUS`: logins started before a rotation still finish.
    pub previous_pending_login_key: Option<Key>,
    /// The OAuth redirect URI's path (`/callback`): the pending-login cookies' `Path`.
    pub callback_path: String,
    /// The path of the page that starts a login (`/login`): the attempt list's `Path`.
    pub login_path: String,
    /// The session cookie's name, before the `__Host-` prefix a secure app adds
    /// (default `fa_leptos_session`).
    pub session_cookie: String,
    /// The pending-login cookies' name prefix, before `__Secure-` (default `fa_login.`).
    pub pending_cookie_prefix: String,
    /// The attempt list's cookie name, before `__Secure-` (default `fa_logins`).
    pub pending_index_cookie: String,
}

impl CookieSettings {
    /// The session cookie. `__Host-` makes the browser refuse it unless it is Secure, has
    /// `Path=/` and no `Domain`, so no sibling subdomain can plant or overwrite it.
    pub fn session_name(&self) -> String {
        self.prefixed("__Host-", &self.session_cookie)
    }

    /// Prefix of the per-attempt pending-login cookies (`Path=/callback`, so not `__Host-`).
    pub fn pending_prefix(&self) -> String {
        self.prefixed("__Secure-", &self.pending_cookie_prefix)
    }

    /// The list of this browser's login attempts, read by `/login` to keep only a few.
    pub fn pending_index_name(&self) -> String {
        self.prefixed("__Secure-", &self.pending_index_cookie)
    }

    fn prefixed(&self, prefix: &str, name: &str) -> String {
        if self.secure {
            format!("{prefix}{name}")
        } else {
            name.to_owned()
        }
    }
}

impl std::fmt::Debug for CookieSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieSettings")
            .field("secure", &self.secure)
            .field("pending_login_key", &"[redacted]")
            .finish()
    }
}
