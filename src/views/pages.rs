//! One component per route. Pages that act (login, callback) run their server
//! function while rendering on the server, so the result — a redirect or an error page with
//! its status — is decided before the response starts.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{error_page::ErrorView, guest::GuestView, profile::ProfileView};
use crate::{
    auth::{current_user, finish_login, profile, start_login, CallbackParams, Visitor},
    error::AuthError,
};

/// `/`: the profile when logged in, the guest view otherwise.
#[component]
pub fn HomePage() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Visitor::User(user)) => view! { <ProfileView profile=profile(&user) /> }.into_any(),
                    Ok(Visitor::Guest) => {
                        // The same page for every guest: the server may serve it from memory.
                        #[cfg(feature = "ssr")]
                        crate::server::guest_cache::mark_as_guest_rendering();
                        view! { <GuestView /> }.into_any()
                    }
                    // Not the cached guest page: it says why this guest is one.
                    Ok(Visitor::SessionEnded) => view! {
                        <p class="card notice" role="status" data-testid="session-ended">
                            "Your session has ended. Please log in again."
                        </p>
                        <GuestView />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/profile`: only for logged-in users; a guest is sent through login and back here.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let user = Resource::new_blocking(|| (), |_| current_user());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Visitor::User(user)) => view! { <ProfileView profile=profile(&user) /> }.into_any(),
                    Ok(Visitor::Guest | Visitor::SessionEnded) => {
                        send_to("/login?return_to=%2Fprofile");
                        view! { <Loading /> }.into_any()
                    }
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/login?return_to=/path`: starts a login and sends the browser to the provider.
#[component]
pub fn LoginPage() -> impl IntoView {
    let return_to = use_query_map().with_untracked(|q| q.get("return_to"));
    let started = Resource::new_blocking(|| (), move |_| start_login(return_to.clone()));
    view! { <Outcome result=started pending="Taking you to the login page…" /> }
}

/// `/callback?code=…&state=…`: completes the login the provider sends back.
#[component]
pub fn CallbackPage() -> impl IntoView {
    let params = use_query_map().with_untracked(|q| CallbackParams {
        code: q.get("code"),
        state: q.get("state"),
        iss: q.get("iss"),
        error: q.get("error"),
        error_description: q.get("error_description"),
    });
    let finished = Resource::new_blocking(|| (), move |_| finish_login(params.clone()));
    view! { <Outcome result=finished pending="Signing you in…" /> }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card error" data-testid="error-page" aria-labelledby="error-title">
            <h1 id="error-title">"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <a class="button" href="/" rel="external">"Back to start"</a>
        </section>
    }
}

/// The page of an action that redirects on success: a short note while the browser
/// follows the redirect, or the error page.
#[component]
fn Outcome(result: Resource<Result<(), AuthError>>, pending: &'static str) -> impl IntoView {
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match result.await {
                    Ok(()) => view! { <p class="card muted" aria-live="polite">{pending}</p> }.into_any(),
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Loading() -> impl IntoView {
    view! { <p class="card muted" aria-busy="true">"Loading…"</p> }
}

/// Sends the browser to `location` with a redirect (pages render on the server only).
fn send_to(location: &str) {
    #[cfg(feature = "ssr")]
    axum_oidc_sessions::leptos::ssr::redirect(location);
    #[cfg(not(feature = "ssr"))]
    let _ = location;
}
