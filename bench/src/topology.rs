//! The scaled topology for one run, started the way `scripts/topology.sh` starts it (that
//! script's nginx and replica ports are fixed, and other test runs may hold them): Redis with
//! append-only persistence, two replicas of the release app sharing their sessions through it,
//! and nginx in front with `deploy/nginx.local.conf` (round-robin, no stickiness), its
//! addresses rewritten. nginx listens on the bench's app port, so `APP_URL`, the redirect URI
//! the provider knows, is the same as for the single process; the two never run at once.

use std::{path::PathBuf, time::Duration};

use anyhow::{ensure, Context, Result};

use crate::{
    harness::{self, command, App, Env},
    procs::{self, Proc},
    redis_stats::redis_cli,
    settings::Settings,
};

/// The addresses `deploy/nginx.local.conf` uses: each appears exactly once (its header).
const LB: &str = "127.0.0.1:3000";
const REPLICAS: [&str; 2] = ["127.0.0.1:3101", "127.0.0.1:3102"];

pub struct Topology {
    pub redis_port: u16,
    pub replicas: Vec<Proc>,
    redis: Proc,
    nginx: Proc,
}

impl Topology {
    /// Starts Redis, both replicas and nginx, each answering before the next starts.
    pub async fn start(settings: &Settings, env: &Env, run: usize) -> Result<Self> {
        let nginx_bin = nginx_bin().context("nginx is missing: run `make deps-services`")?;
        let redis_port = procs::free_port()?;
        let redis = start_redis(env, run, redis_port).await?;
        let mut replicas = Vec::new();
        let mut ports = [0; 2];
        for (i, (name, port)) in ["replica 1", "replica 2"]
            .into_iter()
            .zip(&mut ports)
            .enumerate()
        {
            *port = procs::free_port()?;
            let app = App {
                name,
                port: *port,
                session_db: env.tmp.join(format!("replica-{run}-{}.db", i + 1)),
                redis_url: Some(format!("redis://127.0.0.1:{redis_port}/0")),
                log: env.tmp.join(format!("replica-{run}-{}.log", i + 1)),
            };
            replicas.push(harness::spawn_app(settings, env, app).await?);
        }

        let prefix = env.tmp.join(format!("nginx-{run}"));
        for dir in ["logs", "tmp"] {
            std::fs::create_dir_all(prefix.join(dir))?;
        }
        let template_path = env.root.join("deploy/nginx.local.conf");
        let template = std::fs::read_to_string(&template_path)
            .with_context(|| format!("read {}", template_path.display()))?;
        let conf = prefix.join("nginx.conf");
        std::fs::write(&conf, nginx_conf(&template, env.app_port, ports)?)?;
        let mut cmd = command(nginx_bin);
        // `-e stderr`: a non-root nginx would first try its compiled-in error log.
        cmd.arg("-p")
            .arg(format!("{}/", prefix.display()))
            .arg("-c")
            .arg(&conf)
            .args(["-e", "stderr"]);
        let mut nginx = Proc::spawn("nginx", cmd, &env.tmp.join(format!("nginx-{run}.log")))?;
        let health = format!("http://127.0.0.1:{}/healthz", env.app_port);
        procs::wait_http(&env.http, &health, Duration::from_secs(15), &mut nginx).await?;
        eprintln!(
            "bench:   scaled: nginx 127.0.0.1:{} -> replicas 127.0.0.1:{} and :{}; redis 127.0.0.1:{redis_port}",
            env.app_port, ports[0], ports[1]
        );
        Ok(Self {
            redis_port,
            replicas,
            redis,
            nginx,
        })
    }

    pub fn check_alive(&mut self) -> Result<()> {
        self.redis.check_alive()?;
        self.nginx.check_alive()?;
        self.replicas.iter_mut().try_for_each(Proc::check_alive)
    }

    /// The load balancer first, Redis last.
    pub async fn stop(self) {
        self.nginx.stop().await;
        for replica in self.replicas {
            replica.stop().await;
        }
        self.redis.stop().await;
    }
}

async fn start_redis(env: &Env, run: usize, port: u16) -> Result<Proc> {
    let dir = env.tmp.join(format!("redis-{run}"));
    std::fs::create_dir_all(&dir)?;
    let mut cmd = command("redis-server");
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .arg("--dir")
        .arg(&dir)
        .args(["--appendonly", "yes", "--save", "", "--daemonize", "no"])
        .args(["--loglevel", "warning"]);
    let mut redis = Proc::spawn("redis", cmd, &env.tmp.join(format!("redis-{run}.log")))
        .context("start redis-server (make deps-services)")?;
    for _ in 0..150 {
        redis.check_alive()?;
        if redis_cli(port, &["PING"])
            .await
            .is_ok_and(|r| r.trim() == "PONG")
        {
            return Ok(redis);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("redis did not answer PING on 127.0.0.1:{port} within 30 s")
}

/// `deploy/nginx.local.conf` with the load balancer on `lb` and the replicas on `replicas`.
pub fn nginx_conf(template: &str, lb: u16, replicas: [u16; 2]) -> Result<String> {
    let mut conf = template.to_owned();
    for (from, port) in [
        (LB, lb),
        (REPLICAS[0], replicas[0]),
        (REPLICAS[1], replicas[1]),
    ] {
        ensure!(
            conf.matches(from).count() == 1,
            "deploy/nginx.local.conf: {from} must appear exactly once, to be rewritten"
        );
        conf = conf.replace(from, &format!("127.0.0.1:{port}"));
    }
    Ok(conf)
}

fn nginx_bin() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|bin| bin.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = include_str!("../../deploy/nginx.local.conf");

    #[test]
    fn rewrites_every_address_of_the_real_nginx_conf() {
        let conf = nginx_conf(CONF, 41000, [41001, 41002]).unwrap();
        for port in ["3000", "3101", "3102"] {
            assert!(!conf.contains(&format!("127.0.0.1:{port}")), "{port} left");
        }
        assert!(conf.contains("listen 127.0.0.1:41000;"));
        assert!(conf.contains("server 127.0.0.1:41001 "));
        assert!(conf.contains("server 127.0.0.1:41002 "));
        // Nothing else changed.
        assert_eq!(conf.len(), CONF.len() + 3);
    }

    #[test]
    fn refuses_a_conf_whose_addresses_are_ambiguous() {
        let twice = format!("{CONF}\n# listen 127.0.0.1:3000\n");
        assert!(nginx_conf(&twice, 1, [2, 3]).is_err());
        assert!(nginx_conf("events {}", 1, [2, 3]).is_err());
    }
}
