//! The OAuth application: create it, or merge-patch the fields that differ.

use crate::{
    client::FusionAuthClient,
    desired::{changed_fields, merge_patch, Desired},
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
            match merge_patch(&want, &have) {
                None => report.ok(STEP, format!("{id} matches")),
                Some(patch) => {
                    // Field names only: values may include the client secret.
                    let fields = changed_fields(&patch).join(", ");
                    if !report.dry_run() {
                        client.merge_patch::<Ignored>(&path, &patch).await?;
                    }
                    report.changed(
                        STEP,
                        format!("{id} differs in {fields}"),
                        "update those fields (merge patch)",
                    );
                }
            }
        }
    }
    Ok(())
}
