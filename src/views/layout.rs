use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="site-header">
            <a class="brand" href="/" rel="external">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "FusionAuth + Leptos"
            </a>
            <nav aria-label="Main">
                <A href="/">"Home"</A>
                // A full page load: the server decides whether to send a guest through login.
                <a href="/profile" rel="external">"Profile"</a>
            </nav>
        </header>
    }
}
