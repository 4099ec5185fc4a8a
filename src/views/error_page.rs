use leptos::prelude::*;
use leptos_meta::Title;

use crate::error::AuthError;

/// A failure, shown to the user with the HTTP status that belongs to it.
#[component]
pub fn ErrorView(#[prop(into)] error: AuthError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(
            http::StatusCode::from_u16(error.status())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    view! {
        <Title text=format!("{} | FusionAuth + Leptos", error.title()) />
        <ErrorCard title=error.title() message=error.message() status=error.status() />
    }
}

/// The error card: what went wrong, the status, and the way back. The one markup of every
/// error page, the ones the router renders and the ones the server answers with outside it
/// (`server::error_pages`).
#[component]
pub fn ErrorCard(title: &'static str, message: &'static str, status: u16) -> impl IntoView {
    view! {
        <section class="card error" data-testid="error-page" role="alert" aria-labelledby="error-title">
            <h1 id="error-title">{title}</h1>
            <p>{message}</p>
            <p class="error-code">"Error " {status}</p>
            <a class="button" href="/" rel="external">"Back to start"</a>
        </section>
    }
}
