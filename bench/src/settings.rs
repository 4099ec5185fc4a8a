//! What `make bench` measures and for how long: `BENCH_*` variables, all optional.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{ensure, Context, Result};

pub struct Settings {
    pub root: PathBuf,
    pub runs: usize,
    pub wrk_secs: u64,
    pub warm_secs: u64,
    pub wrk_threads: usize,
    pub wrk_connections: usize,
    /// (concurrency, logins) per level.
    pub login_levels: Vec<(usize, usize)>,
    pub login_limit: Duration,
    /// Logins started and abandoned before the last memory reading.
    pub abandoned_logins: usize,
    /// Cold loads of the profile page in Chromium, for the time to a working switch.
    pub browser_samples: usize,
    /// Also measure the scaled topology (two replicas, Redis, nginx) in each run.
    pub scaled: bool,
    /// Sessions of the user revoked under load in the scaled topology (0: not measured).
    pub revoke_sessions: usize,
    pub out: PathBuf,
    /// The built site (`LEPTOS_SITE_ROOT`, as `scripts/run-app.sh` reads it).
    pub site_root: PathBuf,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v:?} is not valid")),
        _ => Ok(default),
    }
}

fn path_or(name: &str, root: &Path, default: &str) -> PathBuf {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => root.join(v),
        _ => root.join(default),
    }
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        let root = match std::env::var("BENCH_ROOT") {
            Ok(r) if !r.is_empty() => PathBuf::from(r),
            _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
        }
        .canonicalize()?;
        let levels: String = env_or("BENCH_LOGIN_LEVELS", "1:100,4:200,16:400".to_owned())?;
        let login_levels = levels
            .split(',')
            .map(|l| {
                let (c, n) = l
                    .split_once(':')
                    .context("BENCH_LOGIN_LEVELS: concurrency:count,…")?;
                Ok((c.trim().parse()?, n.trim().parse()?))
            })
            .collect::<Result<Vec<(usize, usize)>>>()?;
        ensure!(
            login_levels.iter().all(|&(c, n)| c >= 1 && n >= c),
            "BENCH_LOGIN_LEVELS: need count >= concurrency >= 1"
        );
        Ok(Self {
            runs: env_or("BENCH_RUNS", 3usize)?.clamp(1, 10),
            wrk_secs: env_or("BENCH_WRK_SECS", 8u64)?.clamp(1, 60),
            warm_secs: env_or("BENCH_WARM_SECS", 2u64)?.clamp(1, 30),
            wrk_threads: env_or("BENCH_WRK_THREADS", 2usize)?.clamp(1, 8),
            wrk_connections: env_or("BENCH_WRK_CONNECTIONS", 32usize)?.clamp(1, 256),
            login_levels,
            login_limit: Duration::from_secs(
                env_or("BENCH_LOGIN_LIMIT_SECS", 30u64)?.clamp(1, 120),
            ),
            abandoned_logins: env_or("BENCH_SESSIONS", 10_000usize)?.min(100_000),
            browser_samples: env_or("BENCH_BROWSER_SAMPLES", 7usize)?.clamp(1, 50),
            scaled: env_or("BENCH_SCALED", 1u8)? != 0,
            revoke_sessions: env_or("BENCH_REVOKE_SESSIONS", 100_000usize)?.min(1_000_000),
            out: path_or("BENCH_OUT", &root, "bench/results/latest.md"),
            site_root: path_or("LEPTOS_SITE_ROOT", &root, "target/site"),
            root,
        })
    }
}
