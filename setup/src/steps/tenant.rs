//! The tenant: pick it, then converge its settings: the issuer (the URL the browser and the
//! app use), the events the webhook needs, and when refresh tokens are revoked.

use serde_json::{json, Value};

use crate::{
    client::FusionAuthClient,
    desired::{changed_fields, merge_patch, Desired},
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

/// One plain PATCH with the fields that differ (the desired body has no arrays, so FusionAuth's
/// merge is exact), or nothing.
pub async fn ensure_settings(
    client: &FusionAuthClient,
    tenant: &Tenant,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let step = "tenant settings";
    let have = json!({ "tenant": tenant.json });
    let Some(patch) = merge_patch(&desired.tenant_patch(), &have) else {
        report.ok(
            step,
            format!(
                "issuer is {}, webhook events and revocation policy match",
                desired.issuer
            ),
        );
        return Ok(());
    };
    let mut found = format!("differs in {}", changed_fields(&patch).join(", "));
    if patch["tenant"].get("issuer").is_some() {
        let current = tenant
            .json
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or("");
        found.push_str(&format!(
            " (issuer is {current:?}, wanted {})",
            desired.issuer
        ));
    }
    if !report.dry_run() {
        client
            .patch::<Ignored>(&format!("/api/tenant/{}", tenant.id), &patch)
            .await?;
    }
    report.changed(step, found, "update those fields");
    Ok(())
}
