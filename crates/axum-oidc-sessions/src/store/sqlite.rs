//! Sessions in SQLite (the default: one process, no server to run): the file is private to
//! the app's user, a cleanup task survives its own failures, and two small tables beside
//! tower-sessions' own index sessions by user (revocation webhooks; pruned on logout, on
//! expiry and past the per-user cap) and remember the webhook deliveries applied (replays).
//!
//! Records are read and written here rather than by tower-sessions' `SqliteStore` (whose
//! table and encoding this keeps), because an update must never bring back a session that a
//! logout or a revocation deleted meanwhile, and a write and its index entry go together.

use std::{path::Path, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqliteConnection, SqlitePool,
};
use time::OffsetDateTime;
use tower_sessions_sqlx_store::SqliteStore;

use super::{
    backend::{Backend, Leases, LocalLeases, SessionWrite, Write},
    SetupError, StoreUnavailable,
};

const MIGRATIONS: [&str; 4] = [
    "create table if not exists fa_user_sessions (
        user_key text not null, session_id text not null, expiry integer not null,
        primary key (user_key, session_id)) strict",
    "create table if not exists fa_once (id text primary key not null, expiry integer not null) strict",
    "create index if not exists fa_user_sessions_expiry on fa_user_sessions (expiry)",
    "create index if not exists fa_user_sessions_session on fa_user_sessions (session_id)",
];

/// Longest wait for a readiness ping (`select 1`): a locked or stuck database is down.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub struct Sqlite {
    pool: SqlitePool,
    leases: std::sync::Arc<LocalLeases>,
}

fn unavailable(e: sqlx::Error) -> StoreUnavailable {
    StoreUnavailable(e.to_string())
}

#[async_trait::async_trait]
impl Backend for Sqlite {
    async fn write(&self, session: SessionWrite<'_>, how: Write) -> Result<bool, StoreUnavailable> {
        let statement = match how {
            Write::New => {
                "insert or ignore into tower_sessions (data, expiry_date, id) values (?, ?, ?)"
            }
            Write::Existing => "update tower_sessions set data = ?, expiry_date = ? where id = ?",
        };
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let written = sqlx::query(statement)
            .bind(&session.record)
            .bind(session.expiry)
            .bind(session.id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?
            .rows_affected();
        if written == 1 {
            index(&mut tx, &session).await.map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(written == 1)
    }

    async fn load(&self, id: &str) -> Result<(Option<Vec<u8>>, u64), StoreUnavailable> {
        let record =
            sqlx::query_scalar("select data from tower_sessions where id = ? and expiry_date > ?")
                .bind(id)
                .bind(OffsetDateTime::now_utc())
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok((record, 0))
    }

    async fn epoch(&self) -> Result<u64, StoreUnavailable> {
        Ok(0)
    }

    async fn delete(&self, id: &str, _user_key: Option<&str>) -> Result<(), StoreUnavailable> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for statement in [
            "delete from tower_sessions where id = ?",
            "delete from fa_user_sessions where session_id = ?",
        ] {
            sqlx::query(statement)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn end_user(&self, user_key: &str) -> Result<usize, StoreUnavailable> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let deleted = sqlx::query(
            "delete from tower_sessions where id in (select session_id from fa_user_sessions where user_key = ?)",
        )
        .bind(user_key)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?
        .rows_affected();
        sqlx::query("delete from fa_user_sessions where user_key = ?")
            .bind(user_key)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(deleted as usize)
    }

    async fn end_all(&self) -> Result<(), StoreUnavailable> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for statement in ["delete from tower_sessions", "delete from fa_user_sessions"] {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)
    }

    async fn ping(&self) -> Result<(), StoreUnavailable> {
        tokio::time::timeout(PING_TIMEOUT, sqlx::query("select 1").execute(&self.pool))
            .await
            .map_err(|_| StoreUnavailable("SQLite did not answer in time".into()))?
            .map_err(unavailable)?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn leases(&self) -> &dyn Leases {
        &*self.leases
    }

    async fn was_applied(&self, key: &str) -> Result<bool, StoreUnavailable> {
        let found: Option<i64> =
            sqlx::query_scalar("select 1 from fa_once where id = ? and expiry >= ?")
                .bind(key)
                .bind(OffsetDateTime::now_utc().unix_timestamp())
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(found.is_some())
    }

    async fn mark_applied(&self, key: &str, ttl: Duration) -> Result<(), StoreUnavailable> {
        let expiry = OffsetDateTime::now_utc().unix_timestamp()
            + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        sqlx::query("insert or replace into fa_once (id, expiry) values (?, ?)")
            .bind(key)
            .bind(expiry)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

impl Sqlite {
    /// Deletes the expired sessions (as tower-sessions' `delete_expired` does, counting them
    /// for the metrics: expiry is the one ending the store alone sees).
    async fn delete_expired_sessions(&self) -> Result<u64, sqlx::Error> {
        Ok(
            sqlx::query("delete from tower_sessions where datetime(expiry_date) < datetime('now')")
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Drops what has expired from the app's own tables.
    async fn delete_expired_rows(&self) -> Result<(), sqlx::Error> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        for table in ["fa_user_sessions", "fa_once"] {
            sqlx::query(&format!("delete from {table} where expiry < ?"))
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Indexes a session under its user, and past the cap ends that user's oldest sessions
/// (never the one being written).
async fn index(db: &mut SqliteConnection, session: &SessionWrite<'_>) -> Result<(), sqlx::Error> {
    let Some((user_key, cap)) = session.index else {
        return Ok(());
    };
    sqlx::query(
        "insert or replace into fa_user_sessions (user_key, session_id, expiry) values (?, ?, ?)",
    )
    .bind(user_key)
    .bind(session.id)
    .bind(session.expiry.unix_timestamp())
    .execute(&mut *db)
    .await?;
    let evicted: Vec<String> = sqlx::query_scalar(
        "select session_id from fa_user_sessions where user_key = ? and session_id != ?
         order by expiry desc, session_id limit -1 offset ?",
    )
    .bind(user_key)
    .bind(session.id)
    .bind(i64::try_from(cap.saturating_sub(1)).unwrap_or(i64::MAX))
    .fetch_all(&mut *db)
    .await?;
    for id in evicted {
        for statement in [
            "delete from tower_sessions where id = ?",
            "delete from fa_user_sessions where session_id = ?",
        ] {
            sqlx::query(statement).bind(&id).execute(&mut *db).await?;
        }
    }
    Ok(())
}

/// Opens (creating if needed) the SQLite session store at `path` and starts its cleanup.
///
/// The file holds tokens: it is created `0600` in a directory created `0700`, and an
/// existing file is narrowed to `0600` (SQLite gives its `-wal` and `-shm` files the same
/// mode as the database).
pub async fn open(path: &Path, cleanup_every: Duration) -> Result<Sqlite, SetupError> {
    let error = |source| SetupError::Sqlite {
        path: path.display().to_string(),
        source,
    };
    restrict_permissions(path).map_err(|e| error(sqlx::Error::Io(e)))?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL is durable across crashes of the app; a power cut can lose only the
        // last session writes. FULL (sqlx's default) waited for the disk on every write and
        // doubled the app's time per login (make bench).
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(error)?;
    let store = SqliteStore::new(pool.clone());
    // tower-sessions' table, as its SqliteStore creates it (the name `tower_sessions`).
    store.migrate().await.map_err(error)?;
    for migration in MIGRATIONS {
        sqlx::query(migration).execute(&pool).await.map_err(error)?;
    }
    let sqlite = Sqlite {
        pool,
        leases: Default::default(),
    };
    tokio::spawn(delete_expired_sessions(sqlite.clone(), cleanup_every));
    Ok(sqlite)
}

/// Deletes expired sessions every `period`, for as long as the server runs. A failure (say
/// `SQLITE_BUSY`, or a disk that is full for a while) is logged and the next round tries
/// again: tower-sessions' own loop would end at its first error, silently.
async fn delete_expired_sessions(sqlite: Sqlite, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticker.tick().await;
        let deleted = match sqlite.delete_expired_sessions().await {
            Ok(expired) => {
                if expired > 0 {
                    crate::metrics::sessions_ended(crate::metrics::Ended::Expiry, expired);
                }
                sqlite
                    .delete_expired_rows()
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        match deleted {
            Ok(()) if failing => {
                tracing::info!("expired sessions are being deleted again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, retry_in_secs = period.as_secs_f32(), "deleting expired sessions failed");
                failing = true;
            }
        }
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Files an earlier release (or another umask) left readable by others.
            for suffix in ["", "-wal", "-shm"] {
                let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
                let Ok(metadata) = std::fs::metadata(&file) else {
                    continue;
                };
                let mode = metadata.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(path = %file.display(), mode = format!("{:o}", mode & 0o777), "session store readable by others: narrowing it to 0600");
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn restrict_permissions(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    Ok(())
}
