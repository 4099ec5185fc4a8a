//! What the store's test suites share: their settings, a logged-in session record, and how
//! the login engine names its user (the store learns it from `user_of`).

use std::{collections::HashMap, time::Duration};

use axum_oidc_sessions::store::{SessionStoreSettings, StoreLocation};

use serde_json::{json, Value};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

/// A store at `location` with fixed keys and a cap of 3 sessions per user.
pub fn settings(location: StoreLocation) -> SessionStoreSettings {
    SessionStoreSettings {
        location,
        cleanup_interval: Duration::from_secs(60),
        data_key: [1; 32],
        previous_data_keys: Vec::new(),
        index_keys: vec![[2; 32]],
        max_sessions_per_user: 3,
    }
}

/// The user of a stored session: the login engine's own reading of its records.
pub fn user_of(data: &HashMap<String, Value>) -> Option<&str> {
    axum_oidc_sessions::oidc::session::user_of(data)
}

/// A logged-in session of `sub` ending in `secs`, in the shape the login engine stores.
pub fn session_of(sub: &str, secs: i64) -> Record {
    Record {
        id: Id::default(),
        data: [
            (
                "auth.user".to_owned(),
                json!({"claims": {"sub": sub}, "n": 1}),
            ),
            ("other".to_owned(), json!("kept")),
        ]
        .into(),
        expiry_date: OffsetDateTime::now_utc() + time::Duration::seconds(secs),
    }
}
