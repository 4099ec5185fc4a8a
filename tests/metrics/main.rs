//! The Prometheus metrics, scraped from the real app's metrics listener.
//!
//! A test binary of its own, not a module of `login_flow`: the metrics recorder is global to
//! a process, and `login_flow`'s tests run in parallel in one process, so the counters there
//! would move by what every concurrent test did. Here every test that reads counters first
//! takes [`serial`], so between two scrapes only the test's own requests run, and it can
//! check that each counter moved by exactly what it did. (Spawning the app as a process of
//! its own would need a built binary and a provider outside the test: the in-process app with
//! the `login_flow` helpers is the same app, and the lock costs a few seconds.)

#[path = "../login_flow/support/mod.rs"]
mod support;

mod cardinality;
mod dashboard;
mod flow;
mod listener;
mod scrape;

/// Held for the whole of a test that reads counters: one such test at a time.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}
