use leptos::prelude::*;

use crate::auth::Profile;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

/// The profile view, as in FusionAuth's tutorial, with the claims as a table or as JSON.
///
/// Switching between the two happens in the browser without a request, so it works only
/// once the page has hydrated: the tabs stay disabled until then (and without JavaScript).
#[component]
pub fn ProfileView(profile: Profile) -> impl IntoView {
    let format = RwSignal::new(Format::Table);
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| hydrated.set(true));

    let Profile {
        email,
        claims,
        session_expires_at,
    } = profile;
    let rows: Vec<(String, String)> = claims
        .iter()
        .map(|(name, value)| {
            let shown = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name.clone(), shown)
        })
        .collect();

    let tab = move |label: &'static str, value: Format, controls: &'static str| {
        view! {
            <button
                type="button"
                role="tab"
                id=format!("tab-{controls}")
                aria-controls=controls
                aria-selected=move || (format.get() == value).to_string()
                disabled=move || !hydrated.get()
                on:click=move |_| format.set(value)
            >
                {label}
            </button>
        }
    };

    view! {
        <section class="card profile" aria-labelledby="profile-title">
            <p class="eyebrow" data-testid="logged-in-as">
                "You are logged in as " <strong>{email}</strong>
            </p>
            <h2 id="profile-title">"Here is your OpenID profile"</h2>
            <div role="tablist" aria-label="Profile format" class="tabs">
                {tab("Table", Format::Table, "claims-table-panel")}
                {tab("JSON", Format::Json, "claims-json-panel")}
            </div>
            <Show
                when=move || format.get() == Format::Table
                fallback=move || {
                    // Built only when asked for, in the browser: the page carries the claims once.
                    let json = serde_json::to_string_pretty(&claims).unwrap_or_default();
                    view! {
                        <div id="claims-json-panel" role="tabpanel" aria-labelledby="tab-claims-json-panel">
                            <pre data-testid="claims-json" class="json">{json}</pre>
                        </div>
                    }
                }
            >
                <div id="claims-table-panel" role="tabpanel" aria-labelledby="tab-claims-table-panel" class="table-wrap">
                    <table data-testid="claims-table">
                        <caption class="visually-hidden">"Claims of your id_token"</caption>
                        <thead>
                            <tr>
                                <th scope="col">"Claim"</th>
                                <th scope="col">"Value"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {rows
                                .clone()
                                .into_iter()
                                .map(|(name, value)| {
                                    view! {
                                        <tr>
                                            <th scope="row">{name}</th>
                                            <td>{value}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                </div>
            </Show>
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
