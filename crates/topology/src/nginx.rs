//! nginx in front of the replicas: `deploy/nginx.local.conf` with its three addresses
//! rewritten to the topology's ports, run from a prefix directory of its own.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use tokio::process::Command;

use crate::{proc::command, Ports};

/// The addresses `deploy/nginx.local.conf` uses: each appears exactly once (its header).
const LB: &str = "127.0.0.1:3000";
const REPLICAS: [&str; 2] = ["127.0.0.1:3101", "127.0.0.1:3102"];

/// `template` with the load balancer on `ports.nginx` and the replicas on `ports.replicas`.
pub fn conf(template: &str, ports: &Ports) -> Result<String> {
    let mut conf = template.to_owned();
    for (from, port) in [
        (LB, ports.nginx),
        (REPLICAS[0], ports.replicas[0]),
        (REPLICAS[1], ports.replicas[1]),
    ] {
        ensure!(
            conf.matches(from).count() == 1,
            "the nginx configuration: {from} must appear exactly once, to be rewritten"
        );
        conf = conf.replace(from, &format!("127.0.0.1:{port}"));
    }
    Ok(conf)
}

/// nginx on PATH, else Debian's /usr/sbin/nginx (not on a non-root PATH).
pub fn bin() -> Result<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|bin| bin.is_file())
        .context("nginx is missing: run `make deps-services`")
}

/// Writes the configuration for `ports` under `prefix` (with its logs/ and tmp/) and has
/// nginx test it; returns its path.
pub fn prepare(bin: &Path, template: &Path, prefix: &Path, ports: &Ports) -> Result<PathBuf> {
    for dir in ["logs", "tmp"] {
        std::fs::create_dir_all(prefix.join(dir))?;
    }
    let text = std::fs::read_to_string(template)
        .with_context(|| format!("read {}", template.display()))?;
    let conf = prefix.join("nginx.conf");
    std::fs::write(&conf, self::conf(&text, ports)?)?;
    let test = std::process::Command::new(bin)
        .args(args(prefix, &conf))
        .args(["-t", "-q"])
        .output()
        .context("run nginx -t")?;
    ensure!(
        test.status.success(),
        "nginx refuses {}: {}",
        template.display(),
        String::from_utf8_lossy(&test.stderr).trim()
    );
    Ok(conf)
}

/// nginx in the foreground with `conf`, under `prefix`.
pub fn command_for(bin: &Path, prefix: &Path, conf: &Path) -> Result<Command> {
    let mut cmd = command(bin);
    cmd.args(args(prefix, conf));
    // The configuration may leave this to the command line; nginx refuses a duplicate.
    let text = std::fs::read_to_string(conf)?;
    if !text
        .lines()
        .any(|l| l.trim_start().starts_with("daemon off"))
    {
        cmd.args(["-g", "daemon off;"]);
    }
    Ok(cmd)
}

/// `-e stderr`: a non-root nginx would first try its compiled-in error log.
fn args(prefix: &Path, conf: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "-p".into(),
        format!("{}/", prefix.display()).into(),
        "-c".into(),
        conf.into(),
        "-e".into(),
        "stderr".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = include_str!("../../../deploy/nginx.local.conf");

    fn ports() -> Ports {
        Ports {
            nginx: 41000,
            replicas: [41001, 41002],
            redis: 41003,
        }
    }

    #[test]
    fn rewrites_every_address_of_the_real_nginx_conf() {
        let conf = conf(CONF, &ports()).unwrap();
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
    fn the_default_ports_leave_the_real_nginx_conf_as_it_is() {
        assert_eq!(conf(CONF, &Ports::default()).unwrap(), CONF);
    }

    #[test]
    fn refuses_a_conf_whose_addresses_are_ambiguous() {
        let twice = format!("{CONF}\n# listen 127.0.0.1:3000\n");
        assert!(conf(&twice, &ports()).is_err());
        assert!(conf("events {}", &ports()).is_err());
    }
}
