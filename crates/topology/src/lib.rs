//! The scaled topology on loopback, described once: one Redis with append-only persistence,
//! two replicas of the already-built app sharing their sessions through it, and nginx in
//! front (`deploy/nginx.local.conf`: round-robin, no stickiness). The `topology` binary runs
//! it for the scaled Playwright run and by hand (`scripts/topology.sh`); `make bench` starts
//! its own copy on free ports with [`Topology`]. (`docker-compose.yml`'s `scaled` profile is
//! the same topology for Docker users.)
//!
//! Every part is a child of the process that started it and gets SIGTERM if that thread ends
//! (Linux), so none outlives its owner; [`Topology::check_alive`] reports a part that exited
//! without being asked to (nginx would otherwise hide a crashed replica).

pub mod nginx;
pub mod proc;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use testkit::TestRedis;

use crate::proc::{command, port_free, signal_and_wait, who_listens, Proc};

/// Where each part listens on 127.0.0.1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ports {
    /// nginx, the load balancer: `APP_URL` by default.
    pub nginx: u16,
    pub replicas: [u16; 2],
    pub redis: u16,
}

/// The ports `deploy/nginx.local.conf` names, and the Playwright suite's Redis.
impl Default for Ports {
    fn default() -> Self {
        Self {
            nginx: 3000,
            replicas: [3101, 3102],
            redis: 6390,
        }
    }
}

/// What a topology needs to start.
pub struct Config {
    /// The checkout: `scripts/run-app.sh` starts each replica (the built app, `PROFILE`).
    pub root: PathBuf,
    /// Redis's data, each replica's working directory and `SESSION_DB`, nginx's prefix, and
    /// every part's log (`logs/<part>.log`).
    pub run_dir: PathBuf,
    pub ports: Ports,
    /// nginx's configuration, its addresses rewritten to `ports`.
    pub nginx_conf: PathBuf,
    /// Every replica's `APP_URL` (the provider knows its redirect URI).
    pub app_url: String,
    /// Variables set (`Some`) or removed (`None`) for every replica, over this process's own
    /// environment, which they inherit.
    pub app_env: Vec<(String, Option<String>)>,
}

impl Config {
    /// The default ports and configuration, `APP_URL` on nginx.
    pub fn new(root: &Path, run_dir: &Path) -> Self {
        let ports = Ports::default();
        Self {
            root: root.to_owned(),
            run_dir: run_dir.to_owned(),
            app_url: format!("http://localhost:{}", ports.nginx),
            ports,
            nginx_conf: root.join("deploy/nginx.local.conf"),
            app_env: Vec::new(),
        }
    }
}

/// One part of the topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Redis,
    Replica1,
    Replica2,
    Nginx,
}

impl Part {
    /// In the order they start.
    pub const ALL: [Part; 4] = [Part::Redis, Part::Replica1, Part::Replica2, Part::Nginx];

    /// Replica `1` or `2`.
    pub fn replica(n: &str) -> Result<Part> {
        match n {
            "1" => Ok(Part::Replica1),
            "2" => Ok(Part::Replica2),
            _ => bail!("which replica? 1 or 2, not '{n}'"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Part::Redis => "redis",
            Part::Replica1 => "replica 1",
            Part::Replica2 => "replica 2",
            Part::Nginx => "nginx",
        }
    }

    /// The log its output is appended to, under the run dir (`logs/replica-1.log`).
    pub fn log(self, run_dir: &Path) -> PathBuf {
        let file = format!("{}.log", self.name().replace(' ', "-"));
        run_dir.join("logs").join(file)
    }
}

/// How a part is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM, and SIGKILL after 15 s.
    Term,
    /// SIGKILL: a crash.
    Kill,
}

/// The running parts; a part is `Some` while it is wanted up.
pub struct Topology {
    config: Config,
    nginx_bin: PathBuf,
    nginx_conf: PathBuf,
    redis: Option<TestRedis>,
    replicas: [Option<Proc>; 2],
    nginx: Option<Proc>,
}

impl Ports {
    pub fn of(&self, part: Part) -> u16 {
        match part {
            Part::Redis => self.redis,
            Part::Replica1 => self.replicas[0],
            Part::Replica2 => self.replicas[1],
            Part::Nginx => self.nginx,
        }
    }

    /// `replica 1 (127.0.0.1:3101)`.
    fn label(&self, part: Part) -> String {
        format!("{} (127.0.0.1:{})", part.name(), self.of(part))
    }
}

impl Topology {
    /// Checks what the topology needs (nginx and its configuration, free ports) and makes
    /// the run dir; starts nothing.
    pub fn new(config: Config) -> Result<Self> {
        let nginx_bin = nginx::bin()?;
        for part in Part::ALL {
            let port = config.ports.of(part);
            if !port_free(port) {
                let label = config.ports.label(part);
                bail!("port {port} for {label} is taken: {}", who_listens(port));
            }
        }
        std::fs::create_dir_all(config.run_dir.join("logs"))
            .with_context(|| format!("create {}", config.run_dir.display()))?;
        let nginx_conf = nginx::prepare(
            &nginx_bin,
            &config.nginx_conf,
            &config.run_dir.join("nginx"),
            &config.ports,
        )?;
        Ok(Self {
            config,
            nginx_bin,
            nginx_conf,
            redis: None,
            replicas: [None, None],
            nginx: None,
        })
    }

    /// Starts Redis, both replicas at once, then nginx, each answering before the next.
    pub async fn start_all(&mut self) -> Result<()> {
        self.start(Part::Redis).await?;
        self.spawn(Part::Replica1)?;
        self.spawn(Part::Replica2)?;
        self.wait_ready(Part::Replica1).await?;
        self.wait_ready(Part::Replica2).await?;
        self.start(Part::Nginx).await?;
        Ok(())
    }

    /// Starts `part` and waits until it answers.
    pub async fn start(&mut self, part: Part) -> Result<String> {
        if let Some(pid) = self.pid(part) {
            return Ok(format!("{} already runs (pid {pid})", self.label(part)));
        }
        let port = self.config.ports.of(part);
        if !port_free(port) {
            bail!(
                "cannot start {}: the port is taken: {}",
                self.label(part),
                who_listens(port)
            );
        }
        self.spawn(part)?;
        self.wait_ready(part).await?;
        let pid = self.pid(part).unwrap_or_default();
        Ok(format!("{} started (pid {pid})", self.label(part)))
    }

    /// Stops `part` and waits until it has exited and its port is closed.
    pub async fn stop(&mut self, part: Part, how: Stop) -> Result<String> {
        let signal = match how {
            Stop::Term => libc::SIGTERM,
            Stop::Kill => libc::SIGKILL,
        };
        self.stop_part(part, signal, Duration::from_secs(15)).await;
        let port = self.config.ports.of(part);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !port_free(port) {
            if Instant::now() >= deadline {
                bail!(
                    "{} stopped, but its port is still taken: {}",
                    self.label(part),
                    who_listens(port)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let done = if how == Stop::Kill {
            "killed"
        } else {
            "stopped"
        };
        Ok(format!("{} {done}", self.label(part)))
    }

    /// Starts every part that is not running.
    pub async fn restore(&mut self) -> Result<String> {
        let mut out = Vec::new();
        for part in Part::ALL {
            if self.pid(part).is_none() {
                out.push(self.start(part).await?);
            }
        }
        out.push("every part runs".to_owned());
        Ok(out.join("\n"))
    }

    /// What runs, with pids.
    pub fn status(&self) -> String {
        let mut out: Vec<String> = Part::ALL
            .iter()
            .map(|&part| match self.pid(part) {
                Some(pid) => format!("{}: up, pid {pid}", self.label(part)),
                None => format!("{}: down", self.label(part)),
            })
            .collect();
        out.push(format!(
            "load balancer: {}; run dir: {}",
            self.config.app_url,
            self.config.run_dir.display()
        ));
        out.join("\n")
    }

    /// Fails if a part that should run has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        for part in Part::ALL {
            let status = match part {
                Part::Redis => match &mut self.redis {
                    Some(redis) => redis.try_wait()?,
                    None => None,
                },
                _ => match self.proc_mut(part) {
                    Some(proc_) => proc_.exited()?,
                    None => None,
                },
            };
            if let Some(status) = status {
                bail!(
                    "{} exited unexpectedly ({status}); its log: {}",
                    self.label(part),
                    part.log(&self.config.run_dir).display()
                );
            }
        }
        Ok(())
    }

    /// Stops every part, the load balancer first, each with SIGTERM and SIGKILL after 10 s;
    /// returns the ports still taken afterwards.
    pub async fn stop_all(&mut self) -> Vec<String> {
        let (term, grace) = (libc::SIGTERM, Duration::from_secs(10));
        self.stop_part(Part::Nginx, term, grace).await;
        // Both replicas at once: each may take a moment to drain.
        let [a, b] = &mut self.replicas;
        tokio::join!(
            stop_proc(a.take(), term, grace),
            stop_proc(b.take(), term, grace)
        );
        self.stop_part(Part::Redis, term, grace).await;
        Part::ALL
            .iter()
            .map(|&part| self.config.ports.of(part))
            .filter(|&port| !port_free(port))
            .map(|port| format!("port {port} still taken after stop: {}", who_listens(port)))
            .collect()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The replicas' processes that run (their CPU time, their health).
    pub fn replicas(&mut self) -> Vec<&mut Proc> {
        self.replicas.iter_mut().flatten().collect()
    }

    pub fn pid(&self, part: Part) -> Option<u32> {
        match part {
            Part::Redis => self.redis.as_ref().and_then(TestRedis::pid),
            Part::Replica1 => self.replicas[0].as_ref().map(|p| p.pid),
            Part::Replica2 => self.replicas[1].as_ref().map(|p| p.pid),
            Part::Nginx => self.nginx.as_ref().map(|p| p.pid),
        }
    }

    fn label(&self, part: Part) -> String {
        self.config.ports.label(part)
    }

    fn proc_mut(&mut self, part: Part) -> Option<&mut Proc> {
        match part {
            Part::Redis => None,
            Part::Replica1 => self.replicas[0].as_mut(),
            Part::Replica2 => self.replicas[1].as_mut(),
            Part::Nginx => self.nginx.as_mut(),
        }
    }

    /// Starts `part` without waiting for it.
    fn spawn(&mut self, part: Part) -> Result<()> {
        let log = part.log(&self.config.run_dir);
        match part {
            Part::Redis => {
                let dir = self.config.run_dir.join("redis");
                std::fs::create_dir_all(&dir)?;
                let redis = TestRedis::spawn_at(self.config.ports.redis, &dir, true, &log)
                    .context("start redis-server (make deps-services)")?;
                self.redis = Some(redis);
            }
            Part::Replica1 | Part::Replica2 => {
                let i = usize::from(part == Part::Replica2);
                let proc_ = self.spawn_replica(i, &log)?;
                self.replicas[i] = Some(proc_);
            }
            Part::Nginx => {
                let prefix = self.config.run_dir.join("nginx");
                let cmd = nginx::command_for(&self.nginx_bin, &prefix, &self.nginx_conf)?;
                self.nginx = Some(Proc::spawn("nginx", cmd, &log)?);
            }
        }
        Ok(())
    }

    /// One replica: the run dir is its working directory, so no `.env` of the checkout is
    /// read, and it has its own `SESSION_DB`: whatever the replicas share goes through Redis.
    fn spawn_replica(&self, i: usize, log: &Path) -> Result<Proc> {
        let config = &self.config;
        let dir = config.run_dir.join(format!("app{}", i + 1));
        std::fs::create_dir_all(&dir)?;
        let mut cmd = command(config.root.join("scripts/run-app.sh"));
        cmd.current_dir(&dir);
        for (name, value) in &config.app_env {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd.env("APP_URL", &config.app_url)
            .env(
                "LEPTOS_SITE_ADDR",
                format!("127.0.0.1:{}", config.ports.replicas[i]),
            )
            .env(
                "REDIS_URL",
                format!("redis://127.0.0.1:{}/0", config.ports.redis),
            )
            .env("SESSION_DB", dir.join("sessions.db"));
        Proc::spawn([Part::Replica1, Part::Replica2][i].name(), cmd, log)
    }

    /// Waits until `part` answers: Redis `PING`, the others `/healthz`.
    async fn wait_ready(&mut self, part: Part) -> Result<()> {
        let limit = Duration::from_secs(match part {
            Part::Redis => 30,
            Part::Replica1 | Part::Replica2 => 60,
            Part::Nginx => 15,
        });
        let addr = format!("127.0.0.1:{}", self.config.ports.of(part));
        let deadline = Instant::now() + limit;
        loop {
            let answers = match (&self.redis, part) {
                (Some(redis), Part::Redis) => redis.answers(),
                _ => proc::answers_http(&addr, "/healthz").await,
            };
            if answers {
                return Ok(());
            }
            if self.check_alive().is_err() {
                bail!(
                    "{} exited while starting; its log: {}",
                    self.label(part),
                    part.log(&self.config.run_dir).display()
                );
            }
            if Instant::now() >= deadline {
                bail!("{} did not answer within {limit:?}", self.label(part));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `signal`, then SIGKILL after `grace`; the part is no longer wanted.
    async fn stop_part(&mut self, part: Part, signal: libc::c_int, grace: Duration) {
        match part {
            Part::Redis => {
                if let Some(mut redis) = self.redis.take() {
                    if let Some(pid) = redis.pid() {
                        let exited = || !matches!(redis.try_wait(), Ok(None));
                        signal_and_wait(pid, signal, grace, exited).await;
                    }
                    redis.stop();
                }
            }
            Part::Replica1 => stop_proc(self.replicas[0].take(), signal, grace).await,
            Part::Replica2 => stop_proc(self.replicas[1].take(), signal, grace).await,
            Part::Nginx => stop_proc(self.nginx.take(), signal, grace).await,
        }
    }
}

async fn stop_proc(proc_: Option<Proc>, signal: libc::c_int, grace: Duration) {
    if let Some(proc_) = proc_ {
        proc_.stop_with(signal, grace).await;
    }
}
