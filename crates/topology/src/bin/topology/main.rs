//! `topology`: the scaled topology on loopback for the Playwright suite (E2E_TOPOLOGY=scaled)
//! and by hand; `scripts/topology.sh` runs it. See `USAGE`.

mod client;
mod supervisor;

use std::{path::PathBuf, process::ExitCode};

use topology::Ports;

const USAGE: &str = "\
The scaled topology on loopback: one Redis, two replicas of the already-built app
(scripts/run-app.sh) sharing their sessions through it, and nginx in front of them
(deploy/nginx.local.conf: round-robin, no stickiness). Works without root.

  topology up                    start everything, wait until each part answers, then
                                 supervise until SIGINT/SIGTERM (all parts stopped then)
  topology status                what runs, with pids
  topology kill-replica 1|2      SIGKILL one replica (a crash); it stays down
  topology stop-replica 1|2      SIGTERM, wait until its port is closed
  topology start-replica 1|2     start it again, wait for /healthz
  topology restart-replica 1|2
  topology stop-redis | start-redis | restart-redis
                                 graceful stop; the same data dir and AOF on restart,
                                 so the sessions survive
  topology stop-nginx | start-nginx
                                 the load balancer alone (the replicas stay up)
  topology restore               start every part that was stopped
  topology redis-cli ARGS...     redis-cli against the topology's Redis
  topology down                  stop a running topology from another shell

Every command but `up` is a client: it asks the running `up` (the supervisor) through a Unix
socket in the run dir and prints its answer, so every process stays a child of the
supervisor. A part that exits without being asked to stops the whole topology, loudly:
nginx would otherwise hide a crashed replica.

Environment: ISSUER (default http://localhost:9011), APP_SECRET_KEY (default: generated once
per `up`, shared by both replicas), RUST_LOG (default info), PROFILE (debug|release, for
run-app.sh), TOPOLOGY_REDIS_PORT (6390), TOPOLOGY_RUN_DIR, TOPOLOGY_NGINX_CONF
(deploy/nginx.local.conf), TOPOLOGY_WATCH_PID (stop when that process is gone; default: the
parent), TOPOLOGY_KEEP_RUN_DIR=1 (keep the logs and data after `up` stops),
TOPOLOGY_CONTROL_TIMEOUT (120 s). Anything else set (REFRESH_SKEW_SECS,
WEBHOOK_SIGNING_SECRET, CLIENT_ID, ...) reaches the replicas unchanged.";

/// Where a topology of this checkout lives, from the environment.
pub struct Cli {
    /// The checkout this binary was built from (scripts/run-app.sh, deploy/).
    root: PathBuf,
    run_dir: PathBuf,
    ports: Ports,
    nginx_conf: PathBuf,
}

impl Cli {
    fn from_env() -> Result<Self, String> {
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let root = root.canonicalize().unwrap_or(root);
        let mut ports = Ports::default();
        if let Some(port) = var("TOPOLOGY_REDIS_PORT") {
            ports.redis = port
                .parse()
                .map_err(|_| format!("TOPOLOGY_REDIS_PORT must be a port number, not {port:?}"))?;
        }
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        let run_dir = var("TOPOLOGY_RUN_DIR").map_or_else(
            || std::env::temp_dir().join(format!("fusionauth-leptos-topology.{uid}")),
            PathBuf::from,
        );
        let nginx_conf = var("TOPOLOGY_NGINX_CONF")
            .map_or_else(|| root.join("deploy/nginx.local.conf"), PathBuf::from);
        Ok(Self {
            root,
            run_dir,
            ports,
            nginx_conf,
        })
    }

    fn control(&self) -> PathBuf {
        self.run_dir.join("control")
    }

    fn supervisor_pid_file(&self) -> PathBuf {
        self.run_dir.join("supervisor.pid")
    }
}

/// A variable that is set and not empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn say(message: impl std::fmt::Display) {
    eprintln!("[topology] {message}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cli = match Cli::from_env() {
        Ok(cli) => cli,
        Err(e) => return fail(e),
    };
    let command = args.first().map_or("up", String::as_str);
    match command {
        "up" => supervisor::up(&cli),
        "down" => client::down(&cli),
        "redis-cli" => client::redis_cli(&cli, &args[1..]),
        "kill-replica" | "stop-replica" | "start-replica" | "restart-replica" => {
            if args.len() != 2 {
                return fail(format!("usage: topology {command} 1|2"));
            }
            client::control(&cli, &args)
        }
        "stop-redis" | "start-redis" | "restart-redis" | "stop-nginx" | "start-nginx"
        | "restore" | "status" => client::control(&cli, &args[..1]),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => fail(format!("unknown command '{other}' (see topology --help)")),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    say(format!("error: {message}"));
    ExitCode::FAILURE
}

/// Whether `pid` runs and is not a zombie (a supervisor killed outright stays one until
/// something reaps it).
fn running(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat[stat.rfind(')')? + 2..].starts_with('Z')))
        .unwrap_or(false);
    exists && !zombie
}

fn supervisor_pid(cli: &Cli) -> Option<u32> {
    std::fs::read_to_string(cli.supervisor_pid_file())
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&pid| running(pid))
}
