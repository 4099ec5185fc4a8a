//! The orchestration: processes, phases, and what each run records.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{bail, ensure, Context, Result};
use reqwest::header;
use tokio::process::Command;
use url::Url;

use crate::{
    browser::{self, Batch, Browser, LOGGED_IN_MARK},
    load::{Wrk, WrkSummary, WRK_SCRIPT},
    procs::{self, Proc},
    report, size,
};

/// Settings, from the environment (all optional).
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
    pub sessions: usize,
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

impl Settings {
    fn from_env() -> Result<Self> {
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
            sessions: env_or("BENCH_SESSIONS", 10_000usize)?.min(100_000),
            out: match std::env::var("BENCH_OUT") {
                Ok(o) if !o.is_empty() => PathBuf::from(o),
                _ => root.join("bench/results/latest.md"),
            },
            site_root: match std::env::var("LEPTOS_SITE_ROOT") {
                Ok(s) if !s.is_empty() => root.join(s),
                _ => root.join("target/site"),
            },
            root,
        })
    }
}

/// What one login level measured.
pub struct LevelResult {
    pub logins: usize,
    pub errors: Vec<String>,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The app's requests (client side) minus the provider's token handling, per login.
    pub app_ms: Vec<f64>,
    /// Mean of the above (the only sound figure when logins overlap).
    pub app_ms_mean: f64,
    pub token_ms_mean: f64,
    pub provider_ms_mean: f64,
    pub app_cpu_ms: f64,
    pub provider_requests: BTreeMap<String, u64>,
    /// (login, callback, profile) client-side medians, ms.
    pub steps_ms: (f64, f64, f64),
}

impl LevelResult {
    pub fn provider_requests_per_login(&self) -> f64 {
        self.provider_requests.values().sum::<u64>() as f64 / self.logins.max(1) as f64
    }
}

pub struct RunResult {
    pub bare: WrkSummary,
    pub guest: WrkSummary,
    /// `/?render`: the query bypasses the app's guest-page cache, so Leptos renders each time.
    pub guest_ssr: WrkSummary,
    pub profile: WrkSummary,
    pub guest_bytes: usize,
    pub profile_bytes: usize,
    pub rss_idle: u64,
    pub rss_after_pages: u64,
    pub rss_after_logins: u64,
    pub rss_after_sessions: u64,
    pub cold_login_requests: BTreeMap<String, u64>,
    pub levels: Vec<LevelResult>,
    pub sessions_started: usize,
    pub sessions_secs: f64,
    pub session_db_bytes: u64,
}

pub struct Report {
    pub settings: Settings,
    pub runs: Vec<RunResult>,
    pub bundle: Vec<size::FileSize>,
    pub first_visit: Vec<size::Download>,
    pub elapsed: Duration,
}

pub fn main() -> Result<()> {
    let settings = Settings::from_env()?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(settings))
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
                let med = crate::stats::percentile(
                    &crate::stats::sorted(batch.timings.iter().map(|t| ms(t.total))),
                    50.0,
                );
                eprintln!(
                    "{} logins in {:.1} s, p50 {med:.1} ms, {} errors",
                    batch.timings.len(),
                    batch.wall.as_secs_f64(),
                    batch.errors.len()
                );
            }
            Ok(())
        })
}

/// Children die with the bench (SIGTERM), even when it is killed.
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    cmd
}

struct Env {
    root: PathBuf,
    tmp: PathBuf,
    idp_url: Url,
    idp_log: PathBuf,
    http: reqwest::Client,
    wrk_script: PathBuf,
}

async fn bench(settings: Settings) -> Result<()> {
    let started = Instant::now();
    let root = settings.root.clone();
    for needed in [
        "target/release/fusionauth-leptos",
        "end2end/node_modules/oidc-provider",
        "end2end/idp/server.mjs",
    ] {
        ensure!(
            root.join(needed).exists(),
            "{needed} is missing: run `make bench` (bench/run.sh builds and installs)"
        );
    }
    let pkg = settings.site_root.join("pkg");
    ensure!(
        pkg.is_dir(),
        "{} is missing: build the release app first",
        pkg.display()
    );
    let tmp = std::env::temp_dir().join(format!("fusionauth-leptos-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let wrk_script = tmp.join("summary.lua");
    std::fs::write(&wrk_script, WRK_SCRIPT)?;
    let http = browser::client()?;

    // The app's port must be known before the provider starts (its redirect URI).
    let app_port = procs::free_port()?;
    let idp_port = procs::free_port()?;
    let idp_url = Url::parse(&format!("http://localhost:{idp_port}"))?;
    let app_url = Url::parse(&format!("http://localhost:{app_port}"))?;
    let idp_log = tmp.join("idp.log");
    let mut idp_cmd = command("node");
    idp_cmd
        .arg(root.join("end2end/idp/server.mjs"))
        .current_dir(root.join("end2end"))
        .env("IDP_PORT", idp_port.to_string())
        .env("ISSUER", idp_url.as_str().trim_end_matches('/'))
        .env("APP_URL", app_url.as_str().trim_end_matches('/'))
        .env("NODE_ENV", "production");
    let mut idp = Proc::spawn("stand-in provider", idp_cmd, &idp_log)?;
    procs::wait_http(
        &http,
        idp_url.join("/.well-known/openid-configuration")?.as_str(),
        Duration::from_secs(30),
        &mut idp,
    )
    .await?;
    eprintln!(
        "bench: stand-in provider on {idp_url} (log {})",
        idp_log.display()
    );

    let env = Env {
        root: root.clone(),
        tmp: tmp.clone(),
        idp_url,
        idp_log,
        http,
        wrk_script,
    };
    let mut runs = Vec::new();
    let mut first_visit = Vec::new();
    let mut outcome = Ok(());
    for run in 0..settings.runs {
        eprintln!("bench: run {} of {}", run + 1, settings.runs);
        match one_run(&settings, &env, run, app_port, run == 0).await {
            Ok((result, visit)) => {
                runs.push(result);
                if let Some(v) = visit {
                    first_visit = v;
                }
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    idp.stop().await;
    outcome.with_context(|| format!("logs kept in {}", tmp.display()))?;

    let bundle = size::bundle(&pkg)?;
    let report = Report {
        settings,
        runs,
        bundle,
        first_visit,
        elapsed: started.elapsed(),
    };
    let text = report::render(&report, &root);
    println!("{text}");
    if let Some(dir) = report.settings.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&report.settings.out, &text)?;
    eprintln!(
        "bench: written to {} in {:.0} s",
        report.settings.out.display(),
        report.elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

async fn start_app(settings: &Settings, env: &Env, run: usize, port: u16) -> Result<Proc> {
    let db = env.tmp.join(format!("sessions-{run}.db"));
    let mut cmd = command(env.root.join("scripts/run-app.sh"));
    cmd.current_dir(&env.tmp) // no .env from the work tree
        .env("PROFILE", "release")
        .env("LEPTOS_SITE_ROOT", &settings.site_root)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("APP_URL", format!("http://localhost:{port}"))
        .env("ISSUER", env.idp_url.as_str().trim_end_matches('/'))
        .env("SESSION_DB", &db)
        .env(
            "APP_SECRET_KEY",
            "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEF",
        )
        .env("RUST_LOG", "warn");
    for var in [
        "CLIENT_ID",
        "CLIENT_SECRET",
        "CLOCK_SKEW_SECS",
        "SESSION_TTL_SECS",
    ] {
        cmd.env_remove(var);
    }
    let mut app = Proc::spawn("app", cmd, &env.tmp.join(format!("app-{run}.log")))?;
    procs::wait_http(
        &env.http,
        &format!("http://127.0.0.1:{port}/healthz"),
        Duration::from_secs(30),
        &mut app,
    )
    .await?;
    Ok(app)
}

async fn provider_stats(env: &Env) -> Result<BTreeMap<String, u64>> {
    #[derive(serde::Deserialize)]
    struct Stats {
        app_requests: BTreeMap<String, u64>,
    }
    let res = env
        .http
        .get(env.idp_url.join("/__standin/stats")?)
        .send()
        .await?;
    ensure!(
        res.status().is_success(),
        "stand-in stats endpoint answered {}",
        res.status()
    );
    let body = res.bytes().await?;
    Ok(serde_json::from_slice::<Stats>(&body)
        .context("stand-in stats: unexpected JSON")?
        .app_requests)
}

async fn reset_provider_stats(env: &Env) -> Result<()> {
    let res = env
        .http
        .post(env.idp_url.join("/__standin/stats/reset")?)
        .send()
        .await?;
    ensure!(
        res.status().is_success(),
        "stand-in stats reset answered {}",
        res.status()
    );
    Ok(())
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

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

async fn one_run(
    settings: &Settings,
    env: &Env,
    run: usize,
    app_port: u16,
    with_first_visit: bool,
) -> Result<(RunResult, Option<Vec<size::Download>>)> {
    let mut app = start_app(settings, env, run, app_port).await?;
    let app_url = Url::parse(&format!("http://localhost:{app_port}"))?;
    let browser = Arc::new(Browser::new(
        env.http.clone(),
        app_url.clone(),
        env.idp_url.clone(),
    ));

    // Idle: started, answered its health check, nothing else.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = procs::rss_bytes(app.pid)?;

    // The guest page, and the bare server that returns the same bytes and headers.
    let guest = browser.get(None, &app_url.join("/")?).await?;
    ensure!(
        guest.status == 200 && browser::contains(&guest.body, "Hello Guest"),
        "GET / is not the guest page ({})",
        guest.status
    );
    ensure!(
        !guest.headers.contains_key(header::SET_COOKIE),
        "the guest page sets a cookie: wrk would not be measuring a guest"
    );
    let body_file = env.tmp.join("guest.html");
    std::fs::write(&body_file, &guest.body)?;
    let skip = [
        "date",
        "content-length",
        "transfer-encoding",
        "connection",
        "set-cookie",
    ];
    let headers: Vec<(String, String)> = guest
        .headers
        .iter()
        .filter(|(n, _)| !skip.contains(&n.as_str()))
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let headers_file = env.tmp.join("guest-headers.json");
    std::fs::write(&headers_file, serde_json::to_vec(&headers)?)?;
    let bare_port = procs::free_port()?;
    let mut bare_cmd = command(std::env::current_exe()?);
    bare_cmd
        .arg("bare")
        .arg(format!("127.0.0.1:{bare_port}"))
        .arg(&body_file)
        .arg(&headers_file);
    let mut bare = Proc::spawn("bare axum server", bare_cmd, &env.tmp.join("bare.log"))?;
    let bare_url = format!("http://127.0.0.1:{bare_port}/");
    procs::wait_http(&env.http, &bare_url, Duration::from_secs(10), &mut bare).await?;
    let same = env.http.get(&bare_url).send().await?.bytes().await?;
    ensure!(
        same[..] == guest.body[..],
        "the bare server does not return the guest page's bytes"
    );

    // The first login after start: discovery and JWKS are fetched here, then cached.
    reset_provider_stats(env).await?;
    let (_, jar) = browser
        .login()
        .await
        .context("first login through the real flow")?;
    let cold_login_requests = provider_stats(env).await?;
    let cookie = browser
        .app_cookie(&jar)
        .context("no session cookie after login")?;
    let cookie = cookie.to_str()?.to_owned();
    let profile = browser
        .request(
            None,
            reqwest::Method::GET,
            &app_url.join("/profile")?,
            None,
            &[(header::COOKIE, &cookie)],
        )
        .await?;
    ensure!(
        profile.status == 200 && browser::contains(&profile.body, LOGGED_IN_MARK),
        "/profile with the session cookie is not the profile ({})",
        profile.status
    );

    // Pages under load; the order rotates from run to run so drift hits each target alike.
    let wrk = Wrk {
        script: &env.wrk_script,
        threads: settings.wrk_threads,
        connections: settings.wrk_connections,
    };
    let accept = "Accept: text/html".to_owned();
    let guest_url = format!("http://127.0.0.1:{app_port}/");
    let guest_ssr_url = format!("http://127.0.0.1:{app_port}/?render");
    let profile_url = format!("http://127.0.0.1:{app_port}/profile");
    let cookie_header = format!("Cookie: {cookie}");
    let targets: [(&str, &str, Vec<String>); 4] = [
        ("bare", &bare_url, vec![accept.clone()]),
        ("guest", &guest_url, vec![accept.clone()]),
        ("guest_ssr", &guest_ssr_url, vec![accept.clone()]),
        ("profile", &profile_url, vec![accept.clone(), cookie_header]),
    ];
    let mut summaries: BTreeMap<&str, WrkSummary> = BTreeMap::new();
    for i in 0..targets.len() {
        let (name, url, headers) = &targets[(i + run) % targets.len()];
        wrk.run(url, headers, settings.warm_secs).await?;
        let s = wrk.run(url, headers, settings.wrk_secs).await?;
        eprintln!(
            "bench:   {name:8} {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms",
            s.rps(),
            s.p50_us as f64 / 1e3,
            s.p99_us as f64 / 1e3
        );
        ensure!(
            s.errors() == 0,
            "{name}: wrk saw {} errors ({s:?})",
            s.errors()
        );
        summaries.insert(name, s);
        app.check_alive()?;
    }
    // A 302 (session lost) is not an error for wrk: check that whole pages came back.
    let (bare_s, guest_s, guest_ssr_s, profile_s) = (
        summaries["bare"],
        summaries["guest"],
        summaries["guest_ssr"],
        summaries["profile"],
    );
    for s in [guest_s, guest_ssr_s] {
        ensure!(
            s.bytes_per_request() >= guest.body.len() as f64,
            "guest responses are shorter than the page"
        );
    }
    ensure!(
        profile_s.bytes_per_request() >= profile.body.len() as f64,
        "profile responses are shorter than the page: the session was not used"
    );
    let rss_after_pages = procs::rss_bytes(app.pid)?;

    // Scripted logins at each concurrency.
    let mut levels = Vec::new();
    for &(concurrency, count) in &settings.login_levels {
        reset_provider_stats(env).await?;
        let log_offset = file_len(&env.idp_log);
        let cpu_before = procs::cpu_seconds(app.pid)?;
        let batch =
            browser::login_batch(browser.clone(), concurrency, count, settings.login_limit).await;
        let cpu = procs::cpu_seconds(app.pid)? - cpu_before;
        // The provider writes its log line as it answers: let the last ones land.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let tokens = token_times(&env.idp_log, log_offset)?;
        let requests = provider_stats(env).await?;
        let level = level_result(batch, tokens, cpu, requests)?;
        eprintln!(
            "bench:   logins c={concurrency:<3} {:>6.1}/s  p50 {:.1} ms  p99 {:.1} ms  app {:.2} ms/login  cpu {:.2} ms/login  {:.2} provider requests/login",
            level.per_sec, level.p50_ms, level.p99_ms, level.app_ms_mean, level.app_cpu_ms, level.provider_requests_per_login()
        );
        levels.push(level);
        app.check_alive()?;
    }
    let rss_after_logins = procs::rss_bytes(app.pid)?;

    // Many abandoned logins: each new browser's GET /login (its attempt lives in a cookie).
    let t = Instant::now();
    let (sessions_started, _) = browser::start_sessions(
        browser.clone(),
        8,
        settings.sessions,
        Duration::from_secs(180),
    )
    .await?;
    let sessions_secs = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after_sessions = procs::rss_bytes(app.pid)?;
    let db = env.tmp.join(format!("sessions-{run}.db"));
    let session_db_bytes = file_len(&db)
        + file_len(&db.with_extension("db-wal"))
        + file_len(&db.with_extension("db-shm"));
    eprintln!("bench:   {sessions_started} abandoned logins in {sessions_secs:.1} s; RSS idle {} MB, after load {} MB, after them {} MB",
        rss_idle / 1_000_000, rss_after_logins / 1_000_000, rss_after_sessions / 1_000_000);

    let visit = if with_first_visit {
        Some(size::first_visit(&env.http, &app_url.join("/")?).await?)
    } else {
        None
    };
    app.check_alive()?;
    bare.stop().await;
    app.stop().await;
    Ok((
        RunResult {
            bare: bare_s,
            guest: guest_s,
            guest_ssr: guest_ssr_s,
            profile: profile_s,
            guest_bytes: guest.body.len(),
            profile_bytes: profile.body.len(),
            rss_idle,
            rss_after_pages,
            rss_after_logins,
            rss_after_sessions,
            cold_login_requests,
            levels,
            sessions_started,
            sessions_secs,
            session_db_bytes,
        },
        visit,
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn level_result(
    batch: Batch,
    tokens: Vec<f64>,
    cpu_secs: f64,
    provider_requests: BTreeMap<String, u64>,
) -> Result<LevelResult> {
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
    if !errors.is_empty() {
        eprintln!(
            "bench:   {} logins failed at concurrency {concurrency}; first: {}",
            errors.len(),
            errors[0]
        );
    }
    let n = timings.len();
    ensure!(
        !tokens.is_empty(),
        "the provider's log has no `POST /oauth2/token 200 <ms>ms` lines: did its log format change?"
    );
    let totals = crate::stats::sorted(timings.iter().map(|t| ms(t.total)));
    let token_sum: f64 = tokens.iter().sum();
    let app_sum: f64 = timings.iter().map(|t| ms(t.app())).sum();
    // One by one, the i-th token request belongs to the i-th login; overlapping logins
    // only allow the mean.
    let app_ms = if concurrency == 1 && errors.is_empty() && tokens.len() == n {
        timings
            .iter()
            .zip(&tokens)
            .map(|(t, tok)| ms(t.app()) - tok)
            .collect()
    } else {
        Vec::new()
    };
    let med = |f: &dyn Fn(&browser::LoginTiming) -> Duration| {
        crate::stats::percentile(
            &crate::stats::sorted(timings.iter().map(|t| ms(f(t)))),
            50.0,
        )
    };
    Ok(LevelResult {
        logins: n,
        per_sec: n as f64 / wall.as_secs_f64(),
        p50_ms: crate::stats::percentile(&totals, 50.0),
        p99_ms: crate::stats::percentile(&totals, 99.0),
        app_ms,
        app_ms_mean: (app_sum - token_sum) / n as f64,
        token_ms_mean: token_sum / tokens.len().max(1) as f64,
        provider_ms_mean: timings.iter().map(|t| ms(t.provider)).sum::<f64>() / n as f64,
        app_cpu_ms: cpu_secs * 1e3 / n as f64,
        provider_requests,
        steps_ms: (
            med(&|t| t.app_login),
            med(&|t| t.app_callback),
            med(&|t| t.app_profile),
        ),
        errors,
    })
}
