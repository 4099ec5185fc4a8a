//! Sessions in SQLite (the default: one process, no server to run): the file is private to
//! the app's user, a cleanup task survives its own failures, and two small tables beside
//! tower-sessions' own index sessions by user (revocation webhooks) and remember webhook
//! deliveries (replays).

use std::{path::Path, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

use crate::{auth::store::StoreUnavailable, server::StartupError};

/// tower-sessions' table (`SqliteStore`'s default name).
const SESSIONS: &str = "tower_sessions";

const MIGRATIONS: [&str; 3] = [
    "create table if not exists fa_user_sessions (
        user_key text not null, session_id text not null, expiry integer not null,
        primary key (user_key, session_id)) strict",
    "create table if not exists fa_once (id text primary key not null, expiry integer not null) strict",
    "create index if not exists fa_user_sessions_expiry on fa_user_sessions (expiry)",
];

#[derive(Clone, Debug)]
pub struct Sqlite {
    pub store: SqliteStore,
    pool: SqlitePool,
}

fn unavailable(e: sqlx::Error) -> StoreUnavailable {
    StoreUnavailable(e.to_string())
}

impl Sqlite {
    /// Remembers that `session_id` belongs to the user whose index key this is.
    pub async fn index(
        &self,
        user_key: &str,
        session_id: &str,
        expiry: i64,
    ) -> Result<(), StoreUnavailable> {
        sqlx::query("insert or replace into fa_user_sessions (user_key, session_id, expiry) values (?, ?, ?)")
            .bind(user_key)
            .bind(session_id)
            .bind(expiry)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub async fn end_sessions_of(&self, user_key: &str) -> Result<usize, StoreUnavailable> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let deleted = sqlx::query(&format!(
            "delete from {SESSIONS} where id in (select session_id from fa_user_sessions where user_key = ?)"
        ))
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

    pub async fn end_all_sessions(&self) -> Result<usize, StoreUnavailable> {
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        let deleted = sqlx::query(&format!("delete from {SESSIONS}"))
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?
            .rows_affected();
        sqlx::query("delete from fa_user_sessions")
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(deleted as usize)
    }

    pub async fn first_time(&self, id: &str, expiry: i64) -> Result<bool, StoreUnavailable> {
        let inserted = sqlx::query("insert or ignore into fa_once (id, expiry) values (?, ?)")
            .bind(id)
            .bind(expiry)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?
            .rows_affected();
        Ok(inserted == 1)
    }

    /// Drops what has expired from the app's own tables.
    async fn delete_expired_rows(&self) -> Result<(), sqlx::Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        for table in ["fa_user_sessions", "fa_once"] {
            sqlx::query(&format!("delete from {table} where expiry < ?"))
                .bind(now)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

/// Opens (creating if needed) the SQLite session store at `path` and starts its cleanup.
///
/// The file holds tokens: it is created `0600` in a directory created `0700`, and an
/// existing file is narrowed to `0600` (SQLite gives its `-wal` and `-shm` files the same
/// mode as the database).
pub async fn open(path: &Path, cleanup_every: Duration) -> Result<Sqlite, StartupError> {
    let error = |source| StartupError::SessionStore {
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
    store.migrate().await.map_err(error)?;
    for migration in MIGRATIONS {
        sqlx::query(migration).execute(&pool).await.map_err(error)?;
    }
    let sqlite = Sqlite { store, pool };
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
        let deleted = match sqlite.store.delete_expired().await {
            Ok(()) => sqlite
                .delete_expired_rows()
                .await
                .map_err(|e| e.to_string()),
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
