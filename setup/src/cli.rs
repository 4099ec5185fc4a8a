//! Command-line interface. Every option also reads the variable the app itself reads
//! (`ISSUER`, `APP_URL`, `CLIENT_ID`, `CLIENT_SECRET`, `WEBHOOK_SIGNING_SECRET`), so one `.env`
//! configures both.

use clap::Parser;
use secrecy::SecretString;

use crate::defaults;

/// Configure an existing FusionAuth for the app, idempotently.
///
/// Each step checks first and changes only what differs: the tenant (issuer, the events the
/// webhook needs, refresh-token revocation), the RS256 signing key, the HMAC key that signs
/// webhooks, the OAuth application (with refresh-token rotation), the webhook, the user's full
/// name and the user's registration.
/// The API key is read from FUSIONAUTH_API_KEY (or the tutorial's fusionauth_api_key).
///
/// Exit status: 0 changes were made (or, with --dry-run, would be), 3 nothing to do,
/// 1 failure, 2 bad usage.
#[derive(Debug, Parser)]
#[command(name = "setup", version)]
pub struct Cli {
    /// FusionAuth's base URL, as this machine reaches it.
    #[arg(long, env = "FUSIONAUTH_URL", default_value = defaults::ISSUER)]
    pub url: String,

    /// The issuer to set on the tenant: FusionAuth's URL as the browser and the app see it.
    #[arg(long, env = "ISSUER", default_value = defaults::ISSUER)]
    pub issuer: String,

    /// The app's public base URL (redirect, logout and post-logout URLs hang below it).
    #[arg(long, env = "APP_URL", default_value = defaults::APP_URL)]
    pub app_url: String,

    /// The application's id, which is also its OAuth client_id.
    #[arg(long, env = "CLIENT_ID", default_value = defaults::CLIENT_ID)]
    pub client_id: String,

    /// The application's OAuth client secret.
    #[arg(long, env = "CLIENT_SECRET", hide_env_values = true, hide_default_value = true,
          default_value = defaults::CLIENT_SECRET)]
    pub client_secret: SecretString,

    /// Id of the RS256 key that signs id and access tokens.
    #[arg(long, default_value = defaults::SIGNING_KEY_ID)]
    pub key_id: String,

    /// Id of the HMAC (HS256) key that signs the webhooks FusionAuth sends the app.
    #[arg(long, default_value = defaults::WEBHOOK_SIGNING_KEY_ID)]
    pub webhook_key_id: String,

    /// The webhook signing secret, 32 to 256 characters; the app verifies signatures with the
    /// same value. FusionAuth never shows it again, so setup cannot compare it with an existing key.
    #[arg(long, env = "WEBHOOK_SIGNING_SECRET", hide_env_values = true, hide_default_value = true,
          default_value = defaults::WEBHOOK_SIGNING_SECRET)]
    pub webhook_secret: SecretString,

    /// Where FusionAuth sends the webhooks, as FusionAuth reaches the app [default:
    /// APP_URL/webhooks/fusionauth]. An existing webhook keeps its URL unless this is given
    /// (FusionAuth in Docker reaches the app elsewhere than the browser does).
    #[arg(long, env = "FUSIONAUTH_WEBHOOK_URL", value_name = "URL")]
    pub webhook_url: Option<String>,

    /// Email of the user to register; needed when the tenant has several users.
    #[arg(long, value_name = "EMAIL")]
    pub user: Option<String>,

    /// Id or name of the tenant; needed when FusionAuth has several tenants.
    #[arg(long, value_name = "ID_OR_NAME")]
    pub tenant: Option<String>,

    /// Print what would change, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Names the API key may be given under, in order of preference.
pub const API_KEY_VARS: [&str; 2] = ["FUSIONAUTH_API_KEY", "fusionauth_api_key"];

/// The API key from the environment, if one of [`API_KEY_VARS`] holds a non-blank value.
pub fn api_key_from_env(lookup: impl Fn(&str) -> Option<String>) -> Option<SecretString> {
    API_KEY_VARS
        .iter()
        .filter_map(|name| lookup(name))
        .map(|v| v.trim().to_owned())
        .find(|v| !v.is_empty())
        .map(SecretString::from)
}
