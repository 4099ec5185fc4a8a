//! The user revoked under load: many sessions written straight into Redis in the session
//! store's layout (crates/axum-oidc-sessions/src/store/redis.rs): each session under its id,
//! and its id in the user's sorted index `fa:idx:<user key>`, scored by its expiry (unix
//! seconds).

use std::{
    process::Stdio,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{anyhow, bail, ensure, Context, Result};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use tokio::{io::AsyncWriteExt, process::Command};

use crate::{harness::APP_SECRET_KEY, redis_stats::redis_cli};

/// The victim's `sub`; the measuring user is the stand-in's (`browser::USER`).
pub const SUB: &str = "bench-victim";
/// Each session: its value's size (a sealed session is about as long) and lifetime.
const VALUE_BYTES: usize = 1024;
const SESSION_SECS: u64 = 3600;
/// Keys besides the victim's that may come and go meanwhile (a webhook's delivery record, a
/// refresh lease).
const DBSIZE_SLACK: u64 = 10;

pub struct Victim {
    redis_port: u16,
    /// The key of the victim's index, as the replicas compute it.
    key: String,
    pub sessions: usize,
}

impl Victim {
    pub fn new(redis_port: u16, sessions: usize) -> Result<Self> {
        ensure!(sessions > 0, "no sessions to revoke");
        Ok(Self {
            redis_port,
            key: user_key(APP_SECRET_KEY, SUB)?,
            sessions,
        })
    }

    fn index(&self) -> String {
        format!("fa:idx:{}", self.key)
    }

    /// Writes the victim's sessions and index entries with `redis-cli --pipe`, checks DBSIZE,
    /// then waits for the append-only file's rewrite this starts (a fork, not what is measured).
    pub async fn write_sessions(&self) -> Result<()> {
        let n = self.sessions;
        let before = dbsize(self.redis_port).await?;
        let started = Instant::now();
        let mut child = Command::new("redis-cli")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.redis_port.to_string(),
                "--pipe",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("run redis-cli --pipe (make deps-services)")?;
        let mut stdin = child.stdin.take().context("redis-cli has no stdin")?;
        let index = self.index();
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let expiry = (now + SESSION_SECS).to_string();
        let ttl = SESSION_SECS.to_string();
        let value = vec![b'v'; VALUE_BYTES];
        let mut buf = Vec::new();
        for i in 0..n {
            let id = session_id(i);
            resp(
                &mut buf,
                &[b"SET", id.as_bytes(), &value, b"EX", ttl.as_bytes()],
            );
            resp(
                &mut buf,
                &[b"ZADD", index.as_bytes(), expiry.as_bytes(), id.as_bytes()],
            );
            if buf.len() > 1 << 20 {
                stdin.write_all(&buf).await?;
                buf.clear();
            }
        }
        // As the store's index script does: the index lasts as long as its last entry.
        resp(
            &mut buf,
            &[b"EXPIREAT", index.as_bytes(), expiry.as_bytes()],
        );
        stdin.write_all(&buf).await?;
        drop(stdin);
        let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
            .await
            .context("redis-cli --pipe did not finish within 5 min")??;
        let said = String::from_utf8_lossy(&out.stdout);
        ensure!(
            out.status.success() && said.contains(&format!("errors: 0, replies: {}", 2 * n + 1)),
            "redis-cli --pipe: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let after = dbsize(self.redis_port).await?;
        ensure!(
            after >= before + n as u64,
            "DBSIZE {before} -> {after} after writing {n} sessions"
        );
        settle(self.redis_port).await?;
        eprintln!(
            "bench:   revoke: {n} sessions of {SUB} written in {:.1} s (DBSIZE {before} -> {after})",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    pub async fn dbsize(&self) -> Result<u64> {
        dbsize(self.redis_port).await
    }

    /// After the victim's revocation: its index and sessions are gone, and DBSIZE is down
    /// from `before` by about as many.
    pub async fn check_gone(&self, before: u64) -> Result<()> {
        let n = self.sessions;
        let left = redis_cli(
            self.redis_port,
            &["EXISTS", &self.index(), &session_id(0), &session_id(n - 1)],
        )
        .await?;
        ensure!(
            left.trim() == "0",
            "the victim's index or sessions are still in Redis after the revocation"
        );
        let after = dbsize(self.redis_port).await?;
        ensure!(
            after + n as u64 <= before + DBSIZE_SLACK,
            "DBSIZE {before} -> {after}: the revocation did not delete {n} sessions"
        );
        eprintln!("bench:   revoke: DBSIZE {before} -> {after} after the user's revocation");
        Ok(())
    }
}

/// Waits while Redis rewrites its append-only file or saves a snapshot.
async fn settle(port: u16) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let info = redis_cli(port, &["INFO", "persistence"]).await?;
        let busy = info.lines().map(str::trim).any(|l| {
            matches!(
                l,
                "aof_rewrite_in_progress:1"
                    | "aof_rewrite_scheduled:1"
                    | "rdb_bgsave_in_progress:1"
            )
        });
        if !busy {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("Redis was still rewriting its append-only file after 120 s")
}

async fn dbsize(port: u16) -> Result<u64> {
    let out = redis_cli(port, &["DBSIZE"]).await?;
    out.trim()
        .parse()
        .with_context(|| format!("DBSIZE answered {out:?}"))
}

/// A session id as long as the store's (22 characters), never one of them.
fn session_id(i: usize) -> String {
    format!("bench-victim-{i:09}")
}

/// One command in Redis's protocol (RESP), what `redis-cli --pipe` reads.
fn resp(buf: &mut Vec<u8>, parts: &[&[u8]]) {
    buf.extend_from_slice(format!("*{}\r\n", parts.len()).as_bytes());
    for part in parts {
        buf.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
        buf.extend_from_slice(part);
        buf.extend_from_slice(b"\r\n");
    }
}

/// The key of `sub`'s index as crates/axum-oidc-sessions/src/store/mod.rs `user_keys` makes it
/// under the current `APP_SECRET_KEY`: hex of the first 16 bytes of SHA-256(index key || sub),
/// where the index key is HKDF-SHA256(`APP_SECRET_KEY`, no salt, "fusionauth-leptos user-index
/// v1"), 32 bytes.
fn user_key(secret: &str, sub: &str) -> Result<String> {
    let mut index_key = [0u8; 32];
    Hkdf::<Sha256>::new(None, secret.as_bytes())
        .expand(b"fusionauth-leptos user-index v1", &mut index_key)
        .map_err(|_| anyhow!("HKDF-SHA256 refused 32 bytes"))?;
    let digest = Sha256::new()
        .chain_update(index_key)
        .chain_update(sub)
        .finalize();
    Ok(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_victim_key_is_the_stores() {
        // Computed once with Python's hashlib and hmac (HKDF-SHA256 of RFC 5869 by hand):
        //   prk = hmac.new(b"\0" * 32, secret, sha256).digest()
        //   okm = hmac.new(prk, b"fusionauth-leptos user-index v1\x01", sha256).digest()
        //   sha256(okm + b"bench-victim").digest()[:16].hex()
        assert_eq!(
            user_key(APP_SECRET_KEY, SUB).unwrap(),
            "a32fffab46205404a36d2594345dc6eb"
        );
    }

    #[test]
    fn sessions_are_written_in_redis_protocol() {
        let mut buf = Vec::new();
        resp(
            &mut buf,
            &[b"ZADD", b"fa:idx:k", b"17", session_id(3).as_bytes()],
        );
        assert_eq!(
            buf,
            b"*4\r\n$4\r\nZADD\r\n$8\r\nfa:idx:k\r\n$2\r\n17\r\n$22\r\nbench-victim-000000003\r\n"
        );
    }
}
