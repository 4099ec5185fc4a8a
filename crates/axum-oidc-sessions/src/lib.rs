//! OIDC login and server-side sessions for axum.
//!
//! - [`error`]: the kinds of login failure, each with its HTTP status and a message for the
//!   user. Always compiled: the browser (wasm32) shows them too.
//! - [`oidc`] (feature `server`): the login engine: the authorization code flow with PKCE,
//!   logins in progress in encrypted cookies, discovery and JWKS, token refresh, logout, and
//!   (feature `fusionauth`) FusionAuth's revocation webhooks.
//! - [`store`] (feature `server`, on by default): a [`tower_sessions::SessionStore`] over
//!   SQLite, Redis or memory whose records are sealed (AES-256-GCM, no token and no claim at
//!   rest) and indexed by user, so that all of a user's sessions can be revoked at once; plus
//!   refresh leases and a record of the webhook deliveries applied
//!   ([`store::SessionControl`]).
//! - [`metrics`]: the names of the metrics recorded (through the `metrics` facade, feature
//!   `server`) by this crate and by the app, in one list.
//! - [`health`] (feature `server`): readiness (`/readyz`): a session store round trip and
//!   what the app knows of the provider, as JSON.

#![deny(missing_docs)]

pub mod error;
#[cfg(feature = "server")]
pub mod health;
pub mod metrics;
#[cfg(feature = "server")]
pub mod oidc;
#[cfg(feature = "server")]
pub mod store;
