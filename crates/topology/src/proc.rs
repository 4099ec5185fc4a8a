//! Child processes and their ports: started with their output appended to a log, checked for
//! an early exit, stopped politely then firmly. The bench starts its other children (the
//! stand-in provider, the baseline server) with these too.

use std::{
    net::TcpListener,
    path::Path,
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::{Child, Command},
};

/// A child process, killed when its handle drops.
pub struct Proc {
    pub name: &'static str,
    pub pid: u32,
    child: Child,
}

impl Proc {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &'static str, mut cmd: Command, log: &Path) -> Result<Self> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("open {}", log.display()))?;
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true);
        let child = cmd.spawn().with_context(|| format!("start {name}"))?;
        let pid = child.id().context("child has no pid")?;
        Ok(Self { name, pid, child })
    }

    /// Its exit status if it has exited (without waiting).
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Fails if the process has already exited.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.exited()? {
            bail!("{} exited early ({status}); see its log", self.name);
        }
        Ok(())
    }

    /// SIGTERM, then SIGKILL after 5 s.
    pub async fn stop(self) {
        self.stop_with(libc::SIGTERM, Duration::from_secs(5)).await;
    }

    /// `signal`, then SIGKILL if it still runs after `grace`; returns once it has exited.
    pub async fn stop_with(mut self, signal: libc::c_int, grace: Duration) {
        let child = &mut self.child;
        if !signal_and_wait(self.pid, signal, grace, || {
            !matches!(child.try_wait(), Ok(None))
        })
        .await
        {
            eprintln!(
                "[topology] {} ignored signal {signal} for {grace:?}: SIGKILL",
                self.name
            );
        }
        let _ = self.child.kill().await;
    }
}

/// Sends `signal` to `pid` and waits up to `grace` until `exited`; false if it did not.
pub async fn signal_and_wait(
    pid: u32,
    signal: libc::c_int,
    grace: Duration,
    mut exited: impl FnMut() -> bool,
) -> bool {
    // SAFETY: plain syscall on our own child's pid, which is not reaped before `exited` says so.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
    let deadline = Instant::now() + grace;
    while !exited() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// A command whose child gets SIGTERM when this thread ends, even when it is killed (Linux).
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = std::process::Command::new(program);
    testkit::die_with_parent(&mut cmd);
    Command::from(cmd)
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether nothing listens on 127.0.0.1:`port`.
pub fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Who listens on `port`, as `ss` tells it (for an error message).
pub fn who_listens(port: u16) -> String {
    std::process::Command::new("ss")
        .args(["-Hltnp", &format!("sport = :{port}")])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("something listens on port {port}"))
}

/// Whether `GET path` on `addr` (`host:port`) answers 200 within 2 s.
pub async fn answers_http(addr: &str, path: &str) -> bool {
    let get = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = Vec::new();
        stream.take(64).read_to_end(&mut head).await.ok()?;
        let head = String::from_utf8_lossy(&head);
        Some(head.split(' ').nth(1) == Some("200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), get).await,
        Ok(Some(true))
    )
}

/// Polls `GET path` on `addr` until it answers 200, for at most `limit`, while `proc_` runs.
pub async fn wait_http(addr: &str, path: &str, limit: Duration, proc_: &mut Proc) -> Result<()> {
    let start = Instant::now();
    loop {
        proc_.check_alive()?;
        if answers_http(addr, path).await {
            return Ok(());
        }
        if start.elapsed() > limit {
            bail!(
                "{} did not answer http://{addr}{path} within {limit:?}",
                proc_.name
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
