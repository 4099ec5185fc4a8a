use leptos::prelude::*;

use leptos::server_fn::ServerFn;

use crate::auth::Profile;

/// Where the Logout button posts: the crate's `logout` server function.
const LOGOUT_PATH: &str = <axum_oidc_sessions::leptos::Logout as ServerFn>::PATH;

/// The profile view, as in FusionAuth's tutorial, with the claims as a table or as JSON.
///
/// Rendered on the server only, both views of the claims included. The island
/// [`ClaimsSwitch`] owns nothing but the two tabs, and the stylesheet shows the panel of the
/// selected one (`.profile:has(#tab-claims-json-panel[aria-selected=true])`). So the browser
/// gets no data props, and the wasm neither serde nor the panels. Each panel is a tab stop
/// (WAI-ARIA tabs), so the keyboard reaches the claims right after the tabs.
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
            <div id="claims-table-panel" role="tabpanel" aria-labelledby="tab-claims-table-panel" tabindex="0" class="table-wrap panel-table">
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
            <div id="claims-json-panel" role="tabpanel" aria-labelledby="tab-claims-json-panel" tabindex="0" class="panel-json">
                <pre data-testid="claims-json" class="json">{claims_json}</pre>
            </div>
            <p class="muted" data-testid="session-expiry">
                "Your session expires at "
                <time datetime=session_expires_at.clone()>{session_expires_at.replace('T', " ").replace('Z', " UTC")}</time>
                "."
            </p>
            <form method="post" action=LOGOUT_PATH class="inline-form">
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
///
/// The WAI-ARIA tabs pattern with automatic activation: only the selected tab is a tab stop
/// (roving `tabindex`); Left and Right move to the other tab (with two, either way round),
/// Home to the first, End to the last, and the tab moved to is selected and focused.
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
    // On the tab list: keys reach it from the focused tab, the selected one (roving tabindex).
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let to_json = match ev.key().as_str() {
            "ArrowLeft" | "ArrowRight" => !json.get().unwrap_or(false),
            "Home" => false,
            "End" => true,
            _ => return,
        };
        ev.prevent_default(); // no scrolling
        json.set(Some(to_json));
        focus_tab(to_json);
    };
    // Static strings only: `format!` would bring Rust's formatting machinery into the wasm.
    let tab =
        move |label: &'static str, shows_json: bool, id: &'static str, controls: &'static str| {
            // Before hydration, the table's tab (the panel shown without JavaScript).
            let selected = move || json.get().unwrap_or(false) == shows_json;
            view! {
                <button
                    type="button"
                    role="tab"
                    id=id
                    aria-controls=controls
                    aria-selected=move || if selected() { "true" } else { "false" }
                    // Roving tabindex: the tab list is one tab stop, the selected tab.
                    tabindex=move || if selected() { "0" } else { "-1" }
                    disabled=move || json.get().is_none()
                    on:click=move |_| json.set(Some(shows_json))
                >
                    {label}
                </button>
            }
        };
    view! {
        <div role="tablist" aria-label="Profile format" class="tabs" on:keydown=on_keydown>
            {tab("Table", false, TAB_IDS[0], "claims-table-panel")}
            {tab("JSON", true, TAB_IDS[1], "claims-json-panel")}
        </div>
    }
}

/// The ids of the Table and the JSON tab, indexed by whether the tab shows JSON.
const TAB_IDS: [&str; 2] = ["tab-claims-table-panel", "tab-claims-json-panel"];

/// Moves the focus to a tab. By id: a `NodeRef` per tab would cost the wasm 3 KB.
fn focus_tab(json: bool) {
    #[cfg(feature = "hydrate")]
    if let Some(tab) = document().get_element_by_id(TAB_IDS[usize::from(json)]) {
        use wasm_bindgen::JsCast;
        let _ = tab.unchecked_into::<web_sys::HtmlElement>().focus();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = json;
}
