//! The RS256 key that signs id and access tokens (FusionAuth's default keys are HMAC, which
//! the app's id-token verifier rejects).

use crate::{
    client::FusionAuthClient,
    desired::{Desired, SIGNING_KEY_ALGORITHM},
    error::SetupError,
    model::{Ignored, KeyResponse},
    Report,
};

const STEP: &str = "signing key";

pub async fn ensure_signing_key(
    client: &FusionAuthClient,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let id = &desired.signing_key_id;
    match client.get::<KeyResponse>(&format!("/api/key/{id}")).await? {
        Some(KeyResponse { key }) => {
            let algorithm = key.algorithm.unwrap_or_default();
            if algorithm != SIGNING_KEY_ALGORITHM {
                return Err(SetupError::WrongKeyAlgorithm {
                    id: key.id,
                    algorithm,
                });
            }
            let name = key.name.unwrap_or_default();
            report.ok(STEP, format!("{id} ({name}) is {algorithm}"));
        }
        None => {
            if !report.dry_run() {
                client
                    .post::<Ignored>(&format!("/api/key/generate/{id}"), &desired.key_request())
                    .await?;
            }
            report.changed(
                STEP,
                format!("{id} does not exist"),
                format!("generate it ({SIGNING_KEY_ALGORITHM}, 2048 bits)"),
            );
        }
    }
    Ok(())
}
