//! The OIDC login on the server: the authorization code flow with PKCE, state and nonce
//! ([`flow`]), logins in progress in encrypted cookies ([`pending`]), the provider's discovery
//! and keys ([`provider`]), the typed session ([`session`]), token refresh under a lease
//! ([`refresh`]), logout both ways ([`logout`]) and FusionAuth's revocation webhooks
//! ([`webhook`], feature `fusionauth`). [`settings`] is what it needs to know; the app fills
//! it and builds one [`flow::AuthService`].

pub mod flow;
pub mod logout;
pub mod pending;
pub mod provider;
pub mod refresh;
pub mod return_to;
pub mod session;
pub mod settings;
#[cfg(feature = "fusionauth")]
pub mod webhook;
