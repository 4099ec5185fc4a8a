//! Server-side OIDC sessions for axum.
//!
//! - [`store`]: a [`tower_sessions::SessionStore`] over SQLite, Redis or memory whose records
//!   are sealed (AES-256-GCM, no token and no claim at rest) and indexed by user, so that all
//!   of a user's sessions can be revoked at once; plus refresh leases and a record of the
//!   webhook deliveries applied ([`store::SessionControl`]).

#![deny(missing_docs)]

pub mod store;
