//! The client commands: each asks the running supervisor over the control socket.

use std::{
    io::{BufRead, BufReader, Write},
    os::unix::{net::UnixStream, process::CommandExt},
    process::ExitCode,
    time::{Duration, Instant},
};

use crate::{fail, running, say, supervisor_pid, var, Cli};

/// Sends one request (`args` joined by spaces) and prints the answer; its status is the
/// command's.
pub fn control(cli: &Cli, args: &[String]) -> ExitCode {
    let no_topology = || {
        fail(format!(
            "no topology runs (run dir {}): start one with scripts/topology.sh up",
            cli.run_dir.display()
        ))
    };
    if supervisor_pid(cli).is_none() {
        return no_topology();
    }
    let Ok(mut stream) = UnixStream::connect(cli.control()) else {
        return no_topology();
    };
    let timeout = var("TOPOLOGY_CONTROL_TIMEOUT")
        .and_then(|t| t.parse().ok())
        .unwrap_or(120);
    let sent = writeln!(stream, "{}", args.join(" "))
        .and_then(|()| stream.set_read_timeout(Some(Duration::from_secs(timeout))));
    if let Err(e) = sent {
        return fail(format!("the supervisor did not take the request: {e}"));
    }
    for line in BufReader::new(stream).lines() {
        match line {
            Ok(line) => match line.strip_prefix("__exit ") {
                Some(status) => return ExitCode::from(status.parse::<u8>().unwrap_or(1)),
                None => println!("{line}"),
            },
            Err(e) => {
                return fail(format!(
                    "no answer from the supervisor within {timeout}s: {e}"
                ))
            }
        }
    }
    fail("the supervisor is gone")
}

/// Stops a running topology from another shell.
pub fn down(cli: &Cli) -> ExitCode {
    let Some(pid) = supervisor_pid(cli) else {
        // Its parts died with it (they get SIGTERM when it goes): only the run dir is left.
        say(format!(
            "no topology runs (run dir {})",
            cli.run_dir.display()
        ));
        let _ = std::fs::remove_dir_all(&cli.run_dir);
        return ExitCode::SUCCESS;
    };
    // SAFETY: plain syscall; the pid is the running supervisor's.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while running(pid) {
        if Instant::now() >= deadline {
            return fail(format!(
                "the supervisor (pid {pid}) did not stop within 30s"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    say("stopped");
    ExitCode::SUCCESS
}

/// `redis-cli` against the topology's Redis.
pub fn redis_cli(cli: &Cli, args: &[String]) -> ExitCode {
    let e = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &cli.ports.redis.to_string()])
        .args(args)
        .exec();
    fail(format!("redis-cli: {e}"))
}
