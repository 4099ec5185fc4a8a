//! The topology with a real Redis and a real nginx in front of two stand-in replicas (a
//! `scripts/run-app.sh` that serves `/healthz` with node, which `make test` installs anyway,
//! and records its environment): what the scaled Playwright run and the bench rely on.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    time::Duration,
};

use topology::{
    proc::{answers_http, free_port, port_free},
    Config, Part, Ports, Stop, Topology,
};

const STAND_IN_REPLICA: &str = r#"#!/usr/bin/env bash
set -eu
env > env.txt
exec node -e 'require("http").createServer((q, r) => r.end("ok")).listen(+process.argv[1], "127.0.0.1")' "${LEPTOS_SITE_ADDR##*:}"
"#;

fn config(root: &Path) -> Config {
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    let script = root.join("scripts/run-app.sh");
    std::fs::write(&script, STAND_IN_REPLICA).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&script, mode).unwrap();
    let mut config = Config::new(root, &root.join("run"));
    config.nginx_conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nginx.local.conf");
    config.ports = Ports {
        nginx: free_port().unwrap(),
        replicas: [free_port().unwrap(), free_port().unwrap()],
        redis: free_port().unwrap(),
    };
    config.app_url = "http://localhost:1".to_owned();
    config.app_env = vec![("TOPOLOGY_TEST_VAR".to_owned(), Some("passed".to_owned()))];
    config
}

/// One inline Redis command; the answer's text.
fn redis(port: u16, command: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
        .write_all(format!("{command}\r\n").as_bytes())
        .unwrap();
    let mut buf = [0; 256];
    let n = stream.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn starts_supervises_restarts_and_stops_every_part() {
    let root = tempfile::tempdir().unwrap();
    let config = config(root.path());
    let ports = config.ports.clone();
    let run_dir = config.run_dir.clone();
    let mut top = Topology::new(config).unwrap();
    top.start_all().await.unwrap();
    let lb = format!("127.0.0.1:{}", ports.nginx);
    assert!(
        answers_http(&lb, "/healthz").await,
        "nginx forwards to the replicas"
    );

    let env = std::fs::read_to_string(run_dir.join("app1/env.txt")).unwrap();
    for expected in [
        format!("REDIS_URL=redis://127.0.0.1:{}/0", ports.redis),
        format!("LEPTOS_SITE_ADDR=127.0.0.1:{}", ports.replicas[0]),
        format!("SESSION_DB={}", run_dir.join("app1/sessions.db").display()),
        "APP_URL=http://localhost:1".to_owned(),
        "TOPOLOGY_TEST_VAR=passed".to_owned(),
    ] {
        assert!(
            env.lines().any(|l| l == expected),
            "{expected} not in {env}"
        );
    }

    // A graceful Redis restart keeps the data (append-only file in the run dir).
    assert!(redis(ports.redis, "SET kept yes").starts_with("+OK"));
    top.stop(Part::Redis, Stop::Term).await.unwrap();
    assert!(port_free(ports.redis));
    top.start(Part::Redis).await.unwrap();
    assert_eq!(redis(ports.redis, "GET kept"), "$3\r\nyes\r\n");

    // A replica killed on request is down, not a failure; nginx serves from the other.
    top.stop(Part::Replica1, Stop::Kill).await.unwrap();
    assert!(port_free(ports.replicas[0]));
    top.check_alive().unwrap();
    assert!(top.status().contains(&format!(
        "replica 1 (127.0.0.1:{}): down",
        ports.replicas[0]
    )));
    assert!(answers_http(&lb, "/healthz").await);
    assert!(top.restore().await.unwrap().ends_with("every part runs"));
    assert!(!port_free(ports.replicas[0]));

    // A replica that dies unasked is reported.
    let pid = top.pid(Part::Replica2).unwrap();
    // SAFETY: plain syscall on our own child.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let error = top.check_alive().unwrap_err().to_string();
    assert!(
        error.contains("replica 2") && error.contains("exited unexpectedly"),
        "{error}"
    );

    assert_eq!(top.stop_all().await, Vec::<String>::new());
    for port in [
        ports.nginx,
        ports.replicas[0],
        ports.replicas[1],
        ports.redis,
    ] {
        assert!(port_free(port), "port {port} is free after stop_all");
    }
}
