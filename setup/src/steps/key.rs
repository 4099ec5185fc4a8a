//! The keys in Key Master: the RS256 key that signs id and access tokens (FusionAuth's default
//! keys are HMAC, which the app's id-token verifier rejects), and the HMAC secret that signs
//! the webhooks FusionAuth sends the app.

use crate::{
    client::FusionAuthClient,
    desired::{Desired, SIGNING_KEY_ALGORITHM, WEBHOOK_KEY_ALGORITHM, WEBHOOK_KEY_TYPE},
    error::SetupError,
    model::{Ignored, Key, KeyResponse},
    Report,
};

pub async fn ensure_signing_key(
    client: &FusionAuthClient,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let step = "signing key";
    let id = &desired.signing_key_id;
    match find(client, id).await? {
        Some(key) => {
            let algorithm = key.algorithm.unwrap_or_default();
            if algorithm != SIGNING_KEY_ALGORITHM {
                return Err(SetupError::WrongKeyAlgorithm {
                    id: key.id,
                    algorithm,
                });
            }
            let name = key.name.unwrap_or_default();
            report.ok(step, format!("{id} ({name}) is {algorithm}"));
        }
        None => {
            if !report.dry_run() {
                client
                    .post::<Ignored>(&format!("/api/key/generate/{id}"), &desired.key_request())
                    .await?;
            }
            report.changed(
                step,
                format!("{id} does not exist"),
                format!("generate it ({SIGNING_KEY_ALGORITHM}, 2048 bits)"),
            );
        }
    }
    Ok(())
}

/// Imported, not generated: the app must hold the same secret. An existing key is kept as it
/// is: FusionAuth never returns an HMAC secret (nothing to compare) and cannot change one
/// (its Key API updates only names), so a new secret takes a new key id.
pub async fn ensure_webhook_key(
    client: &FusionAuthClient,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let step = "webhook signing key";
    let id = &desired.webhook_key_id;
    match find(client, id).await? {
        Some(key) => {
            let algorithm = key.algorithm.unwrap_or_default();
            let key_type = key.key_type.unwrap_or_default();
            if algorithm != WEBHOOK_KEY_ALGORITHM || key_type != WEBHOOK_KEY_TYPE {
                return Err(SetupError::WrongWebhookKey {
                    id: key.id,
                    found: format!("{key_type} {algorithm}"),
                });
            }
            let name = key.name.unwrap_or_default();
            report.ok(
                step,
                format!(
                    "{id} ({name}) is {algorithm}; FusionAuth does not reveal its secret, so it is \
                     not compared (to change the secret, run setup with a new --webhook-key-id: \
                     it imports the new one and points the webhook at it)"
                ),
            );
        }
        None => {
            if !report.dry_run() {
                client
                    .post::<Ignored>(
                        &format!("/api/key/import/{id}"),
                        &desired.webhook_key_request(),
                    )
                    .await?;
            }
            report.changed(
                step,
                format!("{id} does not exist"),
                format!("import the webhook signing secret as it ({WEBHOOK_KEY_ALGORITHM})"),
            );
        }
    }
    Ok(())
}

/// `GET /api/key/{id}`: `None` on 404.
async fn find(client: &FusionAuthClient, id: &str) -> Result<Option<Key>, SetupError> {
    Ok(client
        .get::<KeyResponse>(&format!("/api/key/{id}"))
        .await?
        .map(|r| r.key))
}
