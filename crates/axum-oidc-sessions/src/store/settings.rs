//! What the session store needs to know: where sessions live and the keys that seal and
//! index them. The app fills it from its environment; tests build it directly.

use std::{path::PathBuf, time::Duration};

/// Where sessions are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `SESSION_DB`: an SQLite file (the default: one process, nothing to run).
    Sqlite(PathBuf),
    /// `REDIS_URL`: a Redis server that every replica shares.
    Redis(String),
    /// This process's memory (tests; a single process whose restart may log everybody out).
    Memory,
}

/// How to open the session store ([`open`](super::open)).
pub struct SessionStoreSettings {
    /// Where sessions are kept.
    pub location: StoreLocation,
    /// How often expired sessions are deleted (SQLite; Redis expires them itself).
    pub cleanup_interval: Duration,
    /// Seals session data (AES-256-GCM), derived from `APP_SECRET_KEY`.
    pub data_key: [u8; 32],
    /// Still opens data sealed under `APP_SECRET_KEY_PREVIOUS`.
    pub previous_data_keys: Vec<[u8; 32]>,
    /// Key the hash under which sessions are indexed by user: the current key first (new
    /// sessions), then the one from `APP_SECRET_KEY_PREVIOUS` (sessions indexed before a
    /// rotation, which a revocation must still find).
    pub index_keys: Vec<[u8; 32]>,
    /// `MAX_SESSIONS_PER_USER`: a login beyond it ends the user's oldest session.
    pub max_sessions_per_user: usize,
}
