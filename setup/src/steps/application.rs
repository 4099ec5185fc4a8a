//! The OAuth application: create it, or merge-patch the fields that differ.

use crate::{
    client::FusionAuthClient,
    desired::Desired,
    error::SetupError,
    model::{ApplicationResponse, Ignored},
    Report,
};

const STEP: &str = "application";

pub async fn ensure(
    client: &FusionAuthClient,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let id = &desired.client_id;
    let path = format!("/api/application/{id}");
    let want = desired.application_request();
    match client.get::<ApplicationResponse>(&path).await? {
        None => {
            if !report.dry_run() {
                client.post::<Ignored>(&path, &want).await?;
            }
            report.changed(STEP, format!("{id} does not exist"), "create it");
        }
        Some(ApplicationResponse { application }) => {
            let have = serde_json::json!({ "application": application });
            // The report names fields only: values include the client secret.
            super::merge_patch_what_differs(client, report, STEP, (id, &path), &want, &have)
                .await?;
        }
    }
    Ok(())
}
