//! What a session store keeps, whatever keeps it: sealed session records (bytes it cannot
//! read), a per-user index of them, refresh leases, and the webhook deliveries applied.
//! SQLite, Redis and memory each implement [`Backend`]; `Store` (in `mod.rs`) seals what goes
//! in and opens what comes out, over any of them. One conformance suite
//! (`tests/conformance.rs`) runs against every backend.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use time::OffsetDateTime;

use super::StoreUnavailable;

/// How a session write treats an existing record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// A new session: written only if its id is free.
    New,
    /// An update: written only if the session still exists, so a write that finishes after a
    /// logout or a revocation never brings the session back.
    Existing,
}

/// A session write: the sealed record, its expiry, and where to index it.
pub struct SessionWrite<'a> {
    pub id: &'a str,
    pub record: Vec<u8>,
    pub expiry: OffsetDateTime,
    /// The user's index key and the most sessions that user may have: past it, the
    /// user's oldest sessions end (never the one being written).
    pub index: Option<(&'a str, usize)>,
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Writes a session (see [`Write`]) and its index entry, dropping the user's expired
    /// entries and, past the cap, their oldest sessions. `false` when nothing was written.
    async fn write(&self, session: SessionWrite<'_>, how: Write) -> Result<bool, StoreUnavailable>;

    /// A session's record, unless it is missing or expired, and the application's
    /// revocation epoch (records written in an earlier one are revoked).
    async fn load(&self, id: &str) -> Result<(Option<Vec<u8>>, u64), StoreUnavailable>;

    /// The application's revocation epoch, for a session being created.
    async fn epoch(&self) -> Result<u64, StoreUnavailable>;

    /// Deletes a session and, when its user is known, its index entry.
    async fn delete(&self, id: &str, user_key: Option<&str>) -> Result<(), StoreUnavailable>;

    /// Deletes every session in a user's index, and the index; returns how many.
    async fn end_user(&self, user_key: &str) -> Result<usize, StoreUnavailable>;

    /// Ends every session: at once, or by moving to a new epoch.
    async fn end_all(&self) -> Result<(), StoreUnavailable>;

    /// The refresh leases that go with these sessions: in this process when one process
    /// holds every session, in the store itself when processes share it.
    fn leases(&self) -> &dyn Leases;

    /// Whether `key` was recorded (and has not expired).
    async fn was_applied(&self, key: &str) -> Result<bool, StoreUnavailable>;

    /// Records `key` for `ttl`.
    async fn mark_applied(&self, key: &str, ttl: Duration) -> Result<(), StoreUnavailable>;

    /// One real round trip to the backend, within a bounded deadline (readiness).
    async fn ping(&self) -> Result<(), StoreUnavailable>;

    /// The backend's name in readiness reports: `sqlite`, `redis` or `memory`.
    fn kind(&self) -> &'static str;
}

/// Refresh leases: one holder at a time for each name.
#[async_trait::async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease `key` with `token` for `ttl`; `false` when another holds it.
    async fn try_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreUnavailable>;

    /// Extends the lease to `ttl` from now if it still holds `token`.
    async fn renew(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreUnavailable>;

    /// Gives the lease back if it still holds `token`.
    async fn release(&self, key: &str, token: &str) -> Result<(), StoreUnavailable>;
}

/// Leases held in this process: enough when one process holds every session (SQLite,
/// memory). A panic elsewhere while the lock is held leaves them valid.
#[derive(Default)]
pub struct LocalLeases(Mutex<HashMap<String, (String, Instant)>>);

impl std::fmt::Debug for LocalLeases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalLeases")
    }
}

impl LocalLeases {
    fn leases(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait::async_trait]
impl Leases for LocalLeases {
    async fn try_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreUnavailable> {
        let mut leases = self.leases();
        let now = Instant::now();
        leases.retain(|_, (_, until)| *until > now);
        Ok(match leases.entry(key.to_owned()) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((token.to_owned(), now + ttl));
                true
            }
        })
    }

    async fn renew(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreUnavailable> {
        let now = Instant::now();
        Ok(match self.leases().get_mut(key) {
            Some((held, until)) if held == token && *until > now => {
                *until = now + ttl;
                true
            }
            _ => false,
        })
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreUnavailable> {
        let mut leases = self.leases();
        if leases.get(key).is_some_and(|(held, _)| held == token) {
            leases.remove(key);
        }
        Ok(())
    }
}
