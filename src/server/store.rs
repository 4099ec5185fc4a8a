//! The session store (the `axum-oidc-sessions` crate), opened with what only the app knows:
//! how its sessions name their user ([`user_of`]), and what start-up says when the store
//! cannot be opened.

use axum_oidc_sessions::store::{self, SetupError};
pub use axum_oidc_sessions::store::{
    parse_redis_url, Sealer, SessionStoreSettings, Store, StoreLocation, MIN_REDIS_VERSION,
};

use super::StartupError;
use crate::auth::session::user_of;

/// Opens the configured store.
pub async fn open(settings: &SessionStoreSettings) -> Result<Store, StartupError> {
    store::open(settings, user_of).await.map_err(|e| match e {
        SetupError::Sqlite { path, source } => StartupError::SessionStore { path, source },
        SetupError::Redis(reason) => StartupError::Redis(reason),
    })
}
