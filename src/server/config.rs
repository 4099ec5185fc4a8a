//! The app's configuration: one typed value, read once at start-up from the environment.
//!
//! Every variable has a development default (see `crate::defaults`) except `APP_SECRET_KEY`,
//! which a release build refuses to run without. A release build has no default for
//! `WEBHOOK_SIGNING_SECRET` either (webhooks are then refused). A malformed variable stops
//! start-up with one line naming the variable and the fix.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use hkdf::Hkdf;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tower_sessions::cookie::Key;
use url::Url;

use super::store::{parse_redis_url, SessionStoreSettings, StoreLocation};
use crate::{
    auth::settings::{AuthSettings, CookieSettings},
    defaults,
};

/// Shortest accepted `APP_SECRET_KEY`, in bytes.
const MIN_SECRET_KEY_LEN: usize = 32;

/// Shortest accepted webhook signing secret, in characters (the `setup` tool's rule too).
const MIN_WEBHOOK_SECRET_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is not set. {fix}")]
    Missing {
        var: &'static str,
        fix: &'static str,
    },
    #[error("{var} is not valid ({reason}). {fix}")]
    Invalid {
        var: &'static str,
        reason: String,
        fix: &'static str,
    },
}

/// Where the session cookie's key came from.
pub enum SecretKeySource {
    /// From `APP_SECRET_KEY`.
    Configured,
    /// Generated at start-up because `APP_SECRET_KEY` was unset (development builds only):
    /// sessions do not survive a restart.
    Generated,
}

/// Where the webhook signing secret came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookSecretSource {
    /// From `WEBHOOK_SIGNING_SECRET`.
    Configured,
    /// `defaults::WEBHOOK_SIGNING_SECRET`, because `WEBHOOK_SIGNING_SECRET` is unset
    /// (development builds only): anyone who has read this repository can sign webhooks.
    DevelopmentDefault,
    /// Unset in a release build: webhooks are refused.
    Unset,
}

pub struct Config {
    /// What the login flow needs (issuer, client, timeouts, cookie settings).
    pub auth: AuthSettings,
    /// The app's public base URL, without a trailing slash.
    pub app_url: Url,
    /// Signs the session cookie.
    pub cookie_key: Key,
    /// The key derived from `APP_SECRET_KEY_PREVIOUS`: session cookies it signed are still
    /// accepted (and re-signed), so the secret rotates without logging anybody out.
    pub previous_cookie_key: Option<Key>,
    pub cookie_key_source: SecretKeySource,
    pub webhook_secret_source: WebhookSecretSource,
    /// Where sessions live, and the keys that seal them at rest.
    pub sessions: SessionStoreSettings,
    /// Longest time the server works on one request before it answers "try again".
    pub request_timeout: Duration,
    /// Where Prometheus scrapes `/metrics` (`METRICS_ADDR`): a listener of its own, never the
    /// public port. `None`: no metrics.
    pub metrics_addr: Option<SocketAddr>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("auth", &self.auth)
            .field("app_url", &self.app_url.as_str())
            .field("cookie_key", &"[redacted]")
            .field("sessions", &self.sessions.location)
            .field("request_timeout", &self.request_timeout)
            .field("metrics_addr", &self.metrics_addr)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok(), cfg!(debug_assertions))
    }

    /// Reads the configuration through `lookup`, so tests can pass their own variables.
    /// `development` allows a missing `APP_SECRET_KEY` (a random key is generated instead).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        development: bool,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let issuer = get("ISSUER").unwrap_or_else(|| defaults::ISSUER.to_owned());
        parse_url(
            "ISSUER",
            &issuer,
            "Set ISSUER to FusionAuth's URL, e.g. http://localhost:9011",
        )?;
        let app_url = parse_url(
            "APP_URL",
            get("APP_URL").as_deref().unwrap_or(defaults::APP_URL),
            "Set APP_URL to the app's public base URL, e.g. http://localhost:3000",
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
                fix: "Set APP_URL to e.g. https://app.example.com",
            })
        };
        let redirect_uri = join(defaults::CALLBACK_PATH)?;
        let post_logout_redirect_uri = join(defaults::POST_LOGOUT_PATH)?;

        let (secret, cookie_key_source) = match get("APP_SECRET_KEY") {
            Some(secret) if secret.len() < MIN_SECRET_KEY_LEN => {
                return Err(ConfigError::Invalid {
                    var: "APP_SECRET_KEY",
                    reason: format!("it is shorter than {MIN_SECRET_KEY_LEN} characters"),
                    fix: "Generate one with: openssl rand -base64 48",
                })
            }
            Some(secret) => (secret.into_bytes(), SecretKeySource::Configured),
            None if development => {
                let mut bytes = vec![0u8; 64];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                (bytes, SecretKeySource::Generated)
            }
            None => {
                return Err(ConfigError::Missing {
                    var: "APP_SECRET_KEY",
                    fix: "A release build needs a stable key to sign session cookies. Generate one with: openssl rand -base64 48",
                })
            }
        };

        let previous = match get("APP_SECRET_KEY_PREVIOUS") {
            Some(previous) if previous.len() < MIN_SECRET_KEY_LEN => {
                return Err(ConfigError::Invalid {
                    var: "APP_SECRET_KEY_PREVIOUS",
                    reason: format!("it is shorter than {MIN_SECRET_KEY_LEN} characters"),
                    fix: "Set it to the APP_SECRET_KEY being replaced, or unset it once every session has been renewed",
                })
            }
            previous => previous.map(String::into_bytes),
        };

        let location = match get("REDIS_URL") {
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
        let sessions = SessionStoreSettings {
            location,
            cleanup_interval: Duration::from_secs(60),
            data_key: derive_bytes(&secret, "session-data"),
            previous_data_keys: previous
                .iter()
                .map(|previous| derive_bytes(previous, "session-data"))
                .collect(),
            index_keys: std::iter::once(&secret)
                .chain(&previous)
                .map(|secret| derive_bytes(secret, "user-index"))
                .collect(),
            max_sessions_per_user: match parse_secs(&get, "MAX_SESSIONS_PER_USER", 100) {
                Ok(0) | Err(_) => {
                    return Err(ConfigError::Invalid {
                        var: "MAX_SESSIONS_PER_USER",
                        reason: "it must be a whole number above 0".into(),
                        fix: "Set it to how many sessions (browsers, devices) one user may have at once, e.g. 100",
                    })
                }
                Ok(max) => usize::try_from(max).unwrap_or(usize::MAX),
            },
        };

        let (webhook_secret, webhook_secret_source) = match read_webhook_secret(
            &get,
            "WEBHOOK_SIGNING_SECRET",
            "Generate one with: openssl rand -base64 48, and give FusionAuth's webhook signing key the same secret",
        )? {
            Some(secret) => (Some(secret), WebhookSecretSource::Configured),
            None if development => (
                Some(SecretString::from(defaults::WEBHOOK_SIGNING_SECRET)),
                WebhookSecretSource::DevelopmentDefault,
            ),
            None => (None, WebhookSecretSource::Unset),
        };
        let previous_webhook_secret = read_webhook_secret(
            &get,
            "WEBHOOK_SIGNING_SECRET_PREVIOUS",
            "Set it to the WEBHOOK_SIGNING_SECRET being replaced, or unset it once FusionAuth signs with the new key only",
        )?;
        if previous_webhook_secret.is_some()
            && webhook_secret_source != WebhookSecretSource::Configured
        {
            return Err(ConfigError::Missing {
                var: "WEBHOOK_SIGNING_SECRET",
                fix: "WEBHOOK_SIGNING_SECRET_PREVIOUS is set: set WEBHOOK_SIGNING_SECRET to the secret that replaces it",
            });
        }

        let provider_timeout = Duration::from_secs(parse_secs(&get, "PROVIDER_TIMEOUT_SECS", 10)?);
        let request_timeout = Duration::from_secs(parse_secs(&get, "REQUEST_TIMEOUT_SECS", 30)?);
        if provider_timeout.is_zero() || request_timeout <= provider_timeout {
            return Err(ConfigError::Invalid {
                var: "REQUEST_TIMEOUT_SECS",
                reason: format!(
                    "{}s is not longer than PROVIDER_TIMEOUT_SECS ({}s), or that is 0",
                    request_timeout.as_secs(),
                    provider_timeout.as_secs()
                ),
                fix: "A request may wait for the provider: keep REQUEST_TIMEOUT_SECS well above PROVIDER_TIMEOUT_SECS (defaults 30 and 10)",
            });
        }

        let metrics_addr = get("METRICS_ADDR")
            .map(|addr| {
                addr.parse::<SocketAddr>()
                    .map_err(|e| ConfigError::Invalid {
                        var: "METRICS_ADDR",
                        reason: e.to_string(),
                        fix: "Set METRICS_ADDR to an address and port for Prometheus to scrape, e.g. 127.0.0.1:9100, or unset it",
                    })
            })
            .transpose()?;

        let auth = AuthSettings {
            issuer,
            client_id: normalize_client_id(
                &get("CLIENT_ID").unwrap_or_else(|| defaults::CLIENT_ID.to_owned()),
            ),
            client_secret: SecretString::from(
                get("CLIENT_SECRET").unwrap_or_else(|| defaults::CLIENT_SECRET.to_owned()),
            ),
            redirect_uri,
            post_logout_redirect_uri,
            clock_skew: Duration::from_secs(parse_secs(&get, "CLOCK_SKEW_SECS", 60)?),
            session_ttl: Duration::from_secs(parse_secs(&get, "SESSION_TTL_SECS", 8 * 3600)?),
            login_timeout: Duration::from_secs(10 * 60),
            provider_timeout,
            provider_retry_after: Duration::from_secs(5),
            refresh_skew: Duration::from_secs(parse_secs(&get, "REFRESH_SKEW_SECS", 60)?),
            webhook_secret,
            previous_webhook_secret,
            provider_logout_path: defaults::PROVIDER_LOGOUT_PATH.to_owned(),
            cookies: CookieSettings {
                secure: app_url.scheme() == "https",
                pending_login_key: derive_key(&secret, "pending-login"),
                previous_pending_login_key: previous
                    .as_deref()
                    .map(|previous| derive_key(previous, "pending-login")),
                callback_path: defaults::CALLBACK_PATH.to_owned(),
                login_path: defaults::LOGIN_PATH.to_owned(),
            },
        };
        Ok(Self {
            auth,
            app_url,
            // The session cookie's key is derived as it always was, so upgrading the app
            // keeps everybody logged in.
            cookie_key: Key::derive_from(&secret),
            previous_cookie_key: previous.as_deref().map(Key::derive_from),
            cookie_key_source,
            webhook_secret_source,
            sessions,
            request_timeout,
            metrics_addr,
        })
    }

    /// Whether cookies must carry `Secure`: whenever the app is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.auth.cookies.secure
    }

    /// Whether `CLIENT_SECRET` is still the tutorial's development value.
    pub fn uses_development_client_secret(&self) -> bool {
        self.auth.client_secret.expose_secret() == defaults::CLIENT_SECRET
    }

    /// What start-up warns about: development settings in use, which production must replace.
    pub fn development_warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if matches!(self.cookie_key_source, SecretKeySource::Generated) {
            warnings.push(
                "APP_SECRET_KEY is not set: using a random key, so sessions end when the server restarts. \
                 Set one in .env (openssl rand -base64 48)",
            );
        }
        if self.uses_development_client_secret() {
            warnings.push(
                "CLIENT_SECRET is the tutorial's development value: set a real one in production",
            );
        }
        if self.webhook_secret_source == WebhookSecretSource::DevelopmentDefault {
            warnings.push(
                "WEBHOOK_SIGNING_SECRET is not set: using the development secret, with which anyone \
                 who has read this repository can sign webhooks. Set a real one in production",
            );
        }
        let configured_development_secret =
            self.webhook_secret_source == WebhookSecretSource::Configured
                && self.auth.webhook_secret.as_ref().is_some_and(|secret| {
                    secret.expose_secret() == defaults::WEBHOOK_SIGNING_SECRET
                });
        if configured_development_secret {
            warnings.push(
                "WEBHOOK_SIGNING_SECRET is the development value, with which anyone who has read \
                 this repository can sign webhooks: set a real one in production",
            );
        }
        warnings
    }
}

/// A webhook signing secret from `var`, if set: as long as a key, like `APP_SECRET_KEY`.
fn read_webhook_secret(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    fix: &'static str,
) -> Result<Option<SecretString>, ConfigError> {
    match get(var) {
        Some(secret) if secret.chars().count() < MIN_WEBHOOK_SECRET_LEN => {
            Err(ConfigError::Invalid {
                var,
                reason: format!("it is shorter than {MIN_WEBHOOK_SECRET_LEN} characters"),
                fix,
            })
        }
        secret => Ok(secret.map(SecretString::from)),
    }
}

/// A cookie key for one purpose, derived from `APP_SECRET_KEY` (see [`derive_bytes`]).
fn derive_key(secret: &[u8], purpose: &str) -> Key {
    Key::from(&derive_bytes::<64>(secret, purpose))
}

/// `N` bytes for one purpose, derived from `APP_SECRET_KEY` with HKDF-SHA256, so that keys
/// for different jobs are independent of each other.
fn derive_bytes<const N: usize>(secret: &[u8], purpose: &str) -> [u8; N] {
    let mut okm = [0u8; N];
    let info = format!("fusionauth-leptos {purpose} v1");
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

fn parse_secs(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
            var,
            reason: format!("{v:?} is not a whole number of seconds"),
            fix: "Use a whole number of seconds, e.g. 60",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)], development: bool) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned(), development)
    }

    #[test]
    fn development_defaults_match_the_tutorial() {
        let c = config(&[], true).expect("defaults are valid");
        assert_eq!(c.auth.issuer, "http://localhost:9011");
        assert_eq!(c.auth.client_id, defaults::CLIENT_ID);
        assert_eq!(
            c.auth.redirect_uri.as_str(),
            "http://localhost:3000/callback"
        );
        assert_eq!(
            c.auth.post_logout_redirect_uri.as_str(),
            "http://localhost:3000/logout"
        );
        assert_eq!(c.auth.cookies.session_name(), "fa_leptos_session");
        assert!(matches!(c.cookie_key_source, SecretKeySource::Generated));
        assert!(!c.secure_cookies());
    }

    #[test]
    fn release_refuses_to_start_without_a_secret_key() {
        let err = config(&[], false).expect_err("must fail");
        assert!(
            err.to_string().starts_with("APP_SECRET_KEY is not set."),
            "{err}"
        );
    }

    #[test]
    fn metrics_are_off_unless_metrics_addr_is_set() {
        assert_eq!(config(&[], true).expect("valid").metrics_addr, None);
        let c = config(&[("METRICS_ADDR", "127.0.0.1:9100")], true).expect("valid");
        assert_eq!(
            c.metrics_addr,
            Some("127.0.0.1:9100".parse().expect("addr"))
        );
    }

    #[test]
    fn a_malformed_metrics_addr_stops_start_up_naming_the_variable() {
        for bad in ["9100", "localhost:9100", "127.0.0.1", "127.0.0.1:99999"] {
            let err = config(&[("METRICS_ADDR", bad)], true).expect_err("must fail");
            let line = err.to_string();
            assert!(line.starts_with("METRICS_ADDR is not valid ("), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn weak_secret_key_is_refused_even_in_development() {
        let err = config(&[("APP_SECRET_KEY", "short")], true).expect_err("must fail");
        assert!(err.to_string().contains("APP_SECRET_KEY"), "{err}");
    }

    #[test]
    fn a_release_build_refuses_a_short_webhook_secret() {
        let key = "k".repeat(40);
        for var in ["WEBHOOK_SIGNING_SECRET", "WEBHOOK_SIGNING_SECRET_PREVIOUS"] {
            let mut vars = vec![
                ("APP_SECRET_KEY", key.as_str()),
                ("WEBHOOK_SIGNING_SECRET", defaults::WEBHOOK_SIGNING_SECRET),
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
    fn a_previous_webhook_secret_needs_the_one_that_replaces_it() {
        let previous = "p".repeat(40);
        let err =
            config(&[("WEBHOOK_SIGNING_SECRET_PREVIOUS", &previous)], true).expect_err("must fail");
        assert!(
            err.to_string()
                .starts_with("WEBHOOK_SIGNING_SECRET is not set."),
            "{err}"
        );
    }

    #[test]
    fn a_debug_build_without_a_webhook_secret_records_and_warns_about_the_fallback() {
        let c = config(&[], true).expect("valid");
        assert_eq!(
            c.webhook_secret_source,
            WebhookSecretSource::DevelopmentDefault
        );
        assert!(
            c.development_warnings()
                .iter()
                .any(|w| w.starts_with("WEBHOOK_SIGNING_SECRET is not set")),
            "{:?}",
            c.development_warnings()
        );

        let c = config(
            &[
                ("WEBHOOK_SIGNING_SECRET", defaults::WEBHOOK_SIGNING_SECRET),
                ("APP_SECRET_KEY", &"k".repeat(40)),
            ],
            false,
        )
        .expect("valid");
        assert!(
            c.development_warnings()
                .iter()
                .any(|w| w.starts_with("WEBHOOK_SIGNING_SECRET is the development value")),
            "the development secret set explicitly is warned about too"
        );

        let own = "w".repeat(40);
        let c = config(&[("WEBHOOK_SIGNING_SECRET", &own)], true).expect("valid");
        assert_eq!(c.webhook_secret_source, WebhookSecretSource::Configured);
        assert!(!c
            .development_warnings()
            .iter()
            .any(|w| w.contains("WEBHOOK_SIGNING_SECRET")));
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
        let upper = defaults::CLIENT_ID.to_ascii_uppercase();
        let c = config(&[("CLIENT_ID", &upper)], true).expect("valid");
        assert_eq!(c.auth.client_id, defaults::CLIENT_ID);
        let c = config(&[("CLIENT_ID", "Not-A-Uuid")], true).expect("valid");
        assert_eq!(
            c.auth.client_id, "Not-A-Uuid",
            "other ids are kept as they are"
        );
    }

    #[test]
    fn request_timeout_must_exceed_the_provider_timeout() {
        let err = config(
            &[
                ("PROVIDER_TIMEOUT_SECS", "30"),
                ("REQUEST_TIMEOUT_SECS", "30"),
            ],
            true,
        )
        .expect_err("must fail");
        assert!(
            err.to_string()
                .starts_with("REQUEST_TIMEOUT_SECS is not valid"),
            "{err}"
        );
    }

    #[test]
    fn keys_for_different_purposes_differ() {
        let secret = b"a-secret-that-is-long-enough-for-the-app-0123";
        let pending = derive_key(secret, "pending-login");
        assert_ne!(pending.master(), derive_key(secret, "other").master());
        assert_ne!(pending.master(), Key::derive_from(secret).master());
        assert_eq!(
            pending.master(),
            derive_key(secret, "pending-login").master()
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
        assert_eq!(
            config(&[], true)
                .expect("valid")
                .sessions
                .max_sessions_per_user,
            100
        );
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
        let c = config(&[], true).expect("valid");
        let shown = format!("{c:?}");
        assert!(!shown.contains(defaults::CLIENT_SECRET));
    }
}
