//! The user: pick one, give them a full name, register them to the application.

use serde_json::json;

use crate::{
    client::FusionAuthClient,
    desired::Desired,
    error::SetupError,
    model::{Ignored, User, UserResponse, UserSearchResponse},
    Report,
};

/// How many users an error message lists.
const LISTED_USERS: usize = 10;

/// The user `--user` names (exact email lookup, which is not subject to search-index lag), or
/// else the tenant's only user.
pub async fn select(
    client: &FusionAuthClient,
    email: Option<&str>,
    report: &mut Report,
) -> Result<User, SetupError> {
    let user = match email {
        Some(email) => client
            .get_with_query::<UserResponse>("/api/user", &[("email", email)])
            .await?
            .map(|r| r.user)
            .ok_or_else(|| SetupError::UserNotFound(email.to_owned()))?,
        None => {
            let search =
                json!({ "search": { "queryString": "*", "numberOfResults": LISTED_USERS } });
            let found: UserSearchResponse = client.post("/api/user/search", &search).await?;
            match (found.total, found.users.len()) {
                (0, _) | (_, 0) => return Err(SetupError::NoUsers),
                (1, _) => found.users.into_iter().next().ok_or(SetupError::NoUsers)?,
                (total, _) => {
                    let mut listed: Vec<String> = found.users.iter().map(User::label).collect();
                    if total > listed.len() as u64 {
                        listed.push(format!("and {} more", total - listed.len() as u64));
                    }
                    return Err(SetupError::SeveralUsers { total, listed });
                }
            }
        }
    };
    // The id goes into URL paths below: accept only the UUID FusionAuth documents.
    if !crate::desired::is_uuid(&user.id) {
        return Err(crate::client::ApiError::InvalidResponse {
            method: reqwest::Method::GET,
            path: "/api/user".to_owned(),
            reason: format!("user id {:?} is not a UUID", user.id),
        }
        .into());
    }
    report.ok("user", format!("using {} ({})", user.label(), user.id));
    Ok(user)
}

/// `setup.py` sets the full name because OIDC claims need it; only when it is missing here.
pub async fn ensure_full_name(
    client: &FusionAuthClient,
    user: &User,
    report: &mut Report,
) -> Result<(), SetupError> {
    let step = "user full name";
    if let Some(name) = user.full_name.as_deref().filter(|n| !n.trim().is_empty()) {
        report.ok(step, format!("is {name:?}"));
        return Ok(());
    }
    let parts: Vec<&str> = [&user.first_name, &user.last_name]
        .into_iter()
        .filter_map(|p| p.as_deref().map(str::trim).filter(|p| !p.is_empty()))
        .collect();
    if parts.is_empty() {
        report.skipped(
            step,
            "missing, and the user has no first or last name to build it from (set them in the admin UI)",
        );
        return Ok(());
    }
    let full_name = parts.join(" ");
    if !report.dry_run() {
        client
            .patch::<Ignored>(
                &format!("/api/user/{}", user.id),
                &json!({ "user": { "fullName": full_name } }),
            )
            .await?;
    }
    report.changed(step, "is missing", format!("set it to {full_name:?}"));
    Ok(())
}

pub async fn ensure_registration(
    client: &FusionAuthClient,
    user: &User,
    desired: &Desired,
    report: &mut Report,
) -> Result<(), SetupError> {
    let step = "registration";
    let app = &desired.client_id;
    let path = format!("/api/user/registration/{}/{app}", user.id);
    if client.get::<Ignored>(&path).await?.is_some() {
        report.ok(step, format!("{} is registered to {app}", user.label()));
        return Ok(());
    }
    if !report.dry_run() {
        client
            .post::<Ignored>(
                &format!("/api/user/registration/{}", user.id),
                &desired.registration_request(),
            )
            .await?;
    }
    report.changed(
        step,
        format!("{} is not registered to {app}", user.label()),
        "register them",
    );
    Ok(())
}
