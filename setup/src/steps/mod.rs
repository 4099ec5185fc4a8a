//! The steps of `setup.py`, each of which reads first and writes only what differs.

mod application;
mod key;
mod tenant;
mod user;
mod webhook;

use serde_json::Value;

use crate::{
    cli::Cli,
    client::FusionAuthClient,
    desired::{changed_fields, merge_patch, Desired},
    error::SetupError,
    model::Ignored,
    Report,
};

/// Brings the object at `path` (`have`, as FusionAuth returned it) to `want` with one merge
/// patch of the fields that differ (arrays replaced whole), or reports that it matches. The
/// report names fields only: values may include secrets.
async fn merge_patch_what_differs(
    client: &FusionAuthClient,
    report: &mut Report,
    step: &'static str,
    (id, path): (&str, &str),
    want: &Value,
    have: &Value,
) -> Result<(), SetupError> {
    let Some(patch) = merge_patch(want, have) else {
        report.ok(step, format!("{id} matches"));
        return Ok(());
    };
    let fields = changed_fields(&patch).join(", ");
    if !report.dry_run() {
        client.merge_patch::<Ignored>(path, &patch).await?;
    }
    report.changed(
        step,
        format!("{id} differs in {fields}"),
        "update those fields (merge patch)",
    );
    Ok(())
}

/// Runs the steps in `setup.py`'s order, and the webhook's beside them. The tenant goes first
/// because a new key takes the default tenant's issuer; each key goes before what names it
/// (the RS256 key before the application, the HMAC key before the webhook).
pub async fn run_all(
    client: &mut FusionAuthClient,
    desired: &Desired,
    cli: &Cli,
    report: &mut Report,
) -> Result<(), SetupError> {
    println!(
        "FusionAuth at {}{}",
        client.base_url(),
        if report.dry_run() {
            " (dry run: nothing will be written)"
        } else {
            ""
        }
    );
    let tenant = tenant::select(client, cli.tenant.as_deref(), report).await?;
    client.set_tenant(&tenant.id);
    tenant::ensure_settings(client, &tenant, desired, report).await?;
    key::ensure_signing_key(client, desired, report).await?;
    key::ensure_webhook_key(client, desired, report).await?;
    application::ensure(client, desired, report).await?;
    webhook::ensure(client, &tenant.id, desired, report).await?;
    let user = user::select(client, cli.user.as_deref(), report).await?;
    user::ensure_full_name(client, &user, report).await?;
    user::ensure_registration(client, &user, desired, report).await?;
    Ok(())
}
