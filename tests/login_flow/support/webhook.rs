//! FusionAuth's webhooks as FusionAuth sends them: a JSON body and, in
//! `X-FusionAuth-Signature-JWT`, an HS256 JWT whose `request_body_sha256` is the base64
//! SHA-256 of the body.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{app::TestApp, provider::now};

/// The development secret (crates/defaults), which test apps use.
pub const SECRET: &str = fusionauth_leptos::defaults::WEBHOOK_SIGNING_SECRET;

/// A `jwt.refresh-token.revoke` event for `user_id`, as FusionAuth's revoke-by-user sends it.
pub fn revoke_event(user_id: &str) -> Value {
    json!({
        "event": {
            "id": uuid_like(),
            "createInstant": now() * 1000,
            "type": "jwt.refresh-token.revoke",
            "tenantId": "d7d09513-a3f5-401c-9685-34ab6c552453",
            "userId": user_id,
            "applicationTimeToLiveInSeconds": {},
            "user": { "id": user_id, "email": "richard@example.com", "active": true },
            "info": {},
        }
    })
}

fn uuid_like() -> String {
    let h = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The signature header for `body`, signed with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let claims = json!({
        "request_body_sha256": STANDARD.encode(Sha256::digest(body)),
        "iat": now(),
        "exp": now() + 60,
    });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signs")
}

/// POSTs `body` to the app's webhook endpoint with `signature` (none when `None`).
pub async fn deliver(app: &TestApp, body: &[u8], signature: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(app.url(fusionauth_leptos::defaults::WEBHOOK_PATH))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-FusionAuth-Signature-JWT", signature);
    }
    request.send().await.expect("webhook delivered")
}

/// A correctly signed delivery of `event`.
pub async fn deliver_signed(app: &TestApp, event: &Value) -> reqwest::Response {
    let body = serde_json::to_vec(event).expect("json");
    deliver(app, &body, Some(&signature(SECRET, &body))).await
}
