//! The session store: SQLite, private to the app's user, with a cleanup task that survives
//! its own failures.

use std::{path::Path, time::Duration};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

use super::StartupError;

/// Opens (creating if needed) the SQLite session store at `path` and starts its cleanup.
///
/// The file holds tokens: it is created `0600` in a directory created `0700`, and an
/// existing file is narrowed to `0600` (SQLite gives its `-wal` and `-shm` files the same
/// mode as the database).
pub async fn open(path: &Path, cleanup_every: Duration) -> Result<SqliteStore, StartupError> {
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
    let store = SqliteStore::new(pool);
    store.migrate().await.map_err(error)?;
    tokio::spawn(delete_expired_sessions(store.clone(), cleanup_every));
    Ok(store)
}

/// Deletes expired sessions every `period`, for as long as the server runs. A failure (say
/// `SQLITE_BUSY`, or a disk that is full for a while) is logged and the next round tries
/// again: tower-sessions' own loop would end at its first error, silently.
async fn delete_expired_sessions(store: SqliteStore, period: Duration) {
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticker.tick().await;
        match store.delete_expired().await {
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
