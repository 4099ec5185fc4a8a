//! The order of a bench: the provider once; per run a fresh app measured for memory, pages and
//! logins, and the scaled topology (before or after it, alternating); then the bundle, a first
//! visit and the browser timing; then the report.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use url::Url;

use crate::{
    browser::{self, Browser},
    harness::{self, ms, Env},
    logins::{self, Logins},
    memory::{self, Memory},
    pages::{self, Pages},
    report::{self, Document},
    scaled::{self, Scaled},
    settings::Settings,
    size, timing,
};

/// What one run (one app process) measured.
pub struct Run {
    pub pages: Pages,
    pub logins: Logins,
    pub memory: Memory,
    /// The scaled topology, measured in the same run (unless `BENCH_SCALED=0`).
    pub scaled: Option<Scaled>,
}

/// What only the first run measures: it depends on the build, not on the process.
struct Once {
    first_visit: Vec<size::Download>,
    switch_ms: Vec<f64>,
}

pub fn main() -> Result<()> {
    let settings = Settings::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(settings))
}

async fn bench(settings: Settings) -> Result<()> {
    let started = Instant::now();
    let (env, idp) = harness::start(&settings).await?;
    let mut runs = Vec::new();
    let mut once = None;
    let mut outcome = Ok(());
    for run in 0..settings.runs {
        eprintln!("bench: run {} of {}", run + 1, settings.runs);
        match one_run(&settings, &env, run, once.is_none()).await {
            Ok((result, first)) => {
                runs.push(result);
                once = once.or(first);
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    idp.stop().await;
    outcome.with_context(|| format!("logs kept in {}", env.tmp.display()))?;
    let once = once.context("no run finished")?;

    let bundle = size::bundle(&settings.site_root.join("pkg"))?;
    let doc = document(&settings, &runs, &bundle, &once, started.elapsed());
    let text = report::render(&doc);
    println!("{text}");
    if let Some(dir) = settings.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&settings.out, &text)?;
    eprintln!(
        "bench: written to {} in {:.0} s",
        settings.out.display(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&env.tmp);
    Ok(())
}

async fn one_run(
    settings: &Settings,
    env: &Env,
    run: usize,
    first: bool,
) -> Result<(Run, Option<Once>)> {
    // nginx takes the app's port, so the two never run at once; which goes first alternates
    // from run to run, so drift hits both alike.
    let scaled_first = settings.scaled && run % 2 == 1;
    let mut scaled = None;
    if scaled_first {
        scaled = Some(scaled::measure(settings, env, run).await?);
    }
    let (mut result, once) = single(settings, env, run, first).await?;
    if settings.scaled && !scaled_first {
        scaled = Some(scaled::measure(settings, env, run).await?);
    }
    result.scaled = scaled;
    Ok((result, once))
}

/// One fresh app process with its SQLite store.
async fn single(
    settings: &Settings,
    env: &Env,
    run: usize,
    first: bool,
) -> Result<(Run, Option<Once>)> {
    let mut app = harness::start_app(settings, env, run).await?;
    let app_url = env.app_url()?;
    let browser = Arc::new(Browser::new(
        env.http.clone(),
        app_url.clone(),
        env.idp_url.clone(),
    ));
    let mut memory = Memory::default();

    // Idle: started, answered its health check, nothing else.
    tokio::time::sleep(Duration::from_secs(2)).await;
    memory.idle = memory::rss(&app)?;
    let (cold_requests, cookie) = logins::cold_login(env, &browser).await?;
    let pages = pages::measure(settings, env, run, &mut app, &browser, &cookie).await?;
    memory.after_pages = memory::rss(&app)?;
    let levels = logins::levels(settings, env, &mut [&mut app], browser.clone()).await?;
    memory.after_logins = memory::rss(&app)?;
    memory::abandoned_logins(settings, env, run, &app, browser.clone(), &mut memory).await?;

    let once = if first {
        Some(Once {
            first_visit: size::first_visit(&env.http, &app_url.join("/")?).await?,
            switch_ms: timing::switch_ready(
                env,
                &browser.fresh_session_cookie().await?,
                settings.browser_samples,
            )
            .await?,
        })
    } else {
        None
    };
    app.check_alive()?;
    app.stop().await;
    let logins = Logins {
        cold_requests,
        levels,
    };
    Ok((
        Run {
            pages,
            logins,
            memory,
            scaled: None,
        },
        once,
    ))
}

fn document(
    settings: &Settings,
    runs: &[Run],
    bundle: &[size::FileSize],
    once: &Once,
    elapsed: Duration,
) -> Document {
    let pages: Vec<&Pages> = runs.iter().map(|r| &r.pages).collect();
    let logins: Vec<&Logins> = runs.iter().map(|r| &r.logins).collect();
    let memory: Vec<&Memory> = runs.iter().map(|r| &r.memory).collect();
    let sides: Vec<scaled::Side> = runs
        .iter()
        .filter_map(|r| Some((&r.pages, &r.logins, r.scaled.as_ref()?)))
        .collect();
    let summary: Vec<_> = [
        pages::figures(&pages),
        logins::figures(&logins),
        scaled::figures(&sides),
        size::figures(bundle, &once.first_visit),
        timing::figures(&once.switch_ms),
        memory::figures(&memory, settings.abandoned_logins),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut tables = vec![logins::table(&logins)];
    if !sides.is_empty() {
        tables.push(scaled::table(&sides));
        tables.extend(scaled::revocation_table(&sides));
        let scaled_logins: Vec<&Logins> = sides.iter().map(|s| &s.2.logins).collect();
        let mut details = logins::table(&scaled_logins);
        details.title =
            "Logins through nginx, 2 replicas + Redis (median (min–max) over the runs)".into();
        tables.push(details);
    }
    tables.extend(size::tables(bundle, &once.first_visit));
    tables.push(memory::table(&memory));
    Document {
        preamble: preamble(settings, runs.len(), elapsed),
        summary,
        tables,
        method: METHOD,
    }
}

fn preamble(s: &Settings, runs: usize, elapsed: Duration) -> String {
    let sh = |args: &[&str]| {
        std::process::Command::new(args[0])
            .args(&args[1..])
            .current_dir(&s.root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let dirty = if sh(&["git", "status", "--porcelain", "--untracked-files=no"]).is_empty() {
        ""
    } else {
        " + uncommitted changes"
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{}, commit {}{dirty}; {cpu}, {cores} cores, shared with the load generator, the stand-in provider and the browser (and, in the scaled rows, with nginx and Redis). \
         {runs} runs: each figure is min / median / max over the runs (each a fresh app process), or over the samples. \
         Pages: wrk -t{} -c{}, {} s after a {} s warm-up, per target per run. Bench time {:.0} s.",
        sh(&["date", "-u", "+%Y-%m-%d %H:%M UTC"]),
        sh(&["git", "rev-parse", "--short", "HEAD"]),
        s.wrk_threads,
        s.wrk_connections,
        s.wrk_secs,
        s.warm_secs,
        elapsed.as_secs_f64()
    )
}

/// `bench login APP_URL PROVIDER_URL [LOGINS [CONCURRENCY]]`: logins against a running app
/// (to profile it), then prints the last session's Cookie header.
pub fn login_main(args: &[String]) -> Result<()> {
    let (app, provider) = match args {
        [app, provider, ..] => (Url::parse(app)?, Url::parse(provider)?),
        _ => bail!("usage: bench login APP_URL PROVIDER_URL [LOGINS [CONCURRENCY]]"),
    };
    let logins: usize = args.get(2).map_or(Ok(1), |n| n.parse())?;
    let concurrency: usize = args.get(3).map_or(Ok(1), |n| n.parse())?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let browser = Arc::new(Browser::new(browser::client()?, app, provider));
            let (_, jar) = browser.login().await?;
            println!(
                "{}",
                browser.app_cookie(&jar).context("no cookie")?.to_str()?
            );
            if logins > 1 {
                let batch = browser::login_batch(
                    browser,
                    concurrency,
                    logins - 1,
                    Duration::from_secs(120),
                )
                .await;
                let totals = crate::stats::sorted(batch.timings.iter().map(|t| ms(t.total)));
                eprintln!(
                    "{} logins in {:.1} s, p50 {:.1} ms, {} errors",
                    batch.timings.len(),
                    batch.wall.as_secs_f64(),
                    crate::stats::percentile(&totals, 50.0),
                    batch.errors.len()
                );
            }
            Ok(())
        })
}

const METHOD: &str = "\
- **Pages**: wrk (closed loop, fixed connections, `Accept: text/html`) against the release app and, in the same \
run, a bare axum 0.8 handler on tokio's multi-thread runtime (same release profile) that returns the guest page's \
exact bytes and headers, fetched from the app first: the physical limit of the HTTP stack on this machine, \
load generator included. Ratios are taken within a run. The app renders the guest page once and then serves \
it from memory to every request without a session (with each response's CSP nonce spliced in); `/?render` \
bypasses that cache (any query does), so it measures Leptos rendering the guest page on every request, the fair \
peer of `/profile`. `/profile` carries the cookie of a session that logged in through the real flow; each response \
is checked to be the full page, not a redirect.
- **Logins**: a browser-like client (new cookie jar per login) walks the real flow: the app's `/login`, the \
stand-in provider's redirects and FusionAuth-shaped form (its `action` read from the HTML), the app's `/callback`, \
then `/profile`. *App server time per login* = the client-side time of the app's three requests minus the \
provider's own handling time of that login's token request (from the provider's request log); it still \
includes loopback round trips and the provider's HTTP framing, so it is an upper bound. One at a time the i-th \
token request belongs to the i-th login; with overlapping logins only the mean is sound (and includes \
queueing on 2 shared cores). *App CPU per login* = the app process's user+system CPU time (/proc) over the \
batch divided by its logins. *Provider requests per login* = the stand-in's count of requests with the app's \
User-Agent, reset before each batch, after one warm-up login (discovery and JWKS are cached after it).
- **Size**: files on disk, compressed here at the highest levels; *first visit* = `/` as a guest plus every \
same-site resource its `<link>`/`<script>` tags and hydration import name, bodies counted as received (no \
headers): the release build is precompressed, so these are the brotli files.
- **Browser**: Chromium (headless, loopback), a new context per load (cold cache), `/profile` with the session \
cookie; the island sets a performance mark when it has hydrated, read as milliseconds since navigation start; \
each load then clicks JSON and waits for the JSON panel, so the figure is the time to a switch that works.
- **Scaled out**: in the same run as the single process (before it in even-numbered runs, after it in the others; \
never at once), `redis-server` with its append-only file, two replicas of the release app with `REDIS_URL` and \
the same secret key, and nginx with `deploy/nginx.local.conf` (round-robin, no stickiness, its addresses rewritten \
to free ports; nginx takes the app's port, so the provider's redirect URI is unchanged). wrk on `/profile` and \
the scripted logins go through nginx exactly as they go to the single process; each ratio is scaled over single \
within one run. *Redis round trips per profile request*: `INFO commandstats` read with redis-cli before and after \
200 `/profile` requests one at a time, minus the calls of an idle window as long (at its rate) and the readings' \
own `info`; the same around the wrk run and the login levels gives calls per request under load and per login. \
Redis counts a script's inner commands as calls too, so the per-login figure is Redis's work, not only round trips.
- **Revocation under load** (scaled topology, last, since it ends every session): `BENCH_REVOKE_SESSIONS` sessions \
of a user `bench-victim` are written straight into Redis with `redis-cli --pipe` in the store's layout (each id \
with a 1 KB value, expiring in an hour, and indexed in the user's sorted set under the key the replicas derive \
from their `APP_SECRET_KEY`); DBSIZE is checked and any rewrite of the append-only file this starts is waited out. \
Then, after a fresh login of the measuring user and a warm-up, three windows of `BENCH_WRK_SECS`, each with wrk on \
that user's `/profile` through nginx and, beside it, one connection sending Redis inline `PING`s, 2 ms apart, and \
timing each round trip: (A) nothing else; (B) a third into the window, FusionAuth's `jwt.refresh-token.revoke` \
webhook for `bench-victim`, signed as FusionAuth signs it (`X-FusionAuth-Signature-JWT`), POSTed through nginx and \
timed until its 200; afterwards the victim's index and sessions must be gone; (C) the victim's sessions written \
again, then the same event for the whole application (`applicationId`, no user). Ratios are B or C over A within a \
run; A always runs first. The whole window's p99 includes the seconds before and after the webhook; the slowest \
PING in flight while the webhook was answered is in the details. C revokes the measuring user too: `/profile` then \
answers 302 to the login (wrk counts no 3xx as an error), so C is compared by Redis's PING only.
- **Memory**: VmRSS of the app process: 2 s after start (idle), after the page load and the logins, and after \
`BENCH_SESSIONS` new browsers started a login and abandoned it (each attempt lives in the browser's cookie).
";
