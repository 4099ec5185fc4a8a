//! Sessions in Redis (`REDIS_URL`), shared by every replica.
//!
//! Keys: each session under its id (the record as MessagePack, the layout of
//! `tower-sessions-redis-store`, so sessions stored by earlier releases still load); beside
//! them, under `fa:`, one sorted set per user indexing that user's live sessions by expiry
//! (`fa:idx:<user key>`), the application's revocation epoch (`fa:epoch`), refresh leases and
//! the webhook deliveries already applied.
//!
//! What revocation costs stays small whatever the traffic: a session is written and indexed
//! in one script that also drops the user's expired entries and, past the cap, the oldest
//! sessions; a logout removes its entry; a user's sessions are ended a few hundred per
//! command, so other requests are served in between; and a revocation for the whole
//! application is one `INCR` of the epoch that every session carries, checked when it loads.
//!
//! Redis being down must never queue requests: a command is sent only over a connection that
//! is up (otherwise it fails at once, and the page says "try again"), each command has a
//! deadline, and the client reconnects in the background by itself.

use std::time::Duration;

use fred::{
    clients::{Client, Pool},
    interfaces::{ClientLike, KeysInterface, LuaInterface},
    types::{
        config::{Config, ConnectionConfig, PerformanceConfig, ReconnectPolicy},
        Expiration, InfoKind, SetOptions, Value,
    },
};

use super::backend::{Backend, Leases, SessionWrite, Write};
use super::StoreUnavailable;

/// Longest wait for one Redis command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for Redis at start-up; after that the app serves anyway and reconnects.
const STARTUP_WAIT: Duration = Duration::from_secs(5);
const POOL_SIZE: usize = 4;
/// The oldest Redis with every command the scripts use (`SET … EXAT`).
pub const MIN_VERSION: (u32, u32) = (6, 2);
/// Sessions ended per command when a user is revoked.
const REVOKE_BATCH: usize = 500;
/// The application's revocation epoch: a session written before the last application-wide
/// revocation carries a smaller one.
const EPOCH_KEY: &str = "fa:epoch";

/// Indexes ARGV[1] (a session id) in the user's sorted set KEYS[1] at score ARGV[2] (its
/// expiry, unix seconds); drops entries that expired before ARGV[3] (now); past ARGV[4]
/// sessions, ends the oldest (never ARGV[1] itself); keeps the set as long as its last entry.
const INDEX_FN: &str = "local function index(idx, id, expiry, now, cap) \
    redis.call('ZADD', idx, expiry, id) \
    redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. now) \
    local over = redis.call('ZCARD', idx) - cap \
    if over > 0 then \
      local n = 0 \
      for _, old in ipairs(redis.call('ZRANGE', idx, 0, over)) do \
        if n < over and old ~= id then redis.call('ZREM', idx, old) redis.call('DEL', old) n = n + 1 end \
      end \
    end \
    local last = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES') \
    if last[2] then redis.call('EXPIREAT', idx, last[2]) end \
  end ";

/// Writes KEYS[1] (ARGV[5] the record, expiring at ARGV[2]) with ARGV[6] (`NX`: a new
/// session; `XX`: only if it still exists, so a refresh that finishes after a logout or a
/// revocation writes nothing back), then indexes it under KEYS[2] when there is one.
/// Returns 0 when nothing was written.
fn write_script() -> String {
    format!(
        "{INDEX_FN} \
        if not redis.call('SET', KEYS[1], ARGV[5], 'EXAT', ARGV[2], ARGV[6]) then return 0 end \
        if KEYS[2] then index(KEYS[2], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])) end \
        return 1"
    )
}

/// Deletes the session KEYS[1] and its entry in the user's index KEYS[2], if named.
const DELETE_SCRIPT: &str = "redis.call('DEL', KEYS[1]) \
    if KEYS[2] then redis.call('ZREM', KEYS[2], ARGV[1]) end return 1";

/// Ends up to ARGV[1] sessions of a user: the oldest in the index KEYS[1], and those in
/// KEYS[2], the plain set earlier releases indexed with. Returns {sessions deleted, entries
/// taken}; the caller repeats until no entry is left.
const END_USER_SCRIPT: &str = "local n = 0 \
    local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1) \
    for _, id in ipairs(ids) do n = n + redis.call('DEL', id) end \
    if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end \
    local legacy = redis.call('SPOP', KEYS[2], ARGV[1]) \
    for _, id in ipairs(legacy) do n = n + redis.call('DEL', id) end \
    return {n, #ids + #legacy}";

/// Extends a lease only if it still holds our token.
const RENEW_SCRIPT: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/// Releases a lease only if it still holds our token.
const RELEASE_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

#[derive(Clone, Debug)]
pub struct Redis {
    pool: Pool,
    write_script: std::sync::Arc<str>,
}

fn unavailable(e: fred::error::Error) -> StoreUnavailable {
    StoreUnavailable(e.to_string())
}

/// Checks `REDIS_URL` without connecting (start-up configuration).
pub fn parse_url(url: &str) -> Result<Config, String> {
    Config::from_url(url).map_err(|e| e.details().to_string())
}

impl Redis {
    /// Connects to `url`. Waits a few seconds for the first connection; when Redis is not up
    /// yet the app starts anyway (pages that need a session answer 503 until it is). A Redis
    /// older than [`MIN_VERSION`] is refused.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let config = Config {
            // Keep trying in the background when Redis is down at start-up.
            fail_fast: false,
            ..parse_url(url)?
        };
        let performance = PerformanceConfig {
            default_command_timeout: COMMAND_TIMEOUT,
            ..Default::default()
        };
        let connection = ConnectionConfig {
            connection_timeout: COMMAND_TIMEOUT,
            internal_command_timeout: COMMAND_TIMEOUT,
            max_command_attempts: 1,
            ..Default::default()
        };
        // Unlimited attempts, half a second apart: Redis coming back is noticed at once.
        let reconnect = ReconnectPolicy::new_constant(0, 500);
        let pool = Pool::new(
            config,
            Some(performance),
            Some(connection),
            Some(reconnect),
            POOL_SIZE,
        )
        .map_err(|e| e.details().to_string())?;
        pool.connect_pool();
        let redis = Self {
            pool,
            write_script: write_script().into(),
        };
        match tokio::time::timeout(STARTUP_WAIT, redis.pool.wait_for_connect()).await {
            Ok(Ok(())) => {
                redis.check_version().await?;
                tracing::info!("connected to Redis");
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "Redis unavailable at start-up; retrying in the background")
            }
            Err(_) => {
                tracing::error!("Redis did not answer at start-up; retrying in the background")
            }
        }
        Ok(redis)
    }

    async fn check_version(&self) -> Result<(), String> {
        let info: String = self
            .client()
            .map_err(|e| e.0)?
            .info(Some(InfoKind::Server))
            .await
            .map_err(|e| e.details().to_string())?;
        check_version(&info)
    }

    /// A client whose connection is up, or an error at once.
    fn client(&self) -> Result<&Client, StoreUnavailable> {
        let client = self.pool.next_connected();
        if client.is_connected() {
            Ok(client)
        } else {
            Err(StoreUnavailable("Redis is not connected".into()))
        }
    }
}

#[async_trait::async_trait]
impl Backend for Redis {
    async fn write(&self, session: SessionWrite<'_>, how: Write) -> Result<bool, StoreUnavailable> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut keys = vec![session.id.to_owned()];
        let mut cap = 0;
        if let Some((user_key, max)) = session.index {
            keys.push(user_index(user_key));
            cap = max;
        }
        let args: Vec<Value> = vec![
            session.id.into(),
            session.expiry.unix_timestamp().into(),
            now.into(),
            i64::try_from(cap).unwrap_or(i64::MAX).into(),
            Value::Bytes(session.record.into()),
            match how {
                Write::New => "NX",
                Write::Existing => "XX",
            }
            .into(),
        ];
        let written: i64 = self
            .client()?
            .eval(&*self.write_script, keys, args)
            .await
            .map_err(unavailable)?;
        Ok(written == 1)
    }

    /// The record and the epoch in one round trip.
    async fn load(&self, id: &str) -> Result<(Option<Vec<u8>>, u64), StoreUnavailable> {
        let values: Vec<Value> = self
            .client()?
            .mget(vec![id.to_owned(), EPOCH_KEY.to_owned()])
            .await
            .map_err(unavailable)?;
        let record = values.first().and_then(Value::as_bytes).map(<[u8]>::to_vec);
        let epoch = values.get(1).and_then(Value::as_u64).unwrap_or(0);
        Ok((record, epoch))
    }

    async fn epoch(&self) -> Result<u64, StoreUnavailable> {
        let epoch: Option<u64> = self.client()?.get(EPOCH_KEY).await.map_err(unavailable)?;
        Ok(epoch.unwrap_or(0))
    }

    async fn delete(&self, id: &str, user_key: Option<&str>) -> Result<(), StoreUnavailable> {
        let keys: Vec<String> = std::iter::once(id.to_owned())
            .chain(user_key.map(user_index))
            .collect();
        let _: i64 = self
            .client()?
            .eval(DELETE_SCRIPT, keys, vec![id.to_owned()])
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// [`REVOKE_BATCH`] sessions per command, so other requests are served in between.
    async fn end_user(&self, user_key: &str) -> Result<usize, StoreUnavailable> {
        let keys = vec![user_index(user_key), legacy_user_index(user_key)];
        let mut ended = 0;
        loop {
            let (deleted, taken): (i64, i64) = self
                .client()?
                .eval(END_USER_SCRIPT, keys.clone(), vec![REVOKE_BATCH as i64])
                .await
                .map_err(unavailable)?;
            ended += usize::try_from(deleted).unwrap_or(0);
            if taken == 0 {
                return Ok(ended);
            }
        }
    }

    /// One `INCR`: every session carries the epoch it was written in, and one from before
    /// this call no longer loads (it is deleted when read).
    async fn end_all(&self) -> Result<(), StoreUnavailable> {
        let _: u64 = self.client()?.incr(EPOCH_KEY).await.map_err(unavailable)?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreUnavailable> {
        // Bounded by the client's command deadline, like every other command.
        let _: Value = self.client()?.ping(None).await.map_err(unavailable)?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn leases(&self) -> &dyn Leases {
        self
    }

    async fn was_applied(&self, key: &str) -> Result<bool, StoreUnavailable> {
        let count: i64 = self.client()?.exists(key).await.map_err(unavailable)?;
        Ok(count > 0)
    }

    async fn mark_applied(&self, key: &str, ttl: Duration) -> Result<(), StoreUnavailable> {
        let _: Option<String> = self
            .client()?
            .set(key, "1", Some(Expiration::PX(millis(ttl))), None, false)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

/// Leases in Redis, so that every replica honours them.
#[async_trait::async_trait]
impl Leases for Redis {
    /// `SET key token NX PX ttl`.
    async fn try_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreUnavailable> {
        let set: Option<String> = self
            .client()?
            .set(
                key,
                token,
                Some(Expiration::PX(millis(ttl))),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    async fn renew(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreUnavailable> {
        let renewed: i64 = self
            .client()?
            .eval(
                RENEW_SCRIPT,
                vec![key.to_owned()],
                vec![token.to_owned(), millis(ttl).to_string()],
            )
            .await
            .map_err(unavailable)?;
        Ok(renewed == 1)
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreUnavailable> {
        let _: i64 = self
            .client()?
            .eval(RELEASE_SCRIPT, vec![key.to_owned()], vec![token.to_owned()])
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

fn millis(ttl: Duration) -> i64 {
    ttl.as_millis().try_into().unwrap_or(i64::MAX)
}

fn user_index(user_key: &str) -> String {
    format!("fa:idx:{user_key}")
}

/// The per-user set of releases before the sorted index (read when revoking only).
fn legacy_user_index(user_key: &str) -> String {
    format!("fa:user:{user_key}")
}

/// `Ok` when the `redis_version` in `INFO server` output is at least [`MIN_VERSION`].
fn check_version(info: &str) -> Result<(), String> {
    let version = info
        .lines()
        .find_map(|line| line.trim().strip_prefix("redis_version:"))
        .ok_or("Redis did not say its version (INFO server)")?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if found >= MIN_VERSION {
        Ok(())
    } else {
        Err(format!(
            "Redis {version} is too old: the session store needs Redis {}.{} or later",
            MIN_VERSION.0, MIN_VERSION.1
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::check_version;

    #[test]
    fn redis_older_than_6_2_is_refused_with_one_line() {
        let err = check_version("# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n")
            .expect_err("too old");
        assert_eq!(
            err,
            "Redis 6.0.16 is too old: the session store needs Redis 6.2 or later"
        );
        assert!(check_version("redis_version:6.2.0\r\n").is_ok());
        assert!(check_version("redis_version:7.0.15\r\n").is_ok());
        assert!(check_version("redis_version:10.0.0\r\n").is_ok());
        assert!(check_version("no version here").is_err());
    }
}
