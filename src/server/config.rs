//! The app's configuration: one typed value, read once at start-up from the environment.
//!
//! The login's variables are the `axum-oidc-sessions` crate's
//! ([`OidcConfigBuilder::from_lookup`]); this app adds the tutorial's development values as
//! their defaults (see `crate::defaults`), its own `REQUEST_TIMEOUT_SECS`, and warnings about
//! development values in use. `APP_SECRET_KEY` has no default: a release build refuses to
//! run without it, a debug build generates one. A release build has no default for
//! `WEBHOOK_SIGNING_SECRET` either (webhooks are then refused). A malformed variable stops
//! start-up with one line naming the variable and the fix.

use std::{net::SocketAddr, time::Duration};

pub use axum_oidc_sessions::config::ConfigError;
use axum_oidc_sessions::config::{OidcConfig, OidcConfigBuilder};
use secrecy::ExposeSecret;

use crate::defaults;

pub struct Config {
    /// The login: provider, client, keys, session store, paths and policies.
    pub oidc: OidcConfig,
    /// Longest time the server works on one request before it answers "try again".
    pub request_timeout: Duration,
    /// Where Prometheus scrapes `/metrics` (`METRICS_ADDR`): a listener of its own, never the
    /// public port. `None`: no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// Development values in use, which production must replace (logged at start-up).
    warnings: Vec<&'static str>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("oidc", &self.oidc)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// The tutorial's value of a login variable, used when the environment has none.
fn tutorial_default(name: &str, development: bool) -> Option<&'static str> {
    match name {
        "ISSUER" => Some(defaults::ISSUER),
        "CLIENT_ID" => Some(defaults::CLIENT_ID),
        "CLIENT_SECRET" => Some(defaults::CLIENT_SECRET),
        "APP_URL" => Some(defaults::APP_URL),
        // A release build without a webhook secret refuses webhooks.
        "WEBHOOK_SIGNING_SECRET" if development => Some(defaults::WEBHOOK_SIGNING_SECRET),
        _ => None,
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
        // The development webhook secret stands in only while no rotation is configured: a
        // previous secret needs a real one that replaces it.
        let rotating_webhook_secret = get("WEBHOOK_SIGNING_SECRET_PREVIOUS").is_some();
        let with_defaults = |name: &str| {
            get(name).or_else(|| {
                if name == "WEBHOOK_SIGNING_SECRET" && rotating_webhook_secret {
                    return None;
                }
                tutorial_default(name, development).map(str::to_owned)
            })
        };
        let oidc = OidcConfigBuilder::from_lookup(with_defaults, development)?
            .user_agent(concat!("fusionauth-leptos/", env!("CARGO_PKG_VERSION")))
            .build()?;

        let request_timeout = Duration::from_secs(match get("REQUEST_TIMEOUT_SECS") {
            None => 30,
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                var: "REQUEST_TIMEOUT_SECS",
                reason: format!("{v:?} is not a whole number of seconds"),
                fix: "Use a whole number of seconds, e.g. 30",
            })?,
        });
        let provider_timeout = oidc.auth.provider_timeout;
        if request_timeout <= provider_timeout {
            return Err(ConfigError::Invalid {
                var: "REQUEST_TIMEOUT_SECS",
                reason: format!(
                    "{}s is not longer than PROVIDER_TIMEOUT_SECS ({}s)",
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

        let mut warnings = Vec::new();
        if get("APP_SECRET_KEY").is_none() {
            warnings.push(
                "APP_SECRET_KEY is not set: using a random key, so sessions end when the server restarts. \
                 Set one in .env (openssl rand -base64 48)",
            );
        }
        if oidc.auth.client_secret.expose_secret() == defaults::CLIENT_SECRET {
            warnings.push(
                "CLIENT_SECRET is the tutorial's development value: set a real one in production",
            );
        }
        let webhook_secret = oidc
            .auth
            .webhook_secret
            .as_ref()
            .map(|secret| secret.expose_secret() == defaults::WEBHOOK_SIGNING_SECRET);
        match (get("WEBHOOK_SIGNING_SECRET").is_some(), webhook_secret) {
            (false, Some(true)) => warnings.push(
                "WEBHOOK_SIGNING_SECRET is not set: using the development secret, with which anyone \
                 who has read this repository can sign webhooks. Set a real one in production",
            ),
            (true, Some(true)) => warnings.push(
                "WEBHOOK_SIGNING_SECRET is the development value, with which anyone who has read \
                 this repository can sign webhooks: set a real one in production",
            ),
            _ => {}
        }
        Ok(Self {
            oidc,
            request_timeout,
            metrics_addr,
            warnings,
        })
    }

    /// Whether cookies must carry `Secure`: whenever the app is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.oidc.secure_cookies()
    }

    /// What start-up warns about: development settings in use, which production must replace.
    pub fn development_warnings(&self) -> &[&'static str] {
        &self.warnings
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
        let auth = &c.oidc.auth;
        assert_eq!(auth.issuer, "http://localhost:9011");
        assert_eq!(auth.client_id, defaults::CLIENT_ID);
        assert_eq!(auth.redirect_uri.as_str(), "http://localhost:3000/callback");
        assert_eq!(
            auth.post_logout_redirect_uri.as_str(),
            "http://localhost:3000/logout"
        );
        assert_eq!(auth.cookies.session_name(), "fa_leptos_session");
        assert_eq!(auth.cookies.login_path, defaults::LOGIN_PATH);
        assert_eq!(auth.cookies.callback_path, defaults::CALLBACK_PATH);
        assert_eq!(auth.logout_path, defaults::LOGOUT_PATH);
        assert_eq!(auth.webhook_path, defaults::WEBHOOK_PATH);
        assert_eq!(auth.provider_logout_path, defaults::PROVIDER_LOGOUT_PATH);
        assert!(c
            .development_warnings()
            .iter()
            .any(|w| w.starts_with("APP_SECRET_KEY is not set")));
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
    fn a_release_build_has_no_webhook_secret_by_default() {
        let c = config(&[("APP_SECRET_KEY", &"k".repeat(40))], false).expect("valid");
        assert!(c.oidc.auth.webhook_secret.is_none());
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
        assert!(!c
            .development_warnings()
            .iter()
            .any(|w| w.contains("WEBHOOK_SIGNING_SECRET")));
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
    fn debug_output_redacts_secrets() {
        let c = config(&[], true).expect("valid");
        let shown = format!("{c:?}");
        assert!(!shown.contains(defaults::CLIENT_SECRET));
    }
}
