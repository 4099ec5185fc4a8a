//! The state the app needs in FusionAuth, as the JSON bodies FusionAuth's admin API takes.
//!
//! The kickstart file sends the same bodies (`tests/consistency.rs` compares them), so a
//! Docker instance and an instance configured by this tool end up identical.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use crate::{cli::Cli, defaults, error::SetupError};

/// The application's name in FusionAuth's admin UI.
pub const APPLICATION_NAME: &str = "LeptosExampleApp";
/// The signing key's name in FusionAuth's Key Master.
pub const SIGNING_KEY_NAME: &str = "For LeptosExampleApp";
/// The only algorithm the app's id-token verifier accepts by default.
pub const SIGNING_KEY_ALGORITHM: &str = "RS256";
/// RSA modulus length, in bits.
pub const SIGNING_KEY_LENGTH: u32 = 2048;
/// The application's `oauthConfiguration.logoutBehavior`: FusionAuth's logout page loads every
/// application's logoutURL in a hidden iframe (front-channel logout) before it redirects, so a
/// logout started anywhere also ends the app's session through its `/logout`. The other value,
/// `RedirectOnly`, only redirects.
pub const LOGOUT_BEHAVIOR: &str = "AllApplications";

/// Access token lifetime (`jwtConfiguration.timeToLiveInSeconds`; FusionAuth's default is
/// 3,600). Short, because the app refreshes it: a refresh token FusionAuth revoked stops the
/// session within 5 minutes even when the revocation webhook never arrives.
pub const ACCESS_TOKEN_TTL_SECS: u32 = 300;
/// `refreshTokenExpirationPolicy`: the lifetime restarts at each use (so an active user is not
/// logged out mid-session) but never runs past [`REFRESH_TOKEN_MAX_MINUTES`] from the login (so
/// a leaked token cannot be kept alive forever by using it). FusionAuth's default is `Fixed`.
pub const REFRESH_TOKEN_EXPIRATION: &str = "SlidingWindowWithMaximumLifetime";
/// `refreshTokenTimeToLiveInMinutes`, the sliding window: unused for 2 hours, the token expires.
pub const REFRESH_TOKEN_IDLE_MINUTES: u32 = 120;
/// `refreshTokenSlidingWindowConfiguration.maximumTimeToLiveInMinutes`: 8 hours, the app's
/// session lifetime (`SESSION_TTL_SECS`): no refresh token outlives the session it belongs to.
pub const REFRESH_TOKEN_MAX_MINUTES: u32 = 480;
// FusionAuth refuses a maximum lifetime shorter than the sliding window; and an access token
// must expire well inside the window, or the app's refreshes would not keep the window open.
const _: () = assert!(REFRESH_TOKEN_MAX_MINUTES >= REFRESH_TOKEN_IDLE_MINUTES);
const _: () = assert!(ACCESS_TOKEN_TTL_SECS < REFRESH_TOKEN_IDLE_MINUTES * 60);
/// `refreshTokenUsagePolicy`: each refresh returns a new refresh token and the old one stops
/// working (rotation), so a copied token is good for one use at most. FusionAuth's default is
/// `Reusable`.
pub const REFRESH_TOKEN_USAGE: &str = "OneTimeUse";

/// The events the app acts on (it ends the sessions they name): enabled on the webhook and on
/// the tenant, because FusionAuth sends a webhook only the events its tenant has enabled.
pub const WEBHOOK_EVENTS: [&str; 3] =
    ["jwt.refresh-token.revoke", "user.deactivate", "user.delete"];
/// `tenant.eventConfiguration.events[type].transactionType`: FusionAuth does not wait for the
/// webhook's answer, so an app that is down never blocks deleting or deactivating a user.
pub const WEBHOOK_TRANSACTION_TYPE: &str = "None";
/// The webhook's description in FusionAuth's admin UI.
pub const WEBHOOK_DESCRIPTION: &str =
    "LeptosExampleApp: ends sessions whose refresh token is revoked or whose user is deactivated or deleted";
/// Milliseconds FusionAuth waits to connect to the app, and then for its answer.
pub const WEBHOOK_CONNECT_TIMEOUT_MS: u32 = 1_000;
pub const WEBHOOK_READ_TIMEOUT_MS: u32 = 3_000;
/// The webhook signing key's name in Key Master, before its id: names are unique there, and a
/// new secret takes a new key (see `steps::key`), which must not clash with the old one's name.
pub const WEBHOOK_KEY_NAME_PREFIX: &str = "Webhook signatures for LeptosExampleApp";
/// HMAC with SHA-256: the app holds the same secret and checks `X-FusionAuth-Signature-JWT`.
pub const WEBHOOK_KEY_ALGORITHM: &str = "HS256";
/// Key Master's key type for an imported HMAC secret (required by the import API).
pub const WEBHOOK_KEY_TYPE: &str = "HMAC";
/// An HS256 key must be at least as long as the hash, 256 bits (RFC 7518, section 3.2);
/// FusionAuth takes secrets of at most 256 characters.
pub const WEBHOOK_SECRET_LEN: std::ops::RangeInclusive<usize> = 32..=256;

/// Everything the steps converge FusionAuth to.
#[derive(Debug)]
pub struct Desired {
    pub issuer: String,
    pub app_url: String,
    pub client_id: String,
    /// Redacted from `Debug`; the report never prints it either.
    pub client_secret: SecretString,
    pub signing_key_id: String,
    /// Id of the HMAC key in Key Master that signs the webhooks.
    pub webhook_key_id: String,
    /// That key's secret. Redacted from `Debug`; never printed.
    pub webhook_secret: SecretString,
    /// Where FusionAuth sends the webhooks.
    pub webhook_url: String,
    /// Whether `--webhook-url` / `FUSIONAUTH_WEBHOOK_URL` named it (else it is
    /// `APP_URL` + [`defaults::WEBHOOK_PATH`], which an existing webhook's URL does not have to
    /// follow: see `steps::webhook`).
    pub webhook_url_given: bool,
}

impl Desired {
    /// Takes the values from the command line (which falls back to the environment and to
    /// [`defaults`]) and checks the ones that end up in URL paths.
    pub fn from_cli(cli: &Cli) -> Result<Self, SetupError> {
        for (what, id) in [
            ("CLIENT_ID", &cli.client_id),
            ("--key-id", &cli.key_id),
            ("--webhook-key-id", &cli.webhook_key_id),
        ] {
            if !is_uuid(id) {
                return Err(SetupError::NotUuid {
                    what,
                    value: id.clone(),
                });
            }
        }
        if !WEBHOOK_SECRET_LEN.contains(&cli.webhook_secret.expose_secret().chars().count()) {
            return Err(SetupError::BadWebhookSecret);
        }
        let app_url = cli.app_url.trim_end_matches('/').to_owned();
        let webhook_url = match &cli.webhook_url {
            Some(url) if is_http_url(url) => url.clone(),
            Some(url) => return Err(SetupError::BadWebhookUrl(url.clone())),
            None => format!("{app_url}{}", defaults::WEBHOOK_PATH),
        };
        Ok(Self {
            issuer: cli.issuer.trim_end_matches('/').to_owned(),
            app_url,
            client_id: cli.client_id.to_ascii_lowercase(),
            client_secret: cli.client_secret.clone(),
            signing_key_id: cli.key_id.to_ascii_lowercase(),
            webhook_key_id: cli.webhook_key_id.to_ascii_lowercase(),
            webhook_secret: cli.webhook_secret.clone(),
            webhook_url,
            webhook_url_given: cli.webhook_url.is_some(),
        })
    }

    /// The tutorial's defaults, as the kickstart file uses them.
    pub fn development() -> Self {
        Self {
            issuer: defaults::ISSUER.to_owned(),
            app_url: defaults::APP_URL.to_owned(),
            client_id: defaults::CLIENT_ID.to_owned(),
            client_secret: defaults::CLIENT_SECRET.into(),
            signing_key_id: defaults::SIGNING_KEY_ID.to_owned(),
            webhook_key_id: defaults::WEBHOOK_SIGNING_KEY_ID.to_owned(),
            webhook_secret: defaults::WEBHOOK_SIGNING_SECRET.into(),
            webhook_url: format!("{}{}", defaults::APP_URL, defaults::WEBHOOK_PATH),
            webhook_url_given: false,
        }
    }

    /// Body of `PATCH /api/tenant/{id}` (a plain PATCH: it has no arrays, and its objects merge
    /// into the tenant's); also the target the tenant step converges to.
    pub fn tenant_patch(&self) -> Value {
        let events: Map<String, Value> = WEBHOOK_EVENTS
            .iter()
            .map(|event| {
                let config =
                    json!({ "enabled": true, "transactionType": WEBHOOK_TRANSACTION_TYPE });
                ((*event).to_owned(), config)
            })
            .collect();
        json!({
            "tenant": {
                "issuer": self.issuer,
                "eventConfiguration": { "events": events },
                // Tenant-wide (the Application API has no such field). FusionAuth's defaults
                // for the first two, named so nobody turns them off unnoticed; the third makes
                // rotation a theft detector: when a rotated-out refresh token comes back, one
                // of its two holders is a thief, and FusionAuth revokes the token (the app
                // hears of it through `jwt.refresh-token.revoke` and ends the session).
                "jwtConfiguration": {
                    "refreshTokenRevocationPolicy": {
                        "onLoginPrevented": true,
                        "onOneTimeTokenReuse": true,
                        "onPasswordChanged": true,
                    }
                },
            }
        })
    }

    /// Body of `POST /api/key/generate/{keyId}`.
    pub fn key_request(&self) -> Value {
        json!({
            "key": {
                "algorithm": SIGNING_KEY_ALGORITHM,
                "name": SIGNING_KEY_NAME,
                "length": SIGNING_KEY_LENGTH,
            }
        })
    }

    /// Body of `POST /api/key/import/{keyId}`: the HMAC secret the webhooks are signed with.
    pub fn webhook_key_request(&self) -> Value {
        json!({
            "key": {
                "algorithm": WEBHOOK_KEY_ALGORITHM,
                "name": format!("{WEBHOOK_KEY_NAME_PREFIX} {}", self.webhook_key_id),
                "secret": self.webhook_secret.expose_secret(),
                "type": WEBHOOK_KEY_TYPE,
            }
        })
    }

    /// Body of `POST /api/webhook/{id}`; also the target a merge-patch converges to. Scoped to
    /// the app's tenant (`global: false`): events of other tenants are none of its business.
    pub fn webhook_request(&self, tenant_id: &str) -> Value {
        let events: Map<String, Value> = WEBHOOK_EVENTS
            .iter()
            .map(|event| ((*event).to_owned(), Value::Bool(true)))
            .collect();
        json!({
            "webhook": {
                "connectTimeout": WEBHOOK_CONNECT_TIMEOUT_MS,
                "description": WEBHOOK_DESCRIPTION,
                "eventsEnabled": events,
                "global": false,
                "readTimeout": WEBHOOK_READ_TIMEOUT_MS,
                "signatureConfiguration": { "enabled": true, "signingKeyId": self.webhook_key_id },
                "tenantIds": [tenant_id],
                "url": self.webhook_url,
            }
        })
    }

    /// Body of `POST /api/application/{id}`; also the target a merge-patch converges to.
    pub fn application_request(&self) -> Value {
        let app = &self.app_url;
        json!({
            "application": {
                "name": APPLICATION_NAME,
                "oauthConfiguration": {
                    // The callback, and the post-logout redirect the app sends on logout
                    // (FusionAuth only honours one listed here).
                    "authorizedRedirectURLs": [
                        format!("{app}{}", defaults::CALLBACK_PATH),
                        format!("{app}{}", defaults::POST_LOGOUT_PATH),
                    ],
                    "clientSecret": self.client_secret.expose_secret(),
                    "enabledGrants": ["authorization_code", "refresh_token"],
                    // Without it FusionAuth issues no refresh token, even for `offline_access`.
                    "generateRefreshTokens": true,
                    // Named rather than left to a default that client libraries disagree on.
                    "logoutBehavior": LOGOUT_BEHAVIOR,
                    "logoutURL": format!("{app}{}", defaults::LOGOUT_PATH),
                    "proofKeyForCodeExchangePolicy": "NotRequiredWhenUsingClientAuthentication",
                    "requireRegistration": true,
                },
                "jwtConfiguration": {
                    "enabled": true,
                    "accessTokenKeyId": self.signing_key_id,
                    "idTokenKeyId": self.signing_key_id,
                    "refreshTokenExpirationPolicy": REFRESH_TOKEN_EXPIRATION,
                    "refreshTokenSlidingWindowConfiguration": {
                        "maximumTimeToLiveInMinutes": REFRESH_TOKEN_MAX_MINUTES,
                    },
                    "refreshTokenTimeToLiveInMinutes": REFRESH_TOKEN_IDLE_MINUTES,
                    "refreshTokenUsagePolicy": REFRESH_TOKEN_USAGE,
                    "timeToLiveInSeconds": ACCESS_TOKEN_TTL_SECS,
                },
            }
        })
    }

    /// Body of `POST /api/user/registration/{userId}`: only the registration. An empty
    /// `"user": {}` would turn the call into create-and-register, which fails.
    pub fn registration_request(&self) -> Value {
        json!({ "registration": { "applicationId": self.client_id } })
    }
}

/// The 8-4-4-4-12 hexadecimal form FusionAuth's ids take.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// An absolute `http` or `https` URL with a host.
fn is_http_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// The smallest JSON merge patch (RFC 7396) that turns `current` into something that agrees
/// with `desired` on every field `desired` names. Arrays are compared whole, and a merge patch
/// replaces them whole, which is why updates use `application/merge-patch+json`: a plain
/// FusionAuth PATCH would append to them.
pub fn merge_patch(desired: &Value, current: &Value) -> Option<Value> {
    match (desired, current) {
        (Value::Object(want), Value::Object(have)) => {
            let mut patch = serde_json::Map::new();
            for (key, want_value) in want {
                let have_value = have.get(key).unwrap_or(&Value::Null);
                if let Some(p) = merge_patch(want_value, have_value) {
                    patch.insert(key.clone(), p);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if desired == current => None,
        _ => Some(desired.clone()),
    }
}

/// Dotted paths of the leaves a merge patch sets, for the report.
pub fn changed_fields(patch: &Value) -> Vec<String> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, child, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut out = Vec::new();
    walk("", patch, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_names_only_differing_fields_and_replaces_arrays_whole() {
        let want = json!({"a": {"x": [1, 2], "y": "same"}, "b": true});
        let have = json!({"a": {"x": [1, 2, 3], "y": "same", "z": "theirs"}, "b": true});
        assert_eq!(merge_patch(&want, &have), Some(json!({"a": {"x": [1, 2]}})));
        assert_eq!(merge_patch(&want, &want), None);
        assert_eq!(
            changed_fields(&json!({"a": {"x": [1]}, "b": 1})),
            ["a.x", "b"]
        );
    }

    #[test]
    fn sliding_window_and_its_maximum_are_both_sent() {
        let jwt = &Desired::development().application_request()["application"]["jwtConfiguration"];
        assert_eq!(
            jwt["refreshTokenExpirationPolicy"],
            "SlidingWindowWithMaximumLifetime"
        );
        assert_eq!(
            jwt["refreshTokenTimeToLiveInMinutes"],
            REFRESH_TOKEN_IDLE_MINUTES
        );
        assert_eq!(
            jwt["refreshTokenSlidingWindowConfiguration"]["maximumTimeToLiveInMinutes"],
            REFRESH_TOKEN_MAX_MINUTES
        );
    }

    #[test]
    fn webhook_url_must_be_absolute_http() {
        assert!(is_http_url(
            "http://host.docker.internal:3000/webhooks/fusionauth"
        ));
        assert!(!is_http_url("/webhooks/fusionauth"));
        assert!(!is_http_url("ftp://example.com/hook"));
        assert!(!is_http_url("localhost:3000/webhooks/fusionauth"));
    }

    #[test]
    fn uuid_check_rejects_path_tricks() {
        assert!(is_uuid(defaults::CLIENT_ID));
        assert!(!is_uuid("../../api/user"));
        assert!(!is_uuid("e9fdb985-9173-4e01-9d73-ac2d60d1dc8"));
    }
}
