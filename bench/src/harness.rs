//! The processes a run needs: the stand-in provider (one per bench), the release app (one per
//! run; the scaled topology's replicas get the same settings), and the stand-in's counters.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use anyhow::{ensure, Context, Result};
use topology::proc::{command, free_port, wait_http, Proc};
use url::Url;

use crate::{browser, load::WRK_SCRIPT, settings::Settings};

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

    let app_port = free_port()?;
    let idp_port = free_port()?;
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
    let discovery = "/.well-known/openid-configuration";
    let idp_addr = format!("localhost:{idp_port}");
    wait_http(&idp_addr, discovery, Duration::from_secs(30), &mut idp).await?;
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
    let mut cmd = command(env.root.join("scripts/run-app.sh"));
    cmd.current_dir(&env.tmp); // no .env from the work tree
    for (name, value) in app_env(settings, env) {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", env.app_port))
        .env("APP_URL", app_url(env))
        .env("SESSION_DB", session_db(env, run));
    let mut app = Proc::spawn("app", cmd, &env.tmp.join(format!("app-{run}.log")))?;
    let addr = format!("127.0.0.1:{}", env.app_port);
    wait_http(&addr, "/healthz", Duration::from_secs(30), &mut app).await?;
    Ok(app)
}

/// `APP_URL` is always the bench's app port, for the single process and the scaled
/// topology (nginx there) alike: the provider knows that redirect URI.
pub fn app_url(env: &Env) -> String {
    format!("http://localhost:{}", env.app_port)
}

/// What every process of the release app gets besides its address and store, set (`Some`)
/// or removed (`None`) over the bench's own environment.
pub fn app_env(settings: &Settings, env: &Env) -> Vec<(String, Option<String>)> {
    let set = |name: &str, value: String| (name.to_owned(), Some(value));
    let mut vars = vec![
        set("PROFILE", "release".to_owned()),
        set("LEPTOS_SITE_ROOT", settings.site_root.display().to_string()),
        set(
            "ISSUER",
            env.idp_url.as_str().trim_end_matches('/').to_owned(),
        ),
        set("APP_SECRET_KEY", APP_SECRET_KEY.to_owned()),
        set("WEBHOOK_SIGNING_SECRET", WEBHOOK_SIGNING_SECRET.to_owned()),
        // Every login here is the same user, hundreds a second: under the default cap (100)
        // each login ends that user's oldest session, and within one second "oldest" is any
        // of them, so a login still on its way to /profile could lose its session.
        set("MAX_SESSIONS_PER_USER", "1000000".to_owned()),
        set("RUST_LOG", "warn".to_owned()),
    ];
    for var in [
        "CLIENT_ID",
        "CLIENT_SECRET",
        "CLOCK_SKEW_SECS",
        "SESSION_TTL_SECS",
        "REDIS_URL",
    ] {
        vars.push((var.to_owned(), None));
    }
    vars
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
