//! Sessions in this process's memory: for tests and for a single process that may log
//! everybody out when it restarts. Behaves like the other backends in every other way (the
//! conformance suite runs against it too).

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
    time::{Duration, Instant},
};

use time::OffsetDateTime;

use super::backend::{Backend, Leases, LocalLeases, SessionWrite, Write};
use super::StoreUnavailable;

#[derive(Default)]
pub struct Memory {
    state: Mutex<State>,
    leases: LocalLeases,
}

#[derive(Default)]
struct State {
    /// id -> (record, expiry in unix seconds).
    sessions: HashMap<String, (Vec<u8>, i64)>,
    /// user key -> (expiry, id), oldest first.
    index: HashMap<String, BTreeSet<(i64, String)>>,
    /// delivery key -> until.
    applied: HashMap<String, Instant>,
    /// Writes since expired sessions were last swept out.
    writes: usize,
}

/// Expired sessions are swept out every this many writes.
const SWEEP_EVERY: usize = 1024;

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl Memory {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn is_live(&self, id: &str) -> bool {
        self.sessions
            .get(id)
            .is_some_and(|(_, expiry)| *expiry > now())
    }

    fn index(&mut self, user_key: &str, id: &str, expiry: i64, cap: usize) {
        let now = now();
        let mut entries = self.index.remove(user_key).unwrap_or_default();
        entries.retain(|(until, other)| other != id && *until >= now);
        entries.insert((expiry, id.to_owned()));
        let over = entries.len().saturating_sub(cap);
        let evicted: Vec<(i64, String)> = entries
            .iter()
            .filter(|(_, other)| other != id)
            .take(over)
            .cloned()
            .collect();
        for entry in evicted {
            self.sessions.remove(&entry.1);
            entries.remove(&entry);
        }
        self.index.insert(user_key.to_owned(), entries);
    }
}

#[async_trait::async_trait]
impl Backend for Memory {
    async fn write(&self, session: SessionWrite<'_>, how: Write) -> Result<bool, StoreUnavailable> {
        let mut state = self.state();
        let exists = state.is_live(session.id);
        if exists != (how == Write::Existing) {
            return Ok(false);
        }
        state.writes += 1;
        if state.writes.is_multiple_of(SWEEP_EVERY) {
            let now = now();
            let before = state.sessions.len();
            state.sessions.retain(|_, (_, expiry)| *expiry > now);
            let expired = before - state.sessions.len();
            if expired > 0 {
                crate::metrics::sessions_ended(crate::metrics::Ended::Expiry, expired as u64);
            }
            state.index.retain(|_, entries| {
                entries.retain(|(expiry, _)| *expiry > now);
                !entries.is_empty()
            });
        }
        let expiry = session.expiry.unix_timestamp();
        state
            .sessions
            .insert(session.id.to_owned(), (session.record, expiry));
        if let Some((user_key, cap)) = session.index {
            state.index(user_key, session.id, expiry, cap);
        }
        Ok(true)
    }

    async fn load(&self, id: &str) -> Result<(Option<Vec<u8>>, u64), StoreUnavailable> {
        let state = self.state();
        let record = state
            .is_live(id)
            .then(|| state.sessions.get(id).map(|(record, _)| record.clone()))
            .flatten();
        Ok((record, 0))
    }

    async fn epoch(&self) -> Result<u64, StoreUnavailable> {
        Ok(0)
    }

    async fn delete(&self, id: &str, user_key: Option<&str>) -> Result<(), StoreUnavailable> {
        let mut state = self.state();
        state.sessions.remove(id);
        if let Some(entries) = user_key.and_then(|key| state.index.get_mut(key)) {
            entries.retain(|(_, other)| other != id);
        }
        Ok(())
    }

    async fn end_user(&self, user_key: &str) -> Result<usize, StoreUnavailable> {
        let mut state = self.state();
        let entries = state.index.remove(user_key).unwrap_or_default();
        Ok(entries
            .iter()
            .filter(|(_, id)| state.sessions.remove(id).is_some())
            .count())
    }

    async fn end_all(&self) -> Result<(), StoreUnavailable> {
        let mut state = self.state();
        state.sessions.clear();
        state.index.clear();
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreUnavailable> {
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "memory"
    }

    fn leases(&self) -> &dyn Leases {
        &self.leases
    }

    async fn was_applied(&self, key: &str) -> Result<bool, StoreUnavailable> {
        Ok(self
            .state()
            .applied
            .get(key)
            .is_some_and(|until| *until > Instant::now()))
    }

    async fn mark_applied(&self, key: &str, ttl: Duration) -> Result<(), StoreUnavailable> {
        let mut state = self.state();
        let now = Instant::now();
        state.applied.retain(|_, until| *until > now);
        state.applied.insert(key.to_owned(), now + ttl);
        Ok(())
    }
}
