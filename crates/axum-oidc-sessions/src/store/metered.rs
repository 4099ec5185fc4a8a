//! Every backend operation counted and timed (`oidc_sessions_store_operations_total` and
//! `oidc_sessions_store_operation_duration_seconds`), by backend, operation and result: a
//! decorator around whichever backend holds the sessions.

use std::time::Duration;

use super::backend::{Backend, Leases, SessionWrite, Write};
use super::StoreUnavailable;
use crate::metrics::store_operation;

/// A backend whose operations are recorded in the metrics.
pub struct Metered<B>(pub B);

#[async_trait::async_trait]
impl<B: Backend> Backend for Metered<B> {
    async fn write(&self, session: SessionWrite<'_>, how: Write) -> Result<bool, StoreUnavailable> {
        store_operation(self.0.kind(), "write", self.0.write(session, how)).await
    }

    async fn load(&self, id: &str) -> Result<(Option<Vec<u8>>, u64), StoreUnavailable> {
        store_operation(self.0.kind(), "load", self.0.load(id)).await
    }

    async fn epoch(&self) -> Result<u64, StoreUnavailable> {
        store_operation(self.0.kind(), "epoch", self.0.epoch()).await
    }

    async fn delete(&self, id: &str, user_key: Option<&str>) -> Result<(), StoreUnavailable> {
        store_operation(self.0.kind(), "delete", self.0.delete(id, user_key)).await
    }

    async fn end_user(&self, user_key: &str) -> Result<usize, StoreUnavailable> {
        store_operation(self.0.kind(), "end_user", self.0.end_user(user_key)).await
    }

    async fn end_all(&self) -> Result<(), StoreUnavailable> {
        store_operation(self.0.kind(), "end_all", self.0.end_all()).await
    }

    fn leases(&self) -> &dyn Leases {
        self
    }

    async fn was_applied(&self, key: &str) -> Result<bool, StoreUnavailable> {
        store_operation(self.0.kind(), "was_applied", self.0.was_applied(key)).await
    }

    async fn mark_applied(&self, key: &str, ttl: Duration) -> Result<(), StoreUnavailable> {
        store_operation(self.0.kind(), "mark_applied", self.0.mark_applied(key, ttl)).await
    }

    async fn ping(&self) -> Result<(), StoreUnavailable> {
        store_operation(self.0.kind(), "ping", self.0.ping()).await
    }

    fn kind(&self) -> &'static str {
        self.0.kind()
    }
}

#[async_trait::async_trait]
impl<B: Backend> Leases for Metered<B> {
    async fn try_lease(
        &self,
        key: &str,
        token: &str,
        ttl: Duration,
    ) -> Result<bool, StoreUnavailable> {
        let leases = self.0.leases();
        store_operation(
            self.0.kind(),
            "try_lease",
            leases.try_lease(key, token, ttl),
        )
        .await
    }

    async fn renew(&self, key: &str, token: &str, ttl: Duration) -> Result<bool, StoreUnavailable> {
        let leases = self.0.leases();
        store_operation(self.0.kind(), "renew_lease", leases.renew(key, token, ttl)).await
    }

    async fn release(&self, key: &str, token: &str) -> Result<(), StoreUnavailable> {
        let leases = self.0.leases();
        store_operation(self.0.kind(), "release_lease", leases.release(key, token)).await
    }
}
