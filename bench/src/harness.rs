//! The processes a run needs: the stand-in provider (one per bench), the release app (one per
//! run, or two replicas for the scaled topology), and the stand-in's counters.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::{ensure, Context, Result};
use tokio::process::Command;
use url::Url;

use crate::{
    browser,
    load::WRK_SCRIPT,
    procs::{self, Proc},
    settings::Settings,
};

/// The app's `APP_SECRET_KEY` in every run (the bench derives the per-user index keys from
/// it too: `scaled/victim.rs`).
pub const APP_SECRET_KEY: &str =
    "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEF";
/// The app's `WEBHOOK_SIGNING_SECRET`: a release build refuses every webhook without one.
pub const WEBHOOK_SIGNING_SECRET: &str = "bench-only-webhook-signing-secret-0123456789abcdef";

/// What every run shares.
pub struct Env {
    pub root: PathBuf,
    pub tmp: PathBuf,
    pub idp_url: Url,
    pub idp_log: PathBuf,
    pub http: reqwest::Client,
    pub wrk_script: PathBuf,
    /// The app's port: fixed for the bench, since the provider knows its redirect URI.
    pub app_port: u16,
}

impl Env {
    pub fn app_url(&self) -> Result<Url> {
        Ok(Url::parse(&format!("http://localhost:{}", self.app_port))?)
    }
}

/// Children die with the bench (SIGTERM), even when it is killed.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
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

/// Checks the build, makes a scratch directory and starts the stand-in provider.
pub async fn start(settings: &Settings) -> Result<(Env, Proc)> {
    let root = settings.root.clone();
    for needed in [
        "target/release/fusionauth-leptos",
        "target/release/hash.txt",
        "end2end/node_modules/oidc-provider",
        "end2end/idp/server.mjs",
    ] {
        ensure!(
            root.join(needed).exists(),
            "{needed} is missing: run `make bench` (bench/run.sh builds and installs)"
        );
    }
    let tmp = std::env::temp_dir().join(format!("fusionauth-leptos-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let wrk_script = tmp.join("summary.lua");
    std::fs::write(&wrk_script, WRK_SCRIPT)?;
    let http = browser::client()?;

    let app_port = procs::free_port()?;
    let idp_port = procs::free_port()?;
    let idp_url = Url::parse(&format!("http://localhost:{idp_port}"))?;
    let idp_log = tmp.join("idp.log");
    let mut cmd = command("node");
    cmd.arg(root.join("end2end/idp/server.mjs"))
        .current_dir(root.join("end2end"))
        .env("IDP_PORT", idp_port.to_string())
        .env("ISSUER", idp_url.as_str().trim_end_matches('/'))
        .env("APP_URL", format!("http://localhost:{app_port}"))
        .env("NODE_ENV", "production");
    let mut idp = Proc::spawn("stand-in provider", cmd, &idp_log)?;
    let discovery = idp_url.join("/.well-known/openid-configuration")?;
    procs::wait_http(&http, discovery.as_str(), Duration::from_secs(30), &mut idp).await?;
    eprintln!(
        "bench: stand-in provider on {idp_url} (log {})",
        idp_log.display()
    );
    let env = Env {
        root,
        tmp,
        idp_url,
        idp_log,
        http,
        wrk_script,
        app_port,
    };
    Ok((env, idp))
}

/// The release app, fresh, with its own session database.
pub async fn start_app(settings: &Settings, env: &Env, run: usize) -> Result<Proc> {
    let app = App {
        name: "app",
        port: env.app_port,
        session_db: session_db(env, run),
        redis_url: None,
        log: env.tmp.join(format!("app-{run}.log")),
    };
    spawn_app(settings, env, app).await
}

/// One process of the release app: where it listens and keeps its sessions.
pub struct App {
    pub name: &'static str,
    pub port: u16,
    pub session_db: PathBuf,
    /// Sessions in Redis instead of `session_db` (a replica of the scaled topology).
    pub redis_url: Option<String>,
    pub log: PathBuf,
}

/// Starts `app` and waits for its health check. `APP_URL` is always the bench's app port:
/// the provider knows that redirect URI (the scaled topology puts nginx there).
pub async fn spawn_app(settings: &Settings, env: &Env, app: App) -> Result<Proc> {
    let mut cmd = command(env.root.join("scripts/run-app.sh"));
    cmd.current_dir(&env.tmp) // no .env from the work tree
        .env("PROFILE", "release")
        .env("LEPTOS_SITE_ROOT", &settings.site_root)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", app.port))
        .env("APP_URL", format!("http://localhost:{}", env.app_port))
        .env("ISSUER", env.idp_url.as_str().trim_end_matches('/'))
        .env("SESSION_DB", &app.session_db)
        .env("APP_SECRET_KEY", APP_SECRET_KEY)
        .env("WEBHOOK_SIGNING_SECRET", WEBHOOK_SIGNING_SECRET)
        // Every login here is the same user, hundreds a second: under the default cap (100)
        // each login ends that user's oldest session, and within one second "oldest" is any
        // of them, so a login still on its way to /profile could lose its session.
        .env("MAX_SESSIONS_PER_USER", "1000000")
        .env("RUST_LOG", "warn");
    for var in [
        "CLIENT_ID",
        "CLIENT_SECRET",
        "CLOCK_SKEW_SECS",
        "SESSION_TTL_SECS",
        "REDIS_URL",
    ] {
        cmd.env_remove(var);
    }
    if let Some(url) = &app.redis_url {
        cmd.env("REDIS_URL", url);
    }
    let mut proc_ = Proc::spawn(app.name, cmd, &app.log)?;
    let health = format!("http://127.0.0.1:{}/healthz", app.port);
    procs::wait_http(&env.http, &health, Duration::from_secs(30), &mut proc_).await?;
    Ok(proc_)
}

pub fn session_db(env: &Env, run: usize) -> PathBuf {
    env.tmp.join(format!("sessions-{run}.db"))
}

/// Requests the app made to the stand-in since the last reset, per path.
pub async fn provider_requests(env: &Env) -> Result<BTreeMap<String, u64>> {
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

pub async fn reset_provider_requests(env: &Env) -> Result<()> {
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

pub fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
