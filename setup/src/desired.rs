//! The state the app needs in FusionAuth, as the JSON bodies FusionAuth's admin API takes.
//!
//! The kickstart file sends the same bodies (`tests/consistency.rs` compares them), so a
//! Docker instance and an instance configured by this tool end up identical.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

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

/// Everything the steps converge FusionAuth to.
#[derive(Debug)]
pub struct Desired {
    pub issuer: String,
    pub app_url: String,
    pub client_id: String,
    /// Redacted from `Debug`; the report never prints it either.
    pub client_secret: SecretString,
    pub signing_key_id: String,
}

impl Desired {
    /// Takes the values from the command line (which falls back to the environment and to
    /// [`defaults`]) and checks the ones that end up in URL paths.
    pub fn from_cli(cli: &Cli) -> Result<Self, SetupError> {
        for (what, id) in [("CLIENT_ID", &cli.client_id), ("--key-id", &cli.key_id)] {
            if !is_uuid(id) {
                return Err(SetupError::NotUuid {
                    what,
                    value: id.clone(),
                });
            }
        }
        Ok(Self {
            issuer: cli.issuer.trim_end_matches('/').to_owned(),
            app_url: cli.app_url.trim_end_matches('/').to_owned(),
            client_id: cli.client_id.to_ascii_lowercase(),
            client_secret: cli.client_secret.clone(),
            signing_key_id: cli.key_id.to_ascii_lowercase(),
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
        }
    }

    /// Body of `PATCH /api/tenant/{id}`.
    pub fn tenant_patch(&self) -> Value {
        json!({ "tenant": { "issuer": self.issuer } })
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
    fn uuid_check_rejects_path_tricks() {
        assert!(is_uuid(defaults::CLIENT_ID));
        assert!(!is_uuid("../../api/user"));
        assert!(!is_uuid("e9fdb985-9173-4e01-9d73-ac2d60d1dc8"));
    }
}
