//! The HTML shell, the router and the pages.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::views::{
    layout::Header,
    pages::{CallbackPage, HomePage, LoginPage, NotFound, ProfilePage},
};

/// The HTML document around every page. `stylesheet` is the stylesheet's address, read once
/// at start-up (with `hash-files`, its name carries its content hash).
pub fn shell(options: LeptosOptions, stylesheet: std::sync::Arc<str>) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // `hash-files`: the stylesheet, script and wasm carry their content hash in
                // their names, so a deploy never mixes new HTML with old assets.
                <link id="leptos" rel="stylesheet" href=stylesheet />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Every page waits for its data before the first byte (`SsrMode::Async`): the pages are
    // small, redirects and status codes must be set before headers go out, and the page
    // must be complete without JavaScript.
    view! {
        <Title text="FusionAuth + Leptos" />
        <Router>
            <Header />
            <main id="content">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async />
                    <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/callback") view=CallbackPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
