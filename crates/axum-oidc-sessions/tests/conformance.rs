//! One conformance suite every session store runs (SQLite, Redis, memory), through the
//! interface an app uses: sealed records saved and loaded, expiry, no write-back after a
//! delete, the per-user index (revocation, pruning, the cap, a key rotation), leases, the
//! application-wide revocation, the record of applied webhook deliveries, and the readiness
//! ping.

mod common;

use std::{sync::Arc, time::Duration};

use axum_oidc_sessions::store::{
    self, SessionControl, SessionStoreSettings, SetupError, Store, StoreLocation,
};
use common::{session_of, settings, user_of};
use serde_json::json;
use testkit::TestRedis;
use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};

/// A store of one kind, and what keeps it alive.
struct Subject {
    store: Store,
    settings: SessionStoreSettings,
    _dir: tempfile::TempDir,
    redis: Option<TestRedis>,
}

async fn open(settings: &SessionStoreSettings) -> Result<Store, SetupError> {
    store::open(settings, user_of).await
}

async fn subject(kind: &str) -> Subject {
    let dir = tempfile::tempdir().expect("dir");
    let (location, redis) = match kind {
        "sqlite" => (StoreLocation::Sqlite(dir.path().join("sessions.db")), None),
        "redis" => {
            let redis = TestRedis::start(false);
            (StoreLocation::Redis(redis.url()), Some(redis))
        }
        _ => (StoreLocation::Memory, None),
    };
    let settings = settings(location);
    let store = open(&settings).await.expect("the store opens");
    Subject {
        store,
        settings,
        _dir: dir,
        redis,
    }
}

async fn created(store: &Store, sub: &str, secs: i64) -> Record {
    let mut record = session_of(sub, secs);
    store.create(&mut record).await.expect("created");
    record
}

async fn loads(store: &Store, record: &Record) -> bool {
    store.load(&record.id).await.expect("loads").is_some()
}

/// Runs `check` against every store.
macro_rules! every_store {
    ($($name:ident => $check:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$check(super::subject("sqlite").await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn redis() {
                    super::$check(super::subject("redis").await).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    super::$check(super::subject("memory").await).await;
                }
            }
        )*
    };
}

every_store! {
    a_saved_session_loads_as_it_was => saved_loads,
    an_expired_session_does_not_load => expired_does_not_load,
    an_update_after_a_delete_writes_nothing_back => no_write_back,
    revoking_a_user_ends_theirs_only => revoke_user,
    a_delete_takes_its_index_entry_along => delete_prunes_index,
    past_the_cap_the_oldest_session_ends => cap,
    a_lease_is_held_by_one_until_released_or_expired => lease,
    of_concurrent_refreshes_one_takes_the_lease => concurrent_lease,
    ending_every_session_ends_them_all => end_all,
    a_delivery_is_applied_once => applied_once,
    the_store_answers_a_ping => answers_ping,
}

async fn saved_loads(s: Subject) {
    let mut record = created(&s.store, "u1", 60).await;
    let loaded = s
        .store
        .load(&record.id)
        .await
        .expect("loads")
        .expect("found");
    assert_eq!(loaded.data.get("other"), Some(&json!("kept")));
    assert_eq!(loaded.data.get("auth.user"), record.data.get("auth.user"));
    record.data.insert("other".into(), json!("changed"));
    s.store.save(&record).await.expect("saved");
    let loaded = s
        .store
        .load(&record.id)
        .await
        .expect("loads")
        .expect("found");
    assert_eq!(loaded.data.get("other"), Some(&json!("changed")));
    assert!(s.store.load(&Id::default()).await.expect("loads").is_none());
}

async fn expired_does_not_load(s: Subject) {
    let record = created(&s.store, "u1", 1).await;
    assert!(loads(&s.store, &record).await);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(!loads(&s.store, &record).await);
}

async fn no_write_back(s: Subject) {
    let record = created(&s.store, "u1", 60).await;
    s.store.delete(&record.id).await.expect("deleted");
    s.store
        .save(&record)
        .await
        .expect("an update of nothing is no error");
    assert!(!loads(&s.store, &record).await, "not brought back");
    assert_eq!(s.store.end_sessions_of("u1").await.expect("ends"), 0);
}

async fn revoke_user(s: Subject) {
    let (a1, a2, b) = (
        created(&s.store, "a", 60).await,
        created(&s.store, "a", 60).await,
        created(&s.store, "b", 60).await,
    );
    assert_eq!(s.store.end_sessions_of("a").await.expect("ends"), 2);
    assert!(!loads(&s.store, &a1).await && !loads(&s.store, &a2).await);
    assert!(loads(&s.store, &b).await, "another user's session stays");
    assert_eq!(s.store.end_sessions_of("a").await.expect("ends"), 0);
}

async fn delete_prunes_index(s: Subject) {
    let record = created(&s.store, "u1", 60).await;
    let kept = created(&s.store, "u1", 60).await;
    s.store.delete(&record.id).await.expect("deleted");
    // Only the live session is left to revoke.
    assert_eq!(s.store.end_sessions_of("u1").await.expect("ends"), 1);
    assert!(!loads(&s.store, &kept).await);
}

async fn cap(s: Subject) {
    // Expiries a second apart: the first is the oldest.
    let mut sessions = Vec::new();
    for secs in [60, 61, 62, 63] {
        sessions.push(created(&s.store, "u1", secs).await);
    }
    assert!(!loads(&s.store, &sessions[0]).await, "the oldest ended");
    for record in &sessions[1..] {
        assert!(loads(&s.store, record).await);
    }
    // Re-saving a session at the cap ends nothing.
    s.store.save(&sessions[1]).await.expect("saved");
    assert_eq!(s.store.end_sessions_of("u1").await.expect("ends"), 3);
}

/// After a rotation of `APP_SECRET_KEY`, a revocation finds the sessions indexed under the
/// previous key. (The shared stores only: memory cannot be opened a second time.)
mod previous_index_keys_still_find_sessions {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::previous_keys(super::subject("sqlite").await).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis() {
        super::previous_keys(super::subject("redis").await).await;
    }
}

async fn previous_keys(s: Subject) {
    let before = created(&s.store, "u1", 60).await;
    let rotated = SessionStoreSettings {
        index_keys: vec![[9; 32], [2; 32]],
        ..settings(s.settings.location.clone())
    };
    let after = open(&rotated).await.expect("opens");
    let made_after = created(&after, "u1", 60).await;
    assert_eq!(after.end_sessions_of("u1").await.expect("ends"), 2);
    assert!(!loads(&after, &before).await && !loads(&after, &made_after).await);
}

async fn lease(s: Subject) {
    let ttl = Duration::from_millis(300);
    let held = s
        .store
        .try_lease("r1", ttl)
        .await
        .expect("store")
        .expect("free");
    assert!(s.store.try_lease("r1", ttl).await.expect("store").is_none());
    assert!(
        s.store.try_lease("r2", ttl).await.expect("store").is_some(),
        "per name"
    );
    assert!(s.store.renew(&held, ttl).await.expect("store"));
    s.store.release(&held).await;
    let again = s
        .store
        .try_lease("r1", ttl)
        .await
        .expect("store")
        .expect("released");
    // An expired lease is free, and its old holder can neither renew nor release it.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let next = s
        .store
        .try_lease("r1", ttl)
        .await
        .expect("store")
        .expect("expired");
    assert!(!s.store.renew(&again, ttl).await.expect("store"));
    s.store.release(&again).await;
    assert!(
        s.store.try_lease("r1", ttl).await.expect("store").is_none(),
        "still next's"
    );
    s.store.release(&next).await;
}

async fn concurrent_lease(s: Subject) {
    let store = Arc::new(s.store);
    let mut takers = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        takers.spawn(async move {
            store
                .try_lease("refresh:s1", Duration::from_secs(5))
                .await
                .expect("store")
                .is_some()
        });
    }
    let taken = takers.join_all().await.into_iter().filter(|t| *t).count();
    assert_eq!(taken, 1);
}

async fn end_all(s: Subject) {
    let (a, b) = (
        created(&s.store, "a", 60).await,
        created(&s.store, "b", 60).await,
    );
    s.store.end_all_sessions().await.expect("ends");
    assert!(!loads(&s.store, &a).await && !loads(&s.store, &b).await);
    let later = created(&s.store, "a", 60).await;
    assert!(loads(&s.store, &later).await, "a session after it lives");
}

async fn applied_once(s: Subject) {
    assert!(!s.store.was_applied("d1").await.expect("store"));
    s.store
        .mark_applied("d1", Duration::from_secs(60))
        .await
        .expect("store");
    assert!(s.store.was_applied("d1").await.expect("store"));
    assert!(!s.store.was_applied("d2").await.expect("store"));
}

async fn answers_ping(s: Subject) {
    s.store.ping().await.expect("the store answers");
    let kind = s.store.backend_kind();
    assert!(["sqlite", "redis", "memory"].contains(&kind), "{kind}");
}

/// A readiness probe learns at once that Redis is gone, and that it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_fails_the_ping_quickly_and_passes_it_once_back() {
    let mut s = subject("redis").await;
    let redis = s.redis.as_mut().expect("a Redis subject");
    redis.stop();
    let ping = tokio::time::timeout(Duration::from_secs(5), s.store.ping()).await;
    assert!(
        matches!(ping, Ok(Err(_))),
        "fails within the command deadline"
    );
    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while s.store.ping().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "ping passes again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
