use leptos::prelude::*;

use crate::auth::Profile;

/// The profile view, as in FusionAuth's tutorial, with the claims as a table or as JSON.
///
/// Rendered on the server only, both views of the claims included. The island
/// [`ClaimsSwitch`] owns nothing but the two tabs: it marks the tab list with the view
/// chosen, and the stylesheet shows that panel (`.profile:has(.tabs[data-view=json])`). So
/// the browser gets no data props, and the wasm neither serde nor the panels.
#[component]
pub fn ProfileView(profile: Profile) -> impl IntoView {
    let Profile {
        email,
        claims,
        claims_json,
        session_expires_at,
    } = profile;
    let rows = claims
        .into_iter()
        .map(|claim| {
            view! {
                <tr>
                    <th scope="row">{claim.name}</th>
                    <td>
                        {claim.value}
                        {claim.date.map(|date| view! { <span class="claim-date">{date}</span> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card profile" aria-labelledby="profile-title">
            <p class="eyebrow" data-testid="logged-in-as">
                "You are logged in as " <strong>{email}</strong>
            </p>
            <h2 id="profile-title">"Here is your OpenID profile"</h2>
            <ClaimsSwitch />
            <div id="claims-table-panel" role="tabpanel" aria-labelledby="tab-claims-table-panel" class="table-wrap panel-table">
                    <table data-testid="claims-table">
                        <caption class="visually-hidden">"Claims of your id_token"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Claim"</th>
                                <th scope="col">"Value"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
            </div>
            <div id="claims-json-panel" role="tabpanel" aria-labelledby="tab-claims-json-panel" class="panel-json">
                <pre data-testid="claims-json" class="json">{claims_json}</pre>
            </div>
            <p class="muted" data-testid="session-expiry">
                "Your session expires at "
                <time datetime=session_expires_at.clone()>{session_expires_at.replace('T', " ").replace('Z', " UTC")}</time>
                "."
            </p>
            <form method="post" action="/auth/logout" class="inline-form">
                <button type="submit" class="button">"Logout"</button>
            </form>
        </section>
    }
}

/// The Table / JSON switch: the one interactive part of the page, hydrated in the browser.
///
/// No props and no children (each would cost the wasm: props need serde, children Leptos's
/// dynamic views). The tabs stay disabled until the island has hydrated (and without
/// JavaScript, where the table shows); then it sets the performance mark
/// `claims-switch-ready` (make bench measures the time to it).
#[island]
fn ClaimsSwitch() -> impl IntoView {
    // `None` until hydrated; then whether the JSON view is shown. One signal, not two: each
    // costs the wasm its own code.
    let json = RwSignal::new(None::<bool>);
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        json.set(Some(false));
        if let Some(performance) = window().performance() {
            let _ = performance.mark("claims-switch-ready");
        }
    });
    // Static strings only: `format!` would bring Rust's formatting machinery into the wasm.
    let tab =
        move |label: &'static str, shows_json: bool, id: &'static str, controls: &'static str| {
            view! {
                <button
                    type="button"
                    role="tab"
                    id=id
                    aria-controls=controls
                    aria-selected=move || {
                        if json.get().unwrap_or(false) == shows_json { "true" } else { "false" }
                    }
                    disabled=move || json.get().is_none()
                    on:click=move |_| json.set(Some(shows_json))
                >
                    {label}
                </button>
            }
        };
    view! {
        <div
            role="tablist"
            aria-label="Profile format"
            class="tabs"
            data-view=move || if json.get() == Some(true) { "json" } else { "table" }
        >
            {tab("Table", false, "tab-claims-table-panel", "claims-table-panel")}
            {tab("JSON", true, "tab-claims-json-panel", "claims-json-panel")}
        </div>
    }
}
