//! What the login flow needs from the session store beyond tower-sessions' own interface:
//! a lease for one refresh at a time (across replicas when the store is shared), ending all
//! of a user's sessions (FusionAuth's revocation webhooks), and a record of the webhook
//! deliveries already applied (replays). [`Store`](super::Store) implements it over every
//! backend.

use std::time::Duration;

/// The store could not be reached or failed: the request gets the 503 page.
#[derive(Debug, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct StoreUnavailable(pub String);

/// Proof of holding a lease, needed to renew and release it (a lease that outlived its
/// deadline may already belong to someone else, whose lease must not be touched by us).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease's key in the store.
    pub name: String,
    /// The random token that proves this holder took it.
    pub token: String,
}

/// What the login flow needs from the session store beyond [`tower_sessions::SessionStore`]:
/// leases, per-user and application-wide revocation, and applied webhook deliveries.
#[async_trait::async_trait]
pub trait SessionControl: Send + Sync {
    /// Takes the lease `name` for at most `ttl`, or `None` when another holder has it.
    async fn try_lease(&self, name: &str, ttl: Duration)
        -> Result<Option<Lease>, StoreUnavailable>;

    /// Extends a lease we hold to `ttl` from now; `false` when it is no longer ours.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, StoreUnavailable>;

    /// Gives a lease back, if it is still ours.
    async fn release(&self, lease: &Lease);

    /// Deletes every session of the user whose `sub` this is, including those indexed
    /// under a previous `APP_SECRET_KEY`; returns how many there were.
    async fn end_sessions_of(&self, sub: &str) -> Result<usize, StoreUnavailable>;

    /// Ends every session (a revocation for the whole application).
    async fn end_all_sessions(&self) -> Result<(), StoreUnavailable>;

    /// Whether the delivery `id` was applied within its replay window.
    async fn was_applied(&self, id: &str) -> Result<bool, StoreUnavailable>;

    /// Records that the delivery `id` took effect, for `ttl`.
    async fn mark_applied(&self, id: &str, ttl: Duration) -> Result<(), StoreUnavailable>;

    /// One real round trip to the store (Redis `PING`, SQLite `select 1`), within a bounded
    /// deadline: for readiness probes.
    async fn ping(&self) -> Result<(), StoreUnavailable>;

    /// Which backend holds the sessions: `sqlite`, `redis` or `memory`.
    fn backend_kind(&self) -> &'static str;
}
