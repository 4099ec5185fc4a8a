//! Logins through the real flow: scripted browsers at several concurrencies, the app's share
//! of each login's time and CPU, and the requests it makes to the provider.

use std::{collections::BTreeMap, path::Path, sync::Arc, time::Duration};

use anyhow::{bail, ensure, Context, Result};
use topology::proc::Proc;

use crate::{
    browser::{self, Batch, Browser, LoginTiming},
    harness::{file_len, ms, provider_requests, reset_provider_requests, Env},
    procs,
    report::{cell, Figure, Table, Unit},
    settings::Settings,
    stats::{percentile, sorted},
};

/// What one concurrency level measured.
pub struct Level {
    pub concurrency: usize,
    pub logins: usize,
    pub errors: Vec<String>,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The app's requests (client side) minus the provider's token handling, per login (one
    /// at a time only: then the i-th token request is the i-th login's).
    pub app_ms: Vec<f64>,
    /// Mean of the above (the only sound figure when logins overlap).
    pub app_ms_mean: f64,
    pub token_ms_mean: f64,
    pub app_cpu_ms: f64,
    pub provider_requests: BTreeMap<String, u64>,
    /// (`/login`, `/callback`, `/profile`) client-side medians, ms.
    pub steps_ms: (f64, f64, f64),
}

impl Level {
    pub fn provider_requests_per_login(&self) -> f64 {
        self.provider_requests.values().sum::<u64>() as f64 / self.logins.max(1) as f64
    }
}

pub struct Logins {
    /// Requests of the first login after start (discovery and JWKS happen there).
    pub cold_requests: BTreeMap<String, u64>,
    pub levels: Vec<Level>,
}

/// The first login after start. Returns the provider requests it caused and the session's
/// `Cookie` header value.
pub async fn cold_login(env: &Env, browser: &Browser) -> Result<(BTreeMap<String, u64>, String)> {
    reset_provider_requests(env).await?;
    let (_, jar) = browser
        .login()
        .await
        .context("first login through the real flow")?;
    let requests = provider_requests(env).await?;
    let cookie = browser
        .app_cookie(&jar)
        .context("no session cookie after login")?;
    Ok((requests, cookie.to_str()?.to_owned()))
}

/// Every level of `BENCH_LOGIN_LEVELS`, one after another. `apps` are the app's processes
/// (one, or the replicas behind nginx): their CPU time is summed.
pub async fn levels(
    settings: &Settings,
    env: &Env,
    apps: &mut [&mut Proc],
    browser: Arc<Browser>,
) -> Result<Vec<Level>> {
    let cpu_seconds = |apps: &[&mut Proc]| -> Result<f64> {
        apps.iter().map(|a| procs::cpu_seconds(a.pid)).sum()
    };
    let mut levels = Vec::new();
    for &(concurrency, count) in &settings.login_levels {
        reset_provider_requests(env).await?;
        let log_offset = file_len(&env.idp_log);
        let cpu_before = cpu_seconds(apps)?;
        let batch =
            browser::login_batch(browser.clone(), concurrency, count, settings.login_limit).await;
        let cpu = cpu_seconds(apps)? - cpu_before;
        // The provider writes its log line as it answers: let the last ones land.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let tokens = token_times(&env.idp_log, log_offset)?;
        let level = level(batch, tokens, cpu, provider_requests(env).await?)?;
        eprintln!(
            "bench:   logins c={concurrency:<3} {:>6.1}/s  p50 {:.1} ms  app {:.2} ms/login  cpu {:.2} ms/login  {:.2} provider requests/login",
            level.per_sec, level.p50_ms, level.app_ms_mean, level.app_cpu_ms, level.provider_requests_per_login()
        );
        levels.push(level);
        for app in apps.iter_mut() {
            app.check_alive()?;
        }
    }
    Ok(levels)
}

/// The provider's own handling time of each token request logged after `offset`, in order
/// (its log: `POST /oauth2/token 200 3.4ms`).
fn token_times(log: &Path, offset: u64) -> Result<Vec<f64>> {
    let text = std::fs::read(log)?;
    let text = String::from_utf8_lossy(&text[(offset as usize).min(text.len())..]).into_owned();
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("POST /oauth2/token 200 "))
        .filter_map(|ms| ms.trim().strip_suffix("ms")?.parse().ok())
        .collect())
}

fn level(
    batch: Batch,
    tokens: Vec<f64>,
    cpu_secs: f64,
    requests: BTreeMap<String, u64>,
) -> Result<Level> {
    let Batch {
        concurrency,
        timings,
        errors,
        wall,
    } = batch;
    if timings.is_empty() {
        bail!(
            "no login succeeded at concurrency {concurrency}: {}",
            errors.first().map_or("", String::as_str)
        );
    }
    if let Some(first) = errors.first() {
        eprintln!(
            "bench:   {} logins failed at concurrency {concurrency}; first: {first}",
            errors.len()
        );
    }
    ensure!(
        !tokens.is_empty(),
        "the provider's log has no `POST /oauth2/token 200 <ms>ms` lines: did its log format change?"
    );
    let n = timings.len();
    let totals = sorted(timings.iter().map(|t| ms(t.total)));
    let token_sum: f64 = tokens.iter().sum();
    let app_sum: f64 = timings.iter().map(|t| ms(t.app())).sum();
    let app_ms = if concurrency == 1 && errors.is_empty() && tokens.len() == n {
        timings
            .iter()
            .zip(&tokens)
            .map(|(t, tok)| ms(t.app()) - tok)
            .collect()
    } else {
        Vec::new()
    };
    let median = |f: fn(&LoginTiming) -> Duration| {
        percentile(&sorted(timings.iter().map(|t| ms(f(t)))), 50.0)
    };
    Ok(Level {
        concurrency,
        logins: n,
        per_sec: n as f64 / wall.as_secs_f64(),
        p50_ms: percentile(&totals, 50.0),
        p99_ms: percentile(&totals, 99.0),
        app_ms,
        app_ms_mean: (app_sum - token_sum) / n as f64,
        token_ms_mean: token_sum / tokens.len() as f64,
        app_cpu_ms: cpu_secs * 1e3 / n as f64,
        provider_requests: requests,
        steps_ms: (
            median(|t| t.app_login),
            median(|t| t.app_callback),
            median(|t| t.app_profile),
        ),
        errors,
    })
}

/// The levels of every run at `i`, through `f`.
fn at_level(runs: &[&Logins], i: usize, f: impl Fn(&Level) -> f64) -> Vec<f64> {
    runs.iter()
        .filter_map(|r| r.levels.get(i))
        .map(f)
        .filter(|x| x.is_finite())
        .collect()
}

pub fn figures(runs: &[&Logins]) -> Vec<Figure> {
    let Some(levels) = runs.first().map(|r| &r.levels) else {
        return Vec::new();
    };
    let mut out: Vec<Figure> = levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            Figure::new(
                format!("logins/s, {} at a time", l.concurrency),
                at_level(runs, i, |l| l.per_sec),
                Unit::Rate,
            )
        })
        .collect();
    if let Some(i) = levels.iter().position(|l| l.concurrency == 1) {
        let app_median = |l: &Level| percentile(&sorted(l.app_ms.iter().copied()), 50.0);
        out.push(
            Figure::new(
                "**app server time per login** (provider excluded), median, 1 at a time",
                at_level(runs, i, app_median),
                Unit::Ms,
            )
            .target("< 5 ms", |m| m < 5.0),
        );
        out.push(Figure::new(
            "app CPU time per login, 1 at a time",
            at_level(runs, i, |l| l.app_cpu_ms),
            Unit::Ms,
        ));
    }
    let worst = runs
        .iter()
        .map(|r| {
            r.levels
                .iter()
                .map(Level::provider_requests_per_login)
                .fold(0.0, f64::max)
        })
        .collect();
    out.push(
        Figure::new(
            "**requests to the provider per login** after warm-up (worst level)",
            worst,
            Unit::Count,
        )
        .target("exactly 1", |m| (m - 1.0).abs() < 1e-9),
    );
    out
}

pub fn table(runs: &[&Logins]) -> Table {
    let Some(first) = runs.first() else {
        return Table {
            title: "Logins".into(),
            header: vec![],
            rows: vec![],
            notes: vec![],
        };
    };
    let rows = first
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let failed: usize = runs
                .iter()
                .filter_map(|r| r.levels.get(i))
                .map(|l| l.errors.len())
                .sum();
            vec![
                l.concurrency.to_string(),
                format!(
                    "{}{}",
                    cell(&at_level(runs, i, |l| l.logins as f64), Unit::Count),
                    if failed > 0 {
                        format!(" ({failed} failed)")
                    } else {
                        String::new()
                    }
                ),
                cell(&at_level(runs, i, |l| l.per_sec), Unit::Rate),
                cell(&at_level(runs, i, |l| l.p50_ms), Unit::Ms),
                cell(&at_level(runs, i, |l| l.p99_ms), Unit::Ms),
                cell(&at_level(runs, i, |l| l.app_ms_mean), Unit::Ms),
                cell(&at_level(runs, i, |l| l.app_cpu_ms), Unit::Ms),
                cell(&at_level(runs, i, |l| l.token_ms_mean), Unit::Ms),
                format!(
                    "{} `{:?}`",
                    Unit::Count.show(l.provider_requests_per_login()),
                    l.provider_requests
                ),
            ]
        })
        .collect();
    let mut notes = Vec::new();
    if let Some(i) = first.levels.iter().position(|l| l.concurrency == 1) {
        notes.push(format!(
            "One at a time, the app's three requests of a login, client side (median): `/login` {}, `/callback` {} (including the token request), `/profile` {}.",
            cell(&at_level(runs, i, |l| l.steps_ms.0), Unit::Ms),
            cell(&at_level(runs, i, |l| l.steps_ms.1), Unit::Ms),
            cell(&at_level(runs, i, |l| l.steps_ms.2), Unit::Ms),
        ));
    }
    notes.push(format!(
        "The first login after a start (cold) sent the provider {} requests: `{:?}`.",
        first.cold_requests.values().sum::<u64>(),
        first.cold_requests
    ));
    Table {
        title: "Logins through the real flow (median (min–max) over the runs)".into(),
        header: [
            "at a time",
            "logins",
            "logins/s",
            "p50",
            "p99",
            "app time/login (mean)",
            "app CPU/login",
            "provider token handling",
            "provider requests/login",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        notes,
    }
}
