//! The session store: SQLite by default, Redis when `REDIS_URL` is set (several replicas
//! share it). Either way, what reaches the store is sealed (`sealed.rs`: no token and no
//! claim at rest), and each logged-in session is indexed under a keyed hash of its user, so
//! that FusionAuth's revocation webhooks can end every session of a user at once. The store
//! does not know the shape of a session: whoever opens it says how to find a record's user
//! ([`UserOf`]).
//!
//! A stored record is one of three things when it is read:
//! - readable: the session;
//! - sealed with a key this server does not have (yet: a rolling rotation of
//!   `APP_SECRET_KEY`): no session for this request, and the record is left alone for the
//!   replicas that have the key (the error `Decode` says so to the app's session layer);
//! - provably garbage (does not decode, not sealed, does not decrypt under a key we hold, or
//!   revoked by an application-wide revocation): deleted, and counted as no session.

mod backend;
mod control;
mod memory;
mod metered;
mod redis;
mod sealed;
mod settings;
mod sqlite;

use std::{collections::HashMap, sync::Arc, time::Duration};

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tower_sessions::{
    session::{Id, Record},
    session_store, SessionStore,
};

use crate::metrics;
use backend::{Backend, SessionWrite, Write};
pub use control::{Lease, SessionControl, StoreUnavailable};
use metered::Metered;
pub use redis::{parse_url as parse_redis_url, MIN_VERSION as MIN_REDIS_VERSION};
pub use sealed::{OpenError, Sealer};
pub use settings::{SessionStoreSettings, StoreLocation};

/// Finds the user (the OIDC `sub`) a session's data belongs to, or `None` for a session
/// nobody is logged in to. The store indexes sessions by it, for
/// [`SessionControl::end_sessions_of`].
pub type UserOf = fn(&HashMap<String, serde_json::Value>) -> Option<&str>;

/// Why the store could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The SQLite file at `path` could not be created, opened or migrated.
    #[error("SQLite session store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What went wrong.
        #[source]
        source: sqlx::Error,
    },
    /// The Redis URL is not valid, or the Redis server is too old.
    #[error("Redis session store: {0}")]
    Redis(String),
}

/// The application's revocation epoch a Redis session was written in (inside the seal).
const EPOCH_KEY: &str = "fa.epoch";

/// The session store the app uses: seals what goes to its backend, opens what comes back,
/// indexes sessions by user, and answers the login flow's needs ([`SessionControl`]).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Box<dyn Backend>,
    name: &'static str,
    sealer: Sealer,
    /// Key the per-user index, so the store holds no user id in the clear either. The first
    /// indexes new sessions; the others (from `APP_SECRET_KEY_PREVIOUS`) still find the
    /// sessions indexed before a rotation.
    index_keys: Vec<[u8; 32]>,
    max_sessions_per_user: usize,
    user_of: UserOf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.inner.name)
    }
}

/// Opens the configured store; `user_of` finds the user of a session, to index it by.
pub async fn open(settings: &SessionStoreSettings, user_of: UserOf) -> Result<Store, SetupError> {
    let (backend, name): (Box<dyn Backend>, _) = match &settings.location {
        StoreLocation::Sqlite(path) => (
            Box::new(Metered(
                sqlite::open(path, settings.cleanup_interval).await?,
            )),
            "SQLite",
        ),
        StoreLocation::Redis(url) => (
            Box::new(Metered(
                redis::Redis::connect(url)
                    .await
                    .map_err(SetupError::Redis)?,
            )),
            "Redis",
        ),
        StoreLocation::Memory => (Box::new(Metered(memory::Memory::default())), "memory"),
    };
    Ok(Store {
        inner: Arc::new(Inner {
            backend,
            name,
            sealer: Sealer::new(&settings.data_key, &settings.previous_data_keys),
            index_keys: settings.index_keys.clone(),
            max_sessions_per_user: settings.max_sessions_per_user,
            user_of,
        }),
    })
}

fn backend_error(e: StoreUnavailable) -> session_store::Error {
    session_store::Error::Backend(e.0)
}

/// A lease's token: 128 random bits, base64url. Unguessable, so only its holder can renew
/// or release the lease.
fn lease_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn encode(record: &Record) -> session_store::Result<Vec<u8>> {
    rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

/// Why a stored record does not count as a session.
enum Unusable {
    /// Sealed with a key this server does not have: left for the replicas that have it.
    ForeignKey,
    /// Provably garbage: deleted.
    Garbage(String),
    /// Written before an application-wide revocation: deleted.
    Revoked,
}

impl Store {
    /// The index keys of `sub`: under the current key first, then the previous ones.
    fn user_keys(&self, sub: &str) -> impl Iterator<Item = String> + '_ {
        let sub = sub.to_owned();
        self.inner.index_keys.iter().map(move |key| {
            let mut hash = Sha256::new();
            hash.update(key);
            hash.update(sub.as_bytes());
            let digest = hash.finalize();
            digest[..16].iter().map(|b| format!("{b:02x}")).collect()
        })
    }

    fn current_user_key(&self, record: &Record) -> Option<String> {
        (self.inner.user_of)(&record.data).and_then(|sub| self.user_keys(sub).next())
    }

    fn seal(&self, record: &Record) -> session_store::Result<Vec<u8>> {
        let sealed = self
            .inner
            .sealer
            .seal(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        encode(&sealed)
    }

    /// Writes `record` (see [`Write`]); `false` when nothing was written.
    async fn write(&self, record: &Record, how: Write) -> session_store::Result<bool> {
        let id = record.id.to_string();
        let user_key = self.current_user_key(record);
        let write = SessionWrite {
            id: &id,
            record: self.seal(record)?,
            expiry: record.expiry_date,
            index: user_key
                .as_deref()
                .map(|key| (key, self.inner.max_sessions_per_user)),
        };
        self.inner
            .backend
            .write(write, how)
            .await
            .map_err(backend_error)
    }

    /// Opens a stored record, or says why it is not a session.
    fn open_stored(&self, bytes: &[u8], epoch: u64) -> Result<Record, Unusable> {
        let stored: Record = rmp_serde::from_slice(bytes)
            .map_err(|e| Unusable::Garbage(format!("the record does not decode: {e}")))?;
        let record = self.inner.sealer.open(stored).map_err(|e| match e {
            OpenError::UnknownKey => Unusable::ForeignKey,
            other => Unusable::Garbage(other.to_string()),
        })?;
        let written_in = record
            .data
            .get(EPOCH_KEY)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if written_in < epoch {
            return Err(Unusable::Revoked);
        }
        Ok(record)
    }
}

#[async_trait::async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let epoch = self.inner.backend.epoch().await.map_err(backend_error)?;
        if epoch > 0 {
            record
                .data
                .insert(EPOCH_KEY.to_owned(), serde_json::Value::from(epoch));
        }
        // A collision with an existing id: another id, sealed anew (the id is bound into
        // the ciphertext).
        while !self.write(record, Write::New).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if !self.write(record, Write::Existing).await? {
            tracing::info!(
                "a session deleted meanwhile (logout, revocation, expiry) is not written back"
            );
        }
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let id = session_id.to_string();
        let (bytes, epoch) = self.inner.backend.load(&id).await.map_err(backend_error)?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        match self.open_stored(&bytes, epoch) {
            Ok(record) => Ok(Some(record)),
            Err(Unusable::ForeignKey) => Err(session_store::Error::Decode(
                OpenError::UnknownKey.to_string(),
            )),
            Err(unusable) => {
                let (why, reason) = match unusable {
                    Unusable::Garbage(why) => (why, metrics::Ended::Unreadable),
                    _ => (
                        "revoked by an application-wide revocation".to_owned(),
                        metrics::Ended::Webhook,
                    ),
                };
                tracing::warn!(why, "stored session is not usable: deleting it");
                self.delete(session_id).await?;
                metrics::sessions_ended(reason, 1);
                Ok(None)
            }
        }
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        let id = session_id.to_string();
        let backend = &self.inner.backend;
        // The user's index entry goes too, when the record says whose it is.
        let user_key = backend
            .load(&id)
            .await
            .map_err(backend_error)?
            .0
            .and_then(|bytes| self.open_stored(&bytes, 0).ok())
            .and_then(|record| self.current_user_key(&record));
        backend
            .delete(&id, user_key.as_deref())
            .await
            .map_err(backend_error)
    }
}

#[async_trait::async_trait]
impl SessionControl for Store {
    async fn try_lease(
        &self,
        name: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreUnavailable> {
        let token = lease_token();
        let key = format!("fa:lease:{name}");
        let taken = self
            .inner
            .backend
            .leases()
            .try_lease(&key, &token, ttl)
            .await?;
        Ok(taken.then_some(Lease { name: key, token }))
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<bool, StoreUnavailable> {
        self.inner
            .backend
            .leases()
            .renew(&lease.name, &lease.token, ttl)
            .await
    }

    async fn release(&self, lease: &Lease) {
        if let Err(e) = self
            .inner
            .backend
            .leases()
            .release(&lease.name, &lease.token)
            .await
        {
            tracing::warn!(error = %e, "could not release a refresh lease; it expires by itself");
        }
    }

    async fn end_sessions_of(&self, sub: &str) -> Result<usize, StoreUnavailable> {
        let mut ended = 0;
        for key in self.user_keys(sub) {
            ended += self.inner.backend.end_user(&key).await?;
        }
        Ok(ended)
    }

    async fn end_all_sessions(&self) -> Result<(), StoreUnavailable> {
        self.inner.backend.end_all().await
    }

    async fn was_applied(&self, id: &str) -> Result<bool, StoreUnavailable> {
        self.inner
            .backend
            .was_applied(&format!("fa:once:{id}"))
            .await
    }

    async fn mark_applied(&self, id: &str, ttl: Duration) -> Result<(), StoreUnavailable> {
        self.inner
            .backend
            .mark_applied(&format!("fa:once:{id}"), ttl)
            .await
    }

    async fn ping(&self) -> Result<(), StoreUnavailable> {
        self.inner.backend.ping().await
    }

    fn backend_kind(&self) -> &'static str {
        self.inner.backend.kind()
    }
}
