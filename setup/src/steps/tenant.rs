//! The tenant: pick it, then set its issuer to the URL the browser and the app use.

use crate::{
    client::FusionAuthClient,
    desired::Desired,
    error::SetupError,
    model::{Ignored, Tenant, TenantsResponse},
    Report,
};

const STEP: &str = "tenant";

/// The only tenant, or the one `--tenant` names (by id or name).
pub async fn select(
    client: &FusionAuthClient,
    wanted: Option<&str>,
    report: &mut Report,
) -> Result<Tenant, SetupError> {
    let tenants = client
        .get::<TenantsResponse>("/api/tenant")
        .await?
        .map(|r| r.tenants)
        .unwrap_or_default();
    let describe = |t: &Tenant| format!("{} ({})", t.name, t.id);
    let names: Vec<String> = tenants.iter().map(describe).collect();
    let tenant = match wanted {
        Some(w) => tenants
            .into_iter()
            .find(|t| t.id.eq_ignore_ascii_case(w) || t.name == w)
            .ok_or_else(|| SetupError::UnknownTenant {
                wanted: w.to_owned(),
                existing: names,
            })?,
        None => {
            let mut tenants = tenants;
            match tenants.len() {
                0 => return Err(SetupError::NoTenant),
                1 => tenants.remove(0),
                _ => return Err(SetupError::SeveralTenants(names)),
            }
        }
    };
    report.ok(STEP, format!("using {}", describe(&tenant)));
    Ok(tenant)
}

pub async fn ensure_issuer(
    client: &FusionAuthClient,
    tenant: &Tenant,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let step = "tenant issuer";
    let current = tenant.issuer.as_deref().unwrap_or("");
    if current == desired.issuer {
        report.ok(step, format!("is {current}"));
        return Ok(());
    }
    let found = format!("is {current:?}");
    let action = format!("set it to {}", desired.issuer);
    if !report.dry_run() {
        client
            .patch::<Ignored>(
                &format!("/api/tenant/{}", tenant.id),
                &desired.tenant_patch(),
            )
            .await?;
    }
    report.changed(step, found, action);
    Ok(())
}
