//! FusionAuth's revocation webhook as FusionAuth sends it (tests/login_flow/support/webhook.rs
//! has the same for the app's tests): a `jwt.refresh-token.revoke` event, signed in
//! `X-FusionAuth-Signature-JWT`, POSTed through nginx. The app runs with the default client
//! id (`spawn_app` leaves `CLIENT_ID` unset), which an application-wide revocation names.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, ensure, Context, Result};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use fusionauth_defaults::{CLIENT_ID, WEBHOOK_PATH};
use hmac::{Hmac, Mac};
use reqwest::header;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::harness::{ms, Env, WEBHOOK_SIGNING_SECRET};

const SIGNATURE_HEADER: &str = "X-FusionAuth-Signature-JWT";
const JWT_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// A delivery, timed.
pub struct Delivery {
    /// Sent at, seconds from the window's start.
    pub at: f64,
    /// Until its answer.
    pub ms: f64,
}

/// POSTs `body` to the webhook endpoint through nginx, signed as FusionAuth signs it.
pub async fn deliver(env: &Env, origin: Instant, body: Vec<u8>) -> Result<Delivery> {
    let signature = signature(WEBHOOK_SIGNING_SECRET, &body)?;
    let url = format!("http://127.0.0.1:{}{WEBHOOK_PATH}", env.app_port);
    let at = origin.elapsed().as_secs_f64();
    let sent = Instant::now();
    let res = env
        .http
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        .context("deliver the revocation webhook")?;
    let status = res.status();
    res.bytes().await?;
    let ms = ms(sent.elapsed());
    ensure!(
        status == 200,
        "the revocation webhook answered {status} (expected 200)"
    );
    Ok(Delivery { at, ms })
}

/// `X-FusionAuth-Signature-JWT` for `body`, as FusionAuth signs a webhook with an HMAC key:
/// an HS256 JWT whose only claim, `request_body_sha256`, is the standard base64 (padded) of
/// the body's SHA-256.
fn signature(secret: &str, body: &[u8]) -> Result<String> {
    let claims = json!({ "request_body_sha256": STANDARD.encode(Sha256::digest(body)) });
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(JWT_HEADER),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| anyhow!("HMAC-SHA256 refused the key"))?;
    mac.update(signed.as_bytes());
    Ok(format!(
        "{signed}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    ))
}

/// FusionAuth's `jwt.refresh-token.revoke`: for every refresh token of `user` (its `userId`,
/// no `applicationId`), or with `None` for the whole application (`applicationId`, no user).
pub fn revocation(user: Option<&str>) -> Result<Vec<u8>> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let mut event = json!({
        "id": format!("bench-{}", now.as_nanos()),
        "createInstant": now.as_millis() as u64,
        "type": "jwt.refresh-token.revoke",
    });
    event["applicationTimeToLiveInSeconds"][CLIENT_ID] = json!(3600);
    match user {
        Some(user) => {
            event["userId"] = json!(user);
            event["user"] = json!({ "id": user });
        }
        None => event["applicationId"] = json!(CLIENT_ID),
    }
    Ok(serde_json::to_vec(&json!({ "event": event }))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"event":{"type":"jwt.refresh-token.revoke","userId":"bench-victim"}}"#;

    #[test]
    fn the_webhook_signature_is_an_hs256_jwt_over_the_body_hash() {
        let secret = WEBHOOK_SIGNING_SECRET;
        let jwt = signature(secret, BODY).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header["alg"], "HS256");
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(claims.as_object().unwrap().len(), 1, "{claims}");
        let hash = STANDARD
            .decode(claims["request_body_sha256"].as_str().unwrap())
            .unwrap();
        assert_eq!(hash, Sha256::digest(BODY).to_vec());
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&decode(parts[2])).unwrap();
        // The same token from python3, with b64u(x) = base64.urlsafe_b64encode(x).rstrip(b"="):
        //   h = b64u(b'{"alg":"HS256","typ":"JWT"}')
        //   p = b64u(json.dumps({"request_body_sha256": base64.b64encode(sha256(BODY).digest())
        //       .decode()}, separators=(",", ":")).encode())
        //   h + "." + p + "." + b64u(hmac.new(SECRET, h + "." + p, sha256).digest())
        assert_eq!(
            jwt,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.\
             eyJyZXF1ZXN0X2JvZHlfc2hhMjU2IjoiQkthVStrUVhPMGRDajN1ZWgyYi9PMXhZZmhOcUg4dU5pSm1vOEdZMTJrYz0ifQ.\
             emhLins3mRogh-Lrjk03pAGqnfZw_fzDtLlzx6-iA3g"
        );
    }

    #[test]
    fn revocations_name_the_user_or_only_the_application() {
        let user: serde_json::Value =
            serde_json::from_slice(&revocation(Some("bench-victim")).unwrap()).unwrap();
        let event = &user["event"];
        assert_eq!(event["type"], "jwt.refresh-token.revoke");
        assert_eq!(event["userId"], "bench-victim");
        assert!(event.get("applicationId").is_none());
        assert!(event["createInstant"].as_u64().unwrap() > 1_700_000_000_000);
        let all: serde_json::Value = serde_json::from_slice(&revocation(None).unwrap()).unwrap();
        assert_eq!(all["event"]["applicationId"], CLIENT_ID);
        assert!(all["event"].get("userId").is_none());
    }
}
