//! The page: who is at the browser (the crate's `current_user` server function), and one
//! island that hydrates in the browser.

use axum_oidc_sessions::leptos::{current_user, Visitor};
use leptos::prelude::*;

/// The HTML document around the page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head><meta charset="utf-8" /><title>"leptos-minimal"</title>
                <HydrationScripts options islands=true /></head>
            <body><App /></body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    let visitor = Resource::new_blocking(|| (), |_| current_user());
    let page = move || {
        Suspend::new(async move {
            match visitor.await {
                Ok(Visitor::User(user)) => {
                    let email = user.claim("email").unwrap_or("?");
                    view! {
                        <p>{format!("You are logged in as {email}")}</p>
                        <Counter />
                        <form method="post" action="/logout"><button>"Logout"</button></form>
                    }
                    .into_any()
                }
                Ok(_) => view! { <p>"Hello Guest"</p><a href="/login">"Login"</a> }.into_any(),
                Err(error) => view! { <p role="alert">{error.message()}</p> }.into_any(),
            }
        })
    };
    view! { <Suspense>{page}</Suspense> }
}

/// The island: the only code the browser runs.
#[island]
fn Counter() -> impl IntoView {
    let (clicks, set_clicks) = signal(0);
    view! { <button on:click=move |_| set_clicks.update(|n| *n += 1)>"Clicked " {clicks}</button> }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
