//! Upgrading logs nobody out: sessions that the previous release stored in Redis and in
//! SQLite, with tower-sessions' own stores, load in this one and are revoked with their user.
//! (Every store's own behaviour is the conformance suite of `crates/axum-oidc-sessions`.)

mod common;

use axum_oidc_sessions::store::{open, SessionControl, SessionStoreSettings, StoreLocation};
use common::{session_of, settings, user_of};
use testkit::TestRedis;
use tower_sessions::SessionStore;

/// The index key of `sub` as the previous release wrote it: the first 16 bytes of
/// SHA-256(index key, sub), in hex. Written out here, not taken from the store, so that a
/// change of the store's derivation fails these tests.
fn previous_release_user_key(settings: &SessionStoreSettings, sub: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(settings.index_keys[0])
        .chain_update(sub)
        .finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Upgrading logs nobody out and loses no revocation: a session that the release before
/// this one stored in Redis (with `tower-sessions-redis-store`, whose layout this store
/// kept) loads, and its entry in that release's per-user set (`fa:user:*`) is still revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_session_stored_by_the_previous_release_loads_and_is_revoked() {
    use fred::interfaces::ClientLike;

    let redis = TestRedis::start(false);
    let settings = settings(StoreLocation::Redis(redis.url()));
    let config = fred::types::config::Config::from_url(&redis.url()).expect("url");
    let client = fred::clients::Client::new(config, None, None, None);
    client.init().await.expect("connects");
    let previous_release = tower_sessions_redis_store::RedisStore::new(client);
    let record = session_of("u1", 60);
    let mut sealed = axum_oidc_sessions::store::Sealer::new(&settings.data_key, &[])
        .seal(&record)
        .expect("seals");
    previous_release.create(&mut sealed).await.expect("stored");
    let user_key = previous_release_user_key(&settings, "u1");
    assert_eq!(
        redis
            .command(&format!("SADD fa:user:{user_key} {}", sealed.id))
            .as_deref(),
        Some(":1")
    );

    let store = open(&settings, user_of).await.expect("opens");
    let loaded = store.load(&sealed.id).await.expect("loads").expect("found");
    assert_eq!(loaded.data.get("auth.user"), record.data.get("auth.user"));
    assert_eq!(store.end_sessions_of("u1").await.expect("ends"), 1);
    assert!(store.load(&sealed.id).await.expect("loads").is_none());
    assert_eq!(redis.key_count(), 0, "{}", redis.dump());
}

/// The same for SQLite: a session the previous release stored with tower-sessions'
/// `SqliteStore` (whose table and encoding this store kept) loads and is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sqlite_session_stored_by_the_previous_release_loads_and_is_revoked() {
    let dir = tempfile::tempdir().expect("dir");
    let settings = settings(StoreLocation::Sqlite(dir.path().join("sessions.db")));
    // Opening creates the tables, as the previous release's did.
    let store = open(&settings, user_of).await.expect("opens");
    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("sessions.db"));
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("db");
    let previous_release = tower_sessions_sqlx_store::SqliteStore::new(pool.clone());
    let record = session_of("u1", 60);
    let mut sealed = axum_oidc_sessions::store::Sealer::new(&settings.data_key, &[])
        .seal(&record)
        .expect("seals");
    previous_release.create(&mut sealed).await.expect("stored");
    let user_key = previous_release_user_key(&settings, "u1");
    sqlx::query("insert into fa_user_sessions (user_key, session_id, expiry) values (?, ?, ?)")
        .bind(user_key)
        .bind(sealed.id.to_string())
        .bind(sealed.expiry_date.unix_timestamp())
        .execute(&pool)
        .await
        .expect("indexed");

    let loaded = store.load(&sealed.id).await.expect("loads").expect("found");
    assert_eq!(loaded.data.get("auth.user"), record.data.get("auth.user"));
    assert_eq!(store.end_sessions_of("u1").await.expect("ends"), 1);
    assert!(store.load(&sealed.id).await.expect("loads").is_none());
}
