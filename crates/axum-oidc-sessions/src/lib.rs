//! Server-side OIDC sessions for axum.
//!
//! - [`error`]: the kinds of login failure, each with its HTTP status and a message for the
//!   user. Always compiled: the browser (wasm32) shows them too.
//! - [`store`] (feature `server`, on by default): a [`tower_sessions::SessionStore`] over
//!   SQLite, Redis or memory whose records are sealed (AES-256-GCM, no token and no claim at
//!   rest) and indexed by user, so that all of a user's sessions can be revoked at once; plus
//!   refresh leases and a record of the webhook deliveries applied
//!   ([`store::SessionControl`]).

#![deny(missing_docs)]

pub mod error;
#[cfg(feature = "server")]
pub mod store;
