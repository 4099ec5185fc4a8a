//! FusionAuth login in a full-stack Leptos app.
//!
//! - [`app`]: the HTML shell, the router and the pages.
//! - [`auth`]: login, callback and logout as server functions, and the OIDC machinery.
//! - [`views`]: the components the pages are built from.
//! - [`server`] (`ssr` only): configuration and the axum server.

pub mod app;
pub mod auth;
/// The kinds of login failure (the `axum-oidc-sessions` crate's, shared with the browser).
pub use axum_oidc_sessions::error;
/// The tutorial's development values (the `fusionauth-defaults` crate, shared with `setup`).
pub use fusionauth_defaults as defaults;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

/// Entry point of the WASM bundle: hydrates the islands of the server-rendered page (the
/// guest view, the profile's claims switch); everything else stays server HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in development builds; a release build saves its bytes (make bench).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
