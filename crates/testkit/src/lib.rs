//! Test fixtures shared by the workspace's test suites: [`TestRedis`], a real `redis-server` on
//! a free loopback port, for the tests of the Redis session store (Debian's package;
//! `make deps-services` installs it), stopped when dropped; and [`standin`]: the stand-in
//! provider and a browser that logs in through it (the examples' tests).
//!
//! [`TestRedis`] is the one place the workspace starts `redis-server`: the scaled topology
//! (`crates/topology`: the scaled Playwright run and `make bench`) starts it with
//! [`TestRedis::spawn_at`].

pub mod standin;

use std::{
    fs::OpenOptions,
    io::{self, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

/// A `redis-server` of this test's own, with its own data directory.
pub struct TestRedis {
    /// The loopback port it listens on.
    pub port: u16,
    dir: DataDir,
    child: Option<Child>,
    append_only: bool,
    /// Where a supervised server's output goes ([`TestRedis::spawn_at`]); a test's server
    /// shows its warnings on the test's stderr.
    log: Option<PathBuf>,
}

enum DataDir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl TestRedis {
    /// Starts Redis with append-only persistence on (`--appendonly yes`) when `append_only`.
    pub fn start(append_only: bool) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            dir: DataDir::Temp(tempfile::tempdir().expect("temp dir")),
            child: None,
            append_only,
            log: None,
        };
        redis.launch();
        redis
    }

    /// Starts Redis on `port` with its data in `dir` (kept: a restart reads its append-only
    /// file back) and its output appended to `log`, and returns without waiting for it to
    /// answer ([`TestRedis::answers`]): for a tool that supervises it (`crates/topology`).
    /// On Linux it gets SIGTERM when the thread that started it ends, so it never outlives
    /// a supervisor that was killed.
    pub fn spawn_at(port: u16, dir: &Path, append_only: bool, log: &Path) -> io::Result<Self> {
        let mut redis = Self {
            port,
            dir: DataDir::Kept(dir.to_owned()),
            child: None,
            append_only,
            log: Some(log.to_owned()),
        };
        redis.respawn()?;
        Ok(redis)
    }

    /// Starts the stopped server again on the same port with the same directory, without
    /// waiting for it to answer.
    pub fn respawn(&mut self) -> io::Result<()> {
        self.stop();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--daemonize", "no", "--loglevel", "warning"])
            .args(["--appendonly", if self.append_only { "yes" } else { "no" }])
            .arg("--dir")
            .arg(self.data_dir())
            .stdin(Stdio::null());
        match &self.log {
            Some(log) => {
                let out = OpenOptions::new().create(true).append(true).open(log)?;
                cmd.stdout(out.try_clone()?).stderr(out);
                die_with_parent(&mut cmd);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
            }
        }
        self.child = Some(cmd.spawn()?);
        Ok(())
    }

    /// Whether it answers `PING`.
    pub fn answers(&self) -> bool {
        self.command("PING").as_deref() == Some("+PONG")
    }

    /// Its process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its exit status once it has exited (without waiting); `None` while it runs or after
    /// [`TestRedis::stop`].
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match &mut self.child {
            Some(child) => child.try_wait(),
            None => Ok(None),
        }
    }

    /// Its `redis://` URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn launch(&mut self) {
        self.respawn()
            .expect("redis-server runs (install it: make deps-services)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (its data stays in its directory).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port with the same directory.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// One inline command; the first line of the answer.
    pub fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        text.lines().next().map(str::to_owned)
    }

    /// Everything Redis holds, as `redis-cli --no-raw` prints it: what a copied dump reveals.
    pub fn dump(&self) -> String {
        let keys = self.cli(&["KEYS", "*"]);
        let mut out = keys.clone();
        for key in keys.lines().filter(|k| !k.is_empty()) {
            out.push_str(&self.cli(&["DUMP", key]));
            out.push_str(&self.cli(&["GET", key]));
            out.push_str(&self.cli(&["SMEMBERS", key]));
        }
        out
    }

    /// Number of keys.
    pub fn key_count(&self) -> usize {
        self.cli(&["DBSIZE"]).trim().parse().unwrap_or(0)
    }

    /// The keys matching `pattern`.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        self.cli(&["KEYS", pattern])
            .lines()
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Entries of every per-user index (`fa:idx:*` sorted sets, and the `fa:user:*` sets of
    /// releases before them).
    pub fn index_entries(&self) -> usize {
        let count = |pattern: &str, command: &str| -> usize {
            self.keys(pattern)
                .iter()
                .map(|key| self.cli(&[command, key]).trim().parse().unwrap_or(0))
                .sum()
        };
        count("fa:idx:*", "ZCARD") + count("fa:user:*", "SCARD")
    }

    /// How often Redis has run `command` since it started (`INFO commandstats`).
    pub fn calls_of(&self, command: &str) -> u64 {
        let stats = self.cli(&["INFO", "commandstats"]);
        let prefix = format!("cmdstat_{}:calls=", command.to_ascii_lowercase());
        stats
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw"])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Where it keeps its data (the append-only file).
    pub fn data_dir(&self) -> PathBuf {
        match &self.dir {
            DataDir::Temp(dir) => dir.path().to_owned(),
            DataDir::Kept(dir) => dir.clone(),
        }
    }
}

/// SIGTERM for the child when the thread that spawned it ends (Linux; elsewhere nothing).
#[cfg(target_os = "linux")]
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

/// SIGTERM for the child when the thread that spawned it ends (Linux; elsewhere nothing).
#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(_cmd: &mut Command) {}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
