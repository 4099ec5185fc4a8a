//! What the store's test suites share: a logged-in session record, and how the login engine
//! names its user (the store learns it from `user_of`).

use std::collections::HashMap;

use serde_json::{json, Value};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

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
