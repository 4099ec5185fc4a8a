//! Memory: the app's resident set at each stage of a run, and what a flood of abandoned
//! logins (a bot on `/login`) costs it: nothing should, since an attempt lives in a cookie.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Result;
use topology::proc::Proc;

use crate::{
    browser::{self, Browser},
    harness::{file_len, session_db, Env},
    procs,
    report::{Figure, Table, Unit},
    settings::Settings,
};

#[derive(Default)]
pub struct Memory {
    pub idle: u64,
    pub after_pages: u64,
    pub after_logins: u64,
    pub after_abandoned: u64,
    pub abandoned: usize,
    pub abandoned_secs: f64,
    /// The session database with its WAL, after everything.
    pub session_db_bytes: u64,
}

/// Reads the app's resident set.
pub fn rss(app: &Proc) -> Result<u64> {
    procs::rss_bytes(app.pid)
}

/// `BENCH_SESSIONS` new browsers start a login and never finish it; then the reading.
pub async fn abandoned_logins(
    settings: &Settings,
    env: &Env,
    run: usize,
    app: &Proc,
    browser: Arc<Browser>,
    memory: &mut Memory,
) -> Result<()> {
    let started = Instant::now();
    let (count, _) = browser::start_sessions(
        browser,
        8,
        settings.abandoned_logins,
        Duration::from_secs(180),
    )
    .await?;
    memory.abandoned = count;
    memory.abandoned_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    memory.after_abandoned = rss(app)?;
    let db = session_db(env, run);
    memory.session_db_bytes = file_len(&db)
        + file_len(&db.with_extension("db-wal"))
        + file_len(&db.with_extension("db-shm"));
    eprintln!(
        "bench:   {count} abandoned logins in {:.1} s; RSS idle {} MB, after load {} MB, after them {} MB",
        memory.abandoned_secs,
        memory.idle / 1_000_000,
        memory.after_logins / 1_000_000,
        memory.after_abandoned / 1_000_000
    );
    Ok(())
}

pub fn figures(runs: &[&Memory], abandoned: usize) -> Vec<Figure> {
    let per_run = |f: fn(&Memory) -> u64| runs.iter().map(|m| f(m) as f64).collect::<Vec<_>>();
    vec![
        Figure::new("**server RSS idle**", per_run(|m| m.idle), Unit::Mb)
            .target("< 30 MB", |m| m < 30e6),
        Figure::new(
            "server RSS after the load (pages, then logins)",
            per_run(|m| m.after_logins),
            Unit::Mb,
        ),
        Figure::new(
            format!("server RSS after {abandoned} abandoned logins"),
            per_run(|m| m.after_abandoned),
            Unit::Mb,
        ),
    ]
}

pub fn table(runs: &[&Memory]) -> Table {
    let mb = |x: u64| Unit::Mb.show(x as f64);
    Table {
        title: "Memory, per run".into(),
        header: [
            "run",
            "RSS idle",
            "after pages",
            "after logins",
            "after abandoned logins",
            "abandoned logins (s)",
            "session DB",
        ]
        .map(String::from)
        .to_vec(),
        rows: runs
            .iter()
            .enumerate()
            .map(|(i, m)| {
                vec![
                    (i + 1).to_string(),
                    mb(m.idle),
                    mb(m.after_pages),
                    mb(m.after_logins),
                    mb(m.after_abandoned),
                    format!("{} ({:.1} s)", m.abandoned, m.abandoned_secs),
                    mb(m.session_db_bytes),
                ]
            })
            .collect(),
        notes: vec![],
    }
}
