//! OIDC login and server-side sessions for axum: the authorization code flow with PKCE,
//! sealed sessions in SQLite, Redis or memory, token refresh under a lease that replicas
//! share, logout both ways, and FusionAuth's signed revocation webhooks.
//!
//! The quick start of the README (compiled, not run):
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use axum_oidc_sessions::{config::OidcConfigBuilder, extract::Viewer, OidcSessions};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // ISSUER, CLIENT_ID, CLIENT_SECRET, APP_URL, APP_SECRET_KEY (see Configuration)
//!     let auth = OidcSessions::new(OidcConfigBuilder::from_env()?.build()?).await?;
//!     let home = |viewer: Viewer| async move { match viewer {
//!         Viewer::User(user) => format!("Hello {}", user.claim("email").unwrap_or("?")),
//!         _ => "Hello guest: log in at /login".to_owned() } };
//!     let app = Router::new().route("/", get(home)).merge(auth.routes()).layer(auth.layer());
//!     axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! - [`config`]: [`OidcConfig`](config::OidcConfig) and its builder (and `from_env`, feature
//!   `env`).
//! - [`OidcSessions`]: the login, built once: [`routes`](OidcSessions::routes),
//!   [`layer`](OidcSessions::layer), and the extractors in [`extract`].
//! - [`callback`]: the callback's parameters (always compiled, like `error`).
//! - [`error`]: the kinds of login failure, each with its HTTP status and a message for the
//!   user. Always compiled: a browser (wasm32) build shows them too.
//! - [`oidc`]: the login engine underneath (for apps that drive it from their own pages, as
//!   Leptos server functions do).
//! - [`store`]: the [`tower_sessions::SessionStore`] with per-user revocation and refresh
//!   leases ([`store::SessionControl`]).
//! - [`health`]: readiness as JSON.
//! - `leptos` (features `leptos`, `leptos-ssr`): the server functions Leptos pages call.
//! - [`metrics`]: the names of the metrics recorded (through the `metrics` facade) by this
//!   crate and by the app, in one list.

#![deny(missing_docs)]

pub mod callback;
#[cfg(feature = "server")]
pub mod config;
pub mod error;
#[cfg(feature = "server")]
pub mod extract;
#[cfg(feature = "server")]
pub mod health;
#[cfg(feature = "server")]
mod key_rotation;
#[cfg(feature = "server")]
pub mod layer;
pub mod metrics;
// The `#[server]` macro generates a struct per function whose fields take no docs.
#[cfg(feature = "leptos")]
#[allow(missing_docs)]
pub mod leptos;
#[cfg(feature = "server")]
pub mod oidc;
#[cfg(feature = "server")]
mod routes;
#[cfg(feature = "server")]
pub mod store;

#[cfg(feature = "server")]
mod handle;
#[cfg(feature = "server")]
pub use handle::{OidcSessions, StartError};
