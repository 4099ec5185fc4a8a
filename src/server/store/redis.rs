//! Sessions in Redis (`REDIS_URL`), shared by every replica: tower-sessions' Redis store for
//! the records, and beside them, under `fa:`, the per-user index, the refresh leases and the
//! once-only webhook ids.
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
        Expiration, SetOptions,
    },
};
use tower_sessions_redis_store::RedisStore;

use crate::auth::store::StoreUnavailable;

/// Longest wait for one Redis command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for Redis at start-up; after that the app serves anyway and reconnects.
const STARTUP_WAIT: Duration = Duration::from_secs(5);
const POOL_SIZE: usize = 4;

/// Adds a session to a user's index and keeps the index alive as long as its longest session.
const INDEX_SCRIPT: &str = "redis.call('SADD', KEYS[1], ARGV[1]) \
    if redis.call('EXPIRETIME', KEYS[1]) < tonumber(ARGV[2]) then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end \
    return 1";
/// Deletes every session in a user's index, then the index.
const END_USER_SCRIPT: &str = "local ids = redis.call('SMEMBERS', KEYS[1]) local n = 0 \
    for _, id in ipairs(ids) do n = n + redis.call('DEL', id) end \
    redis.call('DEL', KEYS[1]) return n";
/// The same for every user's index (a revocation for the whole application). KEYS walks the
/// keyspace in one go: fine for a session database, not for one shared with much else.
const END_ALL_SCRIPT: &str = "local n = 0 \
    for _, set in ipairs(redis.call('KEYS', ARGV[1])) do \
      for _, id in ipairs(redis.call('SMEMBERS', set)) do n = n + redis.call('DEL', id) end \
      redis.call('DEL', set) end return n";
/// Releases a lease only if it still holds our token.
const RELEASE_SCRIPT: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

#[derive(Clone, Debug)]
pub struct Redis {
    pool: Pool,
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
    /// yet the app starts anyway (pages that need a session answer 503 until it is).
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
        match tokio::time::timeout(STARTUP_WAIT, pool.wait_for_connect()).await {
            Ok(Ok(())) => tracing::info!("connected to Redis"),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "Redis unavailable at start-up; retrying in the background")
            }
            Err(_) => {
                tracing::error!("Redis did not answer at start-up; retrying in the background")
            }
        }
        Ok(Self { pool })
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

    /// tower-sessions' store over a connected client.
    pub fn sessions(&self) -> Result<RedisStore<Client>, StoreUnavailable> {
        self.client().map(|client| RedisStore::new(client.clone()))
    }

    pub async fn index(
        &self,
        user_key: &str,
        session_id: &str,
        expiry: i64,
    ) -> Result<(), StoreUnavailable> {
        let _: i64 = self
            .client()?
            .eval(
                INDEX_SCRIPT,
                vec![user_index(user_key)],
                vec![session_id.to_owned(), expiry.to_string()],
            )
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub async fn end_sessions_of(&self, user_key: &str) -> Result<usize, StoreUnavailable> {
        let ended: i64 = self
            .client()?
            .eval(
                END_USER_SCRIPT,
                vec![user_index(user_key)],
                Vec::<String>::new(),
            )
            .await
            .map_err(unavailable)?;
        Ok(ended.max(0) as usize)
    }

    pub async fn end_all_sessions(&self) -> Result<usize, StoreUnavailable> {
        let ended: i64 = self
            .client()?
            .eval(END_ALL_SCRIPT, Vec::<String>::new(), vec![user_index("*")])
            .await
            .map_err(unavailable)?;
        Ok(ended.max(0) as usize)
    }

    /// `SET key token NX PX ttl`: true when the key was free.
    pub async fn set_if_absent(
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
                Some(Expiration::PX(
                    ttl.as_millis().try_into().unwrap_or(i64::MAX),
                )),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(unavailable)?;
        Ok(set.is_some())
    }

    pub async fn release(&self, key: &str, token: &str) -> Result<(), StoreUnavailable> {
        let _: i64 = self
            .client()?
            .eval(RELEASE_SCRIPT, vec![key.to_owned()], vec![token.to_owned()])
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

fn user_index(user_key: &str) -> String {
    format!("fa:user:{user_key}")
}
