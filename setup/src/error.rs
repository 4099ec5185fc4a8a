//! Everything that stops the tool. Each message is one line that names the fix.

use crate::client::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no API key: set FUSIONAUTH_API_KEY (or fusionauth_api_key). To get one, create it in FusionAuth's admin UI (Settings > API Keys > Add); with docker compose it is FUSIONAUTH_API_KEY in fusionauth.env")]
    MissingApiKey,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("{what} must be a UUID (8-4-4-4-12 hexadecimal digits), not {value:?}")]
    NotUuid { what: &'static str, value: String },
    #[error("FusionAuth has no tenant: check that --url points at FusionAuth")]
    NoTenant,
    #[error("FusionAuth has {} tenants; pick one with --tenant <id or name>: {}", .0.len(), .0.join(", "))]
    SeveralTenants(Vec<String>),
    #[error("no tenant matches --tenant {wanted:?}; tenants: {}", .existing.join(", "))]
    UnknownTenant {
        wanted: String,
        existing: Vec<String>,
    },
    #[error("signing key {id} exists but is {algorithm}, not RS256: pass another --key-id, or delete that key in FusionAuth (Settings > Key Master)")]
    WrongKeyAlgorithm { id: String, algorithm: String },
    #[error("key {id} (--webhook-key-id) exists but is {found}, not an HS256 HMAC key: pass another --webhook-key-id, or delete that key in FusionAuth (Settings > Key Master)")]
    WrongWebhookKey { id: String, found: String },
    #[error("the webhook signing secret (--webhook-secret / WEBHOOK_SIGNING_SECRET) must be 32 to 256 characters: generate one with `openssl rand -base64 48`")]
    BadWebhookSecret,
    #[error("--webhook-url / FUSIONAUTH_WEBHOOK_URL must be an absolute http(s) URL, e.g. http://host.docker.internal:3000/webhooks/fusionauth, not {0:?}")]
    BadWebhookUrl(String),
    #[error("no user with email {0} in the tenant: create it in FusionAuth's admin UI (Users > Add), or pass the email of an existing user to --user")]
    UserNotFound(String),
    #[error("the tenant has no users: create one in FusionAuth's admin UI (Users > Add), then run setup again")]
    NoUsers,
    #[error("the tenant has {total} users; pick one with --user <email>: {}", .listed.join(", "))]
    SeveralUsers { total: u64, listed: Vec<String> },
}
