//! The scaled topology beside the single process, in the same run: two replicas of the
//! release app with their sessions in Redis, behind nginx (the `topology` crate, on free
//! ports but nginx's, which is the bench's app port). `/profile` under
//! wrk and the scripted logins through nginx, as `pages` and `logins` measure the single
//! process, and Redis's round trips per profile request from its own counters. `report.rs`
//! sets them beside the single process's figures of the same run. Last, `revoke.rs`: another
//! user's latency while a user with many sessions is revoked, beside it without.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use reqwest::{header, Method};
use topology::{proc::free_port, Config, Ports, Topology};

use crate::{
    browser::{self, Browser, LOGGED_IN_MARK},
    harness::{self, Env},
    load::{Wrk, WrkSummary},
    logins::{self, Logins},
    redis_stats::{per_op, total, Calls, Window},
    settings::Settings,
};

mod report;
mod revoke;
mod victim;
mod webhook;
pub use report::{figures, revocation_table, table, Side};

pub struct Scaled {
    pub profile: WrkSummary,
    pub logins: Logins,
    /// Redis calls per `/profile`, per command: one request at a time, a known number.
    pub profile_calls: BTreeMap<String, f64>,
    /// Redis calls per `/profile` during the wrk run (requests as wrk counted them).
    pub profile_calls_loaded: f64,
    /// Redis calls per login, per command, over every login level.
    pub login_calls: BTreeMap<String, f64>,
    /// Other users' latency during revocations (unless `BENCH_REVOKE_SESSIONS=0`).
    pub revocation: Option<revoke::Revocation>,
}

/// Profile requests one at a time between two readings of Redis's counters.
const COUNTED_REQUESTS: usize = 200;
const COUNTED_LIMIT: Duration = Duration::from_secs(60);
/// Logins after the cold one before anything is counted: each replica discovers the
/// provider on its own, and nginx alternates the replicas request by request.
const WARM_LOGINS: usize = 3;

/// Starts the topology, measures it, stops it.
pub async fn measure(settings: &Settings, env: &Env, run: usize) -> Result<Scaled> {
    let mut top = start(settings, env, run).await?;
    let result = measure_on(settings, env, &mut top).await;
    let alive = top.check_alive();
    stop(&mut top).await;
    let scaled = result?;
    alive?;
    Ok(scaled)
}

/// The topology with nginx on the bench's app port, so `APP_URL`, the redirect URI the
/// provider knows, is the same as for the single process (the two never run at once); the
/// replicas and Redis on free ports (the Playwright suite's fixed ones may be taken).
async fn start(settings: &Settings, env: &Env, run: usize) -> Result<Topology> {
    let mut config = Config::new(&env.root, &env.tmp.join(format!("scaled-{run}")));
    config.ports = Ports {
        nginx: env.app_port,
        replicas: [free_port()?, free_port()?],
        redis: free_port()?,
    };
    config.app_url = harness::app_url(env);
    config.app_env = harness::app_env(settings, env);
    let mut top = Topology::new(config)?;
    if let Err(e) = top.start_all().await {
        stop(&mut top).await;
        return Err(e.context("start the scaled topology"));
    }
    let ports = &top.config().ports;
    eprintln!(
        "bench:   scaled: nginx 127.0.0.1:{} -> replicas 127.0.0.1:{} and :{}; redis 127.0.0.1:{}",
        ports.nginx, ports.replicas[0], ports.replicas[1], ports.redis
    );
    Ok(top)
}

async fn stop(top: &mut Topology) {
    for leftover in top.stop_all().await {
        eprintln!("bench: warning: {leftover}");
    }
}

async fn measure_on(settings: &Settings, env: &Env, top: &mut Topology) -> Result<Scaled> {
    let browser = Arc::new(Browser::new(
        env.http.clone(),
        env.app_url()?,
        env.idp_url.clone(),
    ));
    let (cold_requests, cookie) = logins::cold_login(env, &browser).await?;
    for _ in 0..WARM_LOGINS {
        browser
            .login()
            .await
            .context("warm-up login through nginx")?;
    }
    let (profile_calls, idle, page_bytes) = counted_profiles(env, &browser, &cookie, top).await?;
    let (profile, profile_calls_loaded) =
        profile_load(settings, env, top, &cookie, page_bytes, &idle).await?;
    top.check_alive()?;

    let before = Calls::read(top.config().ports.redis).await?;
    let started = Instant::now();
    let levels = logins::levels(settings, env, &mut top.replicas(), browser.clone()).await?;
    let busy = Window {
        calls: Calls::read(top.config().ports.redis).await?.since(&before),
        secs: started.elapsed().as_secs_f64(),
    };
    let count = levels.iter().map(|l| l.logins).sum();
    top.check_alive()?;

    // Last: the application-wide revocation ends every session.
    let revocation = match settings.revoke_sessions {
        0 => None,
        _ => Some(revoke::measure(settings, env, top.config().ports.redis, &browser).await?),
    };
    Ok(Scaled {
        profile,
        logins: Logins {
            cold_requests,
            levels,
        },
        profile_calls,
        profile_calls_loaded,
        login_calls: per_op(&busy, &idle, count),
        revocation,
    })
}

/// `COUNTED_REQUESTS` profile requests one at a time between two readings of Redis's
/// counters, then as long again without a request (the background). Returns the calls per
/// request, the idle window and the page's size.
async fn counted_profiles(
    env: &Env,
    browser: &Browser,
    cookie: &str,
    top: &Topology,
) -> Result<(BTreeMap<String, f64>, Window, usize)> {
    let url = env.app_url()?.join("/profile")?;
    let before = Calls::read(top.config().ports.redis).await?;
    let started = Instant::now();
    let (mut done, mut page_bytes) = (0, usize::MAX);
    while done < COUNTED_REQUESTS && started.elapsed() < COUNTED_LIMIT {
        let res = browser
            .request(None, Method::GET, &url, None, &[(header::COOKIE, cookie)])
            .await?;
        ensure!(
            res.status == 200 && browser::contains(&res.body, LOGGED_IN_MARK),
            "/profile through nginx is not the profile ({})",
            res.status
        );
        page_bytes = page_bytes.min(res.body.len());
        done += 1;
    }
    let after = Calls::read(top.config().ports.redis).await?;
    let busy = Window {
        calls: after.since(&before),
        secs: started.elapsed().as_secs_f64(),
    };
    let quiet = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(busy.secs.clamp(1.0, 10.0))).await;
    let idle = Window {
        calls: Calls::read(top.config().ports.redis).await?.since(&after),
        secs: quiet.elapsed().as_secs_f64(),
    };
    eprintln!(
        "bench:   scaled: {done} profile requests, Redis calls {:?}; idle {:.1} s: {:?}",
        busy.calls.0, idle.secs, idle.calls.0
    );
    Ok((per_op(&busy, &idle, done), idle, page_bytes))
}

/// wrk on `/profile` through nginx; the summary and Redis's calls per request meanwhile.
async fn profile_load(
    settings: &Settings,
    env: &Env,
    top: &Topology,
    cookie: &str,
    page_bytes: usize,
    idle: &Window,
) -> Result<(WrkSummary, f64)> {
    let wrk = Wrk {
        script: &env.wrk_script,
        threads: settings.wrk_threads,
        connections: settings.wrk_connections,
    };
    let url = format!("http://127.0.0.1:{}/profile", env.app_port);
    let headers = ["Accept: text/html".to_owned(), format!("Cookie: {cookie}")];
    wrk.run(&url, &headers, settings.warm_secs).await?;
    let before = Calls::read(top.config().ports.redis).await?;
    let started = Instant::now();
    let s = wrk.run(&url, &headers, settings.wrk_secs).await?;
    let busy = Window {
        calls: Calls::read(top.config().ports.redis).await?.since(&before),
        secs: started.elapsed().as_secs_f64(),
    };
    ensure!(
        s.errors() == 0,
        "scaled profile: wrk saw {} errors ({s:?})",
        s.errors()
    );
    // A 302 (session lost) is not an error for wrk: check that whole pages came back.
    ensure!(
        s.bytes_per_request() >= page_bytes as f64,
        "profile responses through nginx are shorter than the page: the session was not used"
    );
    let calls = total(&per_op(&busy, idle, s.requests as usize));
    eprintln!(
        "bench:   scaled: profile {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms  {calls:.2} Redis calls/request",
        s.rps(),
        s.p50_us as f64 / 1e3,
        s.p99_us as f64 / 1e3
    );
    Ok((s, calls))
}
