//! `POST /webhooks/fusionauth`: FusionAuth tells the app that a user's access has ended
//! (refresh tokens revoked, user deactivated or deleted), and the app ends every session of
//! that user, on every replica (they share the store, and its per-user index).
//!
//! FusionAuth signs each webhook with `X-FusionAuth-Signature-JWT`: a JWT (here HS256, keyed
//! with the webhook's HMAC key) whose claim `request_body_sha256` is the base64 SHA-256 of
//! the raw body. The signature is checked, then the hash against the exact bytes received,
//! then the body is read. A body applied before is a replay: refused, like a bad signature.
//! A body whose action failed (the store was down) is not remembered, so FusionAuth's retry
//! of it is applied.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::flow::AuthService;
use crate::{metrics, store::StoreUnavailable};

/// The header that carries FusionAuth's signature of a webhook.
pub const SIGNATURE_HEADER: &str = "x-fusionauth-signature-jwt";

/// How long a delivered body is remembered (and how old an event may be): a replay inside
/// the window is recognised, one after it is refused for its age.
const REPLAY_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// How far ahead of this server's clock FusionAuth's may be.
const FUTURE_SKEW: Duration = Duration::from_secs(5 * 60);

#[derive(Deserialize)]
struct Signature {
    request_body_sha256: String,
}

#[derive(Deserialize)]
struct Envelope {
    event: Event,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    /// Milliseconds since 1970.
    create_instant: Option<i64>,
    user_id: Option<String>,
    application_id: Option<String>,
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

/// What an event asks of the app.
enum Action<'a> {
    EndUser(&'a str),
    EndAll,
    Ignore,
}

/// The webhook's axum handler: 200 when applied or ignored, 401 for a bad signature, an
/// old or future date or a replay, 400 for an unreadable body, 404 without a signing
/// secret, 503 when the session store is down (FusionAuth retries).
pub async fn receive(
    State(auth): State<Arc<AuthService>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (event, outcome, status) = deliver(&auth, &headers, &body).await;
    metrics::webhook(event, outcome);
    status.into_response()
}

/// Checks and applies a delivery: its event type (a metrics label: `unknown` until the
/// body is trusted and read), its outcome, and the status to answer.
async fn deliver(
    auth: &AuthService,
    headers: &HeaderMap,
    body: &[u8],
) -> (&'static str, &'static str, StatusCode) {
    let Some(secret) = auth.settings().webhook_secret.as_ref() else {
        tracing::warn!("a webhook arrived but WEBHOOK_SIGNING_SECRET is not set: refused");
        return ("unknown", "disabled", StatusCode::NOT_FOUND);
    };
    let previous = auth.settings().previous_webhook_secret.as_ref();
    if let Err(why) = verify(std::iter::once(secret).chain(previous), headers, body) {
        tracing::warn!(why, "webhook refused");
        return ("unknown", "bad_signature", StatusCode::UNAUTHORIZED);
    }
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(envelope) => envelope,
        Err(e) => {
            tracing::warn!(error = %e, "signed webhook with an unreadable body");
            return ("unknown", "bad_request", StatusCode::BAD_REQUEST);
        }
    };
    let event = envelope.event;
    let label = metrics::webhook_event(&event.kind);
    let stale = (label, "stale", StatusCode::UNAUTHORIZED);
    // FusionAuth dates every event. Without a date the age check cannot run, and the event
    // could be replayed once its replay record has expired.
    let Some(created) = event.create_instant else {
        tracing::warn!(event = %event.kind, "webhook without createInstant: refused");
        return stale;
    };
    let age_ms = super::flow::now().saturating_mul(1000) - created;
    if age_ms > REPLAY_WINDOW.as_millis() as i64 {
        tracing::warn!(event = %event.kind, age_secs = age_ms / 1000, "webhook too old: refused");
        return stale;
    }
    // An event dated ahead of our clock would outlive its replay record: clocks differ by
    // moments, not hours.
    if -age_ms > FUTURE_SKEW.as_millis() as i64 {
        tracing::warn!(event = %event.kind, ahead_secs = -age_ms / 1000, "webhook dated in the future: refused");
        return stale;
    }
    let store_down = |e: StoreUnavailable| {
        // FusionAuth reports the failed delivery; the event is not lost on our side silently.
        tracing::error!(error = %e, "webhook could not be applied");
        (label, "store_down", StatusCode::SERVICE_UNAVAILABLE)
    };
    // A body counts as delivered once its action took effect: FusionAuth retries a failed
    // delivery with the same bytes, and that retry must be applied, not refused as a replay.
    let delivery = format!(
        "webhook:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body))
    );
    match auth.control.was_applied(&delivery).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::warn!(event = %event.kind, "webhook replayed: refused");
            return (label, "replay", StatusCode::UNAUTHORIZED);
        }
        Err(e) => return store_down(e),
    }
    // Ending sessions twice (two deliveries at once) is harmless.
    let ended = match action(&event, &auth.settings().client_id) {
        Action::EndUser(user) => auth.control.end_sessions_of(user).await.map(Some),
        Action::EndAll => auth.control.end_all_sessions().await.map(|()| None),
        Action::Ignore => {
            tracing::debug!(event = %event.kind, "webhook event ignored");
            return (label, "ignored", StatusCode::OK);
        }
    };
    let ended = match ended {
        Ok(ended) => ended,
        Err(e) => return store_down(e),
    };
    match ended {
        Some(count) => {
            metrics::sessions_ended(metrics::Ended::Webhook, count as u64);
            tracing::info!(event = %event.kind, sessions = count, "sessions ended by FusionAuth")
        }
        None => tracing::info!(event = %event.kind, "every session ended by FusionAuth"),
    }
    match auth
        .control
        .mark_applied(&delivery, REPLAY_WINDOW + FUTURE_SKEW)
        .await
    {
        Ok(()) => (label, "applied", StatusCode::OK),
        // Applied, but a replay could not be recognised: FusionAuth retries, which applies
        // the same revocation again, harmlessly.
        Err(e) => store_down(e),
    }
}

/// The signature JWT is valid for one of `secrets` (`WEBHOOK_SIGNING_SECRET`, and while
/// FusionAuth's HMAC key rotates, when either key may sign, `WEBHOOK_SIGNING_SECRET_PREVIOUS`)
/// and its body hash is the body's.
fn verify<'a>(
    secrets: impl IntoIterator<Item = &'a SecretString>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), &'static str> {
    let token = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or("no signature header")?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    validation.leeway = 60;
    let claims = secrets
        .into_iter()
        .find_map(|secret| {
            let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
            jsonwebtoken::decode::<Signature>(token, &key, &validation).ok()
        })
        .ok_or("bad signature")?
        .claims;
    let actual = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
    if bool::from(
        actual
            .as_bytes()
            .ct_eq(claims.request_body_sha256.as_bytes()),
    ) {
        Ok(())
    } else {
        Err("the body does not match its signed hash")
    }
}

fn action<'a>(event: &'a Event, client_id: &str) -> Action<'a> {
    let user = event
        .user_id
        .as_deref()
        .or(event.user.as_ref().map(|u| u.id.as_str()));
    let for_us = event
        .application_id
        .as_deref()
        .is_none_or(|app| app.eq_ignore_ascii_case(client_id));
    match (event.kind.as_str(), user) {
        // Per token, per user, per user and application.
        ("jwt.refresh-token.revoke", Some(user)) if for_us => Action::EndUser(user),
        // The whole application.
        ("jwt.refresh-token.revoke", None) if event.application_id.is_some() && for_us => {
            Action::EndAll
        }
        ("user.deactivate" | "user.delete" | "user.delete.complete", Some(user)) => {
            Action::EndUser(user)
        }
        _ => Action::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Event {
        serde_json::from_str::<Envelope>(json).expect("event").event
    }

    const CLIENT: &str = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e";

    #[test]
    fn revocations_for_a_user_end_that_users_sessions() {
        let e = event(r#"{"event":{"type":"jwt.refresh-token.revoke","userId":"u1"}}"#);
        assert!(matches!(action(&e, CLIENT), Action::EndUser("u1")));
        let e = event(r#"{"event":{"type":"user.deactivate","user":{"id":"u2"}}}"#);
        assert!(matches!(action(&e, CLIENT), Action::EndUser("u2")));
    }

    #[test]
    fn revocations_for_another_application_change_nothing() {
        let e = event(
            r#"{"event":{"type":"jwt.refresh-token.revoke","userId":"u1","applicationId":"0000"}}"#,
        );
        assert!(matches!(action(&e, CLIENT), Action::Ignore));
    }

    #[test]
    fn a_revocation_for_the_whole_application_ends_every_session() {
        let e = event(&format!(
            r#"{{"event":{{"type":"jwt.refresh-token.revoke","applicationId":"{}"}}}}"#,
            CLIENT.to_uppercase()
        ));
        assert!(matches!(action(&e, CLIENT), Action::EndAll));
    }

    #[test]
    fn other_events_are_ignored() {
        let e = event(r#"{"event":{"type":"user.login.success","userId":"u1"}}"#);
        assert!(matches!(action(&e, CLIENT), Action::Ignore));
    }
}
