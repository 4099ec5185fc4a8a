//! The steps of `setup.py`, each of which reads first and writes only what differs.

mod application;
mod key;
mod tenant;
mod user;
mod webhook;

use crate::{cli::Cli, client::FusionAuthClient, desired::Desired, error::SetupError, Report};

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
