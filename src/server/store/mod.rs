//! The session store: SQLite by default, Redis when `REDIS_URL` is set (several replicas
//! share it). Either way, what reaches the store is sealed (`sealed.rs`: no token and no
//! claim at rest), and each logged-in session is indexed under a keyed hash of its user, so
//! that FusionAuth's revocation webhooks can end every session of a user at once.

mod redis;
mod sealed;
mod sqlite;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

use super::{config::SessionStoreSettings, StartupError};
use crate::auth::store::{Lease, SessionControl, StoreUnavailable};
pub use redis::parse_url as parse_redis_url;
pub use sealed::Sealer;

/// The session key under which `auth::session` keeps the logged-in user.
const USER_KEY: &str = "auth.user";

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    sealer: Sealer,
    /// Keys the per-user index, so the store holds no user id in the clear either.
    index_key: [u8; 32],
    /// Leases when the store is SQLite (one process): held in memory.
    local_leases: Mutex<HashMap<String, (String, Instant)>>,
}

enum Backend {
    Sqlite(sqlite::Sqlite),
    Redis(redis::Redis),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner.backend {
            Backend::Sqlite(_) => "Store(SQLite)",
            Backend::Redis(_) => "Store(Redis)",
        })
    }
}

/// Opens the configured store.
pub async fn open(settings: &SessionStoreSettings) -> Result<Store, StartupError> {
    let backend = match &settings.location {
        super::config::StoreLocation::Sqlite(path) => {
            Backend::Sqlite(sqlite::open(path, settings.cleanup_interval).await?)
        }
        super::config::StoreLocation::Redis(url) => Backend::Redis(
            redis::Redis::connect(url)
                .await
                .map_err(StartupError::Redis)?,
        ),
    };
    Ok(Store {
        inner: Arc::new(Inner {
            backend,
            sealer: Sealer::new(&settings.data_key, &settings.previous_data_keys),
            index_key: settings.index_key,
            local_leases: Mutex::new(HashMap::new()),
        }),
    })
}

fn backend_error(e: StoreUnavailable) -> session_store::Error {
    session_store::Error::Backend(e.0)
}

impl Store {
    fn user_key(&self, sub: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(self.inner.index_key);
        hash.update(sub.as_bytes());
        let digest = hash.finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Indexes a logged-in session under its user.
    async fn index(&self, record: &Record) -> Result<(), StoreUnavailable> {
        let Some(sub) = record
            .data
            .get(USER_KEY)
            .and_then(|user| user.pointer("/claims/sub"))
            .and_then(|sub| sub.as_str())
        else {
            return Ok(());
        };
        let (key, id, expiry) = (
            self.user_key(sub),
            record.id.to_string(),
            record.expiry_date.unix_timestamp(),
        );
        match &self.inner.backend {
            Backend::Sqlite(s) => s.index(&key, &id, expiry).await,
            Backend::Redis(r) => r.index(&key, &id, expiry).await,
        }
    }

    /// The in-process leases (SQLite). A panic elsewhere while holding them leaves them valid.
    fn local_leases(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.inner
            .local_leases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn seal(&self, record: &Record) -> session_store::Result<Record> {
        self.inner
            .sealer
            .seal(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut sealed = self.seal(record)?;
        match &self.inner.backend {
            Backend::Sqlite(s) => s.store.create(&mut sealed).await?,
            Backend::Redis(r) => {
                r.sessions()
                    .map_err(backend_error)?
                    .create(&mut sealed)
                    .await?
            }
        }
        if sealed.id != record.id {
            // The store picked another id (a collision): the ciphertext names the old one.
            record.id = sealed.id;
            self.save(record).await?;
        }
        self.index(record).await.map_err(backend_error)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let sealed = self.seal(record)?;
        match &self.inner.backend {
            Backend::Sqlite(s) => s.store.save(&sealed).await?,
            Backend::Redis(r) => r.sessions().map_err(backend_error)?.save(&sealed).await?,
        }
        self.index(record).await.map_err(backend_error)
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let stored = match &self.inner.backend {
            Backend::Sqlite(s) => s.store.load(session_id).await?,
            Backend::Redis(r) => {
                r.sessions()
                    .map_err(backend_error)?
                    .load(session_id)
                    .await?
            }
        };
        stored
            .map(|record| self.inner.sealer.open(record))
            .transpose()
            .map_err(|e| session_store::Error::Decode(e.to_string()))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        match &self.inner.backend {
            Backend::Sqlite(s) => s.store.delete(session_id).await,
            Backend::Redis(r) => {
                r.sessions()
                    .map_err(backend_error)?
                    .delete(session_id)
                    .await
            }
        }
    }
}

#[async_trait::async_trait]
impl SessionControl for Store {
    async fn try_lease(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreUnavailable> {
        let token = crate::server::security::new_nonce();
        let key = format!("fa:lease:{name}");
        let taken = match &self.inner.backend {
            Backend::Redis(r) => r.set_if_absent(&key, &token, ttl).await?,
            Backend::Sqlite(_) => {
                let mut leases = self.local_leases();
                let now = Instant::now();
                leases.retain(|_, (_, until)| *until > now);
                match leases.entry(key.clone()) {
                    std::collections::hash_map::Entry::Occupied(_) => false,
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert((token.clone(), now + ttl));
                        true
                    }
                }
            }
        };
        Ok(taken.then_some(Lease { name: key, token }))
    }

    async fn release(&self, lease: &Lease) {
        match &self.inner.backend {
            Backend::Redis(r) => {
                if let Err(e) = r.release(&lease.name, &lease.token).await {
                    tracing::warn!(error = %e, "could not release a refresh lease; it expires by itself");
                }
            }
            Backend::Sqlite(_) => {
                let mut leases = self.local_leases();
                if leases
                    .get(&lease.name)
                    .is_some_and(|(token, _)| *token == lease.token)
                {
                    leases.remove(&lease.name);
                }
            }
        }
    }

    async fn end_sessions_of(&self, sub: &str) -> Result<usize, StoreUnavailable> {
        let key = self.user_key(sub);
        match &self.inner.backend {
            Backend::Sqlite(s) => s.end_sessions_of(&key).await,
            Backend::Redis(r) => r.end_sessions_of(&key).await,
        }
    }

    async fn end_all_sessions(&self) -> Result<usize, StoreUnavailable> {
        match &self.inner.backend {
            Backend::Sqlite(s) => s.end_all_sessions().await,
            Backend::Redis(r) => r.end_all_sessions().await,
        }
    }

    async fn first_time(&self, id: &str, ttl: Duration) -> Result<bool, StoreUnavailable> {
        let key = format!("fa:once:{id}");
        match &self.inner.backend {
            Backend::Redis(r) => r.set_if_absent(&key, "1", ttl).await,
            Backend::Sqlite(s) => {
                let expiry = time::OffsetDateTime::now_utc().unix_timestamp()
                    + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
                s.first_time(&key, expiry).await
            }
        }
    }
}
