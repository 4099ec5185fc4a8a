//! The webhook that tells the app about revoked refresh tokens and deactivated or deleted
//! users: create it, or merge-patch the fields that differ (its `tenantIds` array is replaced,
//! not appended to).

use serde_json::{json, Value};

use crate::{
    client::FusionAuthClient,
    defaults,
    desired::Desired,
    error::SetupError,
    model::{Ignored, WebhookResponse},
    Report,
};

const STEP: &str = "webhook";

pub async fn ensure(
    client: &FusionAuthClient,
    tenant_id: &str,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let id = defaults::WEBHOOK_ID;
    let path = format!("/api/webhook/{id}");
    let mut want = desired.webhook_request(tenant_id);
    let Some(WebhookResponse { webhook }) = client.get::<WebhookResponse>(&path).await? else {
        if !report.dry_run() {
            client.post::<Ignored>(&path, &want).await?;
        }
        let action = format!("create it, calling {}", desired.webhook_url);
        report.changed(STEP, format!("{id} does not exist"), action);
        return Ok(());
    };
    if let Some(current) = kept_url(&webhook, desired) {
        report.skipped(
            "webhook url",
            format!(
                "is {current}, not {}: kept, because FusionAuth may reach the app at another \
                 address than APP_URL (from Docker: host.docker.internal); pass --webhook-url \
                 to change it",
                desired.webhook_url
            ),
        );
        want["webhook"]["url"] = json!(current);
    }
    let have = json!({ "webhook": webhook });
    super::merge_patch_what_differs(client, report, STEP, (id, &path), &want, &have).await
}

/// The existing webhook's URL when it differs from a URL nobody asked for explicitly (the
/// default, `APP_URL` + the webhook path): the address FusionAuth reaches the app at is the
/// operator's to choose, and "repairing" it would break a working webhook.
fn kept_url(webhook: &Value, desired: &Desired) -> Option<String> {
    let current = webhook.get("url").and_then(Value::as_str)?;
    (!desired.webhook_url_given && !current.is_empty() && current != desired.webhook_url)
        .then(|| current.to_owned())
}
