//! `topology up`: starts every part, then serves the control socket and watches the parts,
//! the process that started it and the shutdown signals, until one of them ends the run.

use std::{
    io::{Read, Seek, SeekFrom},
    os::unix::fs::DirBuilderExt,
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{bail, Result};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{UnixListener, UnixStream},
    signal::unix::{signal, Signal, SignalKind},
};
use topology::{Config, Part, Stop, Topology};

use crate::{fail, running, say, supervisor_pid, var, Cli};

pub fn up(cli: &Cli) -> ExitCode {
    // One thread: every part is started from it, and gets SIGTERM when it ends.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => fail(format!("start the runtime: {e}")),
    }
}

async fn run(cli: &Cli) -> ExitCode {
    if let Some(pid) = supervisor_pid(cli) {
        return fail(format!(
            "a topology already runs (supervisor pid {pid}, run dir {}): scripts/topology.sh down",
            cli.run_dir.display()
        ));
    }
    let _ = std::fs::remove_dir_all(&cli.run_dir);
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&cli.run_dir);
    let mut top = match made.map_err(anyhow::Error::from).and_then(|()| {
        std::fs::write(cli.supervisor_pid_file(), std::process::id().to_string())?;
        Topology::new(config(cli)?)
    }) {
        Ok(top) => top,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&cli.run_dir);
            return fail(format!("{e:#}"));
        }
    };
    let logs = Logs::follow(&cli.run_dir);
    let status = supervise(cli, &mut top).await;
    for leftover in top.stop_all().await {
        say(leftover);
    }
    logs.flush();
    if var("TOPOLOGY_KEEP_RUN_DIR").as_deref() != Some("1") {
        let _ = std::fs::remove_dir_all(&cli.run_dir);
    }
    say("stopped");
    status
}

/// The default ports, `APP_URL` on nginx; the replicas inherit this process's environment
/// plus an issuer, a shared secret key and a log filter where they are not set.
fn config(cli: &Cli) -> Result<Config> {
    let mut config = Config::new(&cli.root, &cli.run_dir);
    config.ports = cli.ports.clone();
    config.nginx_conf = cli.nginx_conf.clone();
    for (name, default) in [
        ("ISSUER", Some("http://localhost:9011".to_owned())),
        ("APP_SECRET_KEY", None),
        ("RUST_LOG", Some("info".to_owned())),
    ] {
        if var(name).is_none() {
            let value = match default {
                Some(value) => value,
                None => secret_key()?,
            };
            config.app_env.push((name.to_owned(), Some(value)));
        }
    }
    Ok(config)
}

/// 48 random bytes, hex: one key per `up`, shared by both replicas.
fn secret_key() -> Result<String> {
    let mut bytes = [0u8; 48];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Starts the topology and supervises it; returns the exit status of the run.
async fn supervise(cli: &Cli, top: &mut Topology) -> ExitCode {
    let mut signals = match Signals::new() {
        Ok(signals) => signals,
        Err(e) => return fail(format!("install the signal handlers: {e}")),
    };
    let listener = match UnixListener::bind(cli.control()) {
        Ok(listener) => listener,
        Err(e) => return fail(format!("bind {}: {e}", cli.control().display())),
    };
    tokio::select! {
        started = top.start_all() => if let Err(e) = started {
            return fail(format!("{e:#}"));
        },
        code = signals.next() => return code,
    }
    let config = top.config();
    say(format!(
        "ready: {} -> 127.0.0.1:{}, 127.0.0.1:{}; redis 127.0.0.1:{}; run dir {}",
        config.app_url,
        config.ports.replicas[0],
        config.ports.replicas[1],
        config.ports.redis,
        config.run_dir.display()
    ));

    // Playwright runs this under `sh -c`, which outlives a killed test runner: the runner
    // names itself in TOPOLOGY_WATCH_PID.
    // SAFETY: getppid has no preconditions.
    let parent = var("TOPOLOGY_WATCH_PID")
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| unsafe { libc::getppid() } as u32);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            conn = listener.accept() => if let Ok((stream, _)) = conn {
                serve(top, stream).await;
            },
            _ = tick.tick() => {
                if let Err(e) = top.check_alive() {
                    return fail(format!("{e:#}: stopping the topology"));
                }
                if !running(parent) {
                    return fail(format!("process {parent}, which started the topology, is gone: stopping it"));
                }
            },
            code = signals.next() => return code,
        }
    }
}

/// One control request: a line of words; the answer's lines, then `__exit <status>`.
async fn serve(top: &mut Topology, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let (mut read, mut line) = (BufReader::new(read), String::new());
    let request = read.read_line(&mut line);
    if !matches!(
        tokio::time::timeout(Duration::from_secs(5), request).await,
        Ok(Ok(_))
    ) {
        return;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    say(words.join(" "));
    let (text, status) = match command(top, &words).await {
        Ok(text) => (text, 0),
        Err(e) => (format!("{e:#}"), 1),
    };
    // The client may have given up: nothing to do then.
    let _ = write
        .write_all(format!("{text}\n__exit {status}\n").as_bytes())
        .await;
}

async fn command(top: &mut Topology, words: &[&str]) -> Result<String> {
    let (cmd, arg) = (words.first().copied().unwrap_or(""), words.get(1).copied());
    let part = || match (cmd, arg) {
        (c, Some(n)) if c.ends_with("-replica") => Part::replica(n),
        (c, _) if c.ends_with("-redis") => Ok(Part::Redis),
        (c, _) if c.ends_with("-nginx") => Ok(Part::Nginx),
        _ => bail!("unknown command '{}'", words.join(" ")),
    };
    match cmd {
        "status" => Ok(top.status()),
        "restore" => top.restore().await,
        "kill-replica" => top.stop(part()?, Stop::Kill).await,
        "stop-replica" | "stop-redis" | "stop-nginx" => top.stop(part()?, Stop::Term).await,
        "start-replica" | "start-redis" | "start-nginx" => top.start(part()?).await,
        "restart-replica" | "restart-redis" => {
            let part = part()?;
            let stopped = top.stop(part, Stop::Term).await?;
            Ok(format!("{stopped}\n{}", top.start(part).await?))
        }
        _ => bail!("unknown command '{}'", words.join(" ")),
    }
}

/// SIGINT, SIGTERM and SIGHUP: each stops the topology, with the shell's exit status.
struct Signals([(Signal, u8); 3]);

impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self([
            (signal(SignalKind::interrupt())?, 130),
            (signal(SignalKind::terminate())?, 143),
            (signal(SignalKind::hangup())?, 129),
        ]))
    }

    async fn next(&mut self) -> ExitCode {
        let [(int, a), (term, b), (hup, c)] = &mut self.0;
        let code = tokio::select! {
            _ = int.recv() => *a,
            _ = term.recv() => *b,
            _ = hup.recv() => *c,
        };
        say(format!(
            "signal received (exit status {code}): stopping the topology"
        ));
        ExitCode::from(code)
    }
}

/// Every part's log, line by line with its name in front, on this process's stderr.
struct Logs {
    run_dir: PathBuf,
    read: Arc<Mutex<[u64; 4]>>,
}

impl Logs {
    fn follow(run_dir: &Path) -> Self {
        let logs = Self {
            run_dir: run_dir.to_owned(),
            read: Arc::default(),
        };
        let (run_dir, read) = (logs.run_dir.clone(), logs.read.clone());
        tokio::spawn(async move {
            loop {
                print_new_lines(&run_dir, &read);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        logs
    }

    fn flush(&self) {
        print_new_lines(&self.run_dir, &self.read);
    }
}

fn print_new_lines(run_dir: &Path, read: &Mutex<[u64; 4]>) {
    let Ok(mut read) = read.lock() else { return };
    for (part, offset) in Part::ALL.into_iter().zip(read.iter_mut()) {
        let log = part.log(run_dir);
        let Ok(mut file) = std::fs::File::open(&log) else {
            continue;
        };
        let mut new = Vec::new();
        if file.seek(SeekFrom::Start(*offset)).is_err() || file.read_to_end(&mut new).is_err() {
            continue;
        }
        // Whole lines only: the rest is read next time.
        let Some(end) = new.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        let name = log.file_stem().unwrap_or_default().to_string_lossy();
        for line in String::from_utf8_lossy(&new[..end]).lines() {
            eprintln!("[{name}] {line}");
        }
        *offset += end as u64 + 1;
    }
}
