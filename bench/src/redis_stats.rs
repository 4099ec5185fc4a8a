//! Redis's own counters: calls per command (`INFO commandstats`, read with redis-cli) before
//! and after a known number of operations. The readings' own `info` calls are left out, and
//! so is the background (commands counted over an idle window, at that rate).
//!
//! Redis counts a script's inner commands as calls too: where a script runs, the calls are
//! Redis's work, not only the client's round trips.

use std::{collections::BTreeMap, time::Duration};

use anyhow::{bail, ensure, Context, Result};
use tokio::process::Command;

/// Calls per command name (`get`, `set`, `eval`, `client|setname`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calls(pub BTreeMap<String, u64>);

/// Calls over a window of time.
pub struct Window {
    pub calls: Calls,
    pub secs: f64,
}

impl Calls {
    pub async fn read(port: u16) -> Result<Self> {
        Self::parse(&redis_cli(port, &["INFO", "commandstats"]).await?)
    }

    /// `INFO commandstats`: `cmdstat_<name>:calls=<n>,usec=...` lines under `# Commandstats`.
    pub fn parse(info: &str) -> Result<Self> {
        ensure!(
            info.lines().any(|l| l.trim() == "# Commandstats"),
            "not INFO commandstats: {:?}",
            info.chars().take(200).collect::<String>()
        );
        let mut calls = BTreeMap::new();
        for line in info.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("cmdstat_") else {
                continue;
            };
            let (name, fields) = rest.split_once(':').context("cmdstat line without ':'")?;
            let n = fields
                .split(',')
                .find_map(|f| f.strip_prefix("calls="))
                .with_context(|| format!("no calls= in {line:?}"))?
                .parse()
                .with_context(|| format!("calls in {line:?}"))?;
            calls.insert(name.to_owned(), n);
        }
        Ok(Self(calls))
    }

    /// The calls made since `before`, without the readings' own `info`.
    pub fn since(&self, before: &Calls) -> Calls {
        Calls(
            self.0
                .iter()
                .filter(|(name, _)| name.as_str() != "info")
                .map(|(name, &n)| {
                    (
                        name,
                        n.saturating_sub(before.0.get(name).copied().unwrap_or(0)),
                    )
                })
                .filter(|&(_, n)| n > 0)
                .map(|(name, n)| (name.clone(), n))
                .collect(),
        )
    }
}

/// Calls per operation, per command: `busy` covered `ops` operations; `idle` covered none
/// and gives the background rate, taken out of `busy` for its length.
pub fn per_op(busy: &Window, idle: &Window, ops: usize) -> BTreeMap<String, f64> {
    let ops = ops.max(1) as f64;
    let scale = if idle.secs > 0.0 {
        busy.secs / idle.secs
    } else {
        0.0
    };
    busy.calls
        .0
        .iter()
        .map(|(name, &n)| {
            let background = idle.calls.0.get(name).copied().unwrap_or(0) as f64 * scale;
            (name.clone(), ((n as f64 - background).max(0.0)) / ops)
        })
        .filter(|&(_, x)| x > 0.0)
        .collect()
}

pub fn total(per_op: &BTreeMap<String, f64>) -> f64 {
    per_op.values().sum()
}

/// `get 1, set 0.5`: a breakdown for the report.
pub fn show(per_op: &BTreeMap<String, f64>, unit: crate::report::Unit) -> String {
    if per_op.is_empty() {
        return "none".into();
    }
    per_op
        .iter()
        .map(|(name, &x)| format!("`{name}` {}", unit.show(x)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One redis-cli command against 127.0.0.1:`port`; its output.
pub async fn redis_cli(port: u16, args: &[&str]) -> Result<String> {
    let mut cmd = Command::new("redis-cli");
    cmd.args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(5), cmd.output())
        .await
        .context("redis-cli did not answer within 5 s")?
        .context("run redis-cli (make deps-services)")?;
    if !out.status.success() {
        bail!(
            "redis-cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# Commandstats\r\n\
        cmdstat_info:calls=3,usec=84,usec_per_call=28.00,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_get:calls=2,usec=5,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n";
    const AFTER: &str = "# Commandstats\r\n\
        cmdstat_get:calls=402,usec=905,usec_per_call=2.25,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_info:calls=4,usec=112,usec_per_call=28.00,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_client|setname:calls=1,usec=1,usec_per_call=1.00,rejected_calls=0,failed_calls=0\r\n";

    fn calls(pairs: &[(&str, u64)]) -> Calls {
        Calls(pairs.iter().map(|&(n, c)| (n.to_owned(), c)).collect())
    }

    #[test]
    fn parses_commandstats_with_subcommands() {
        let after = Calls::parse(AFTER).unwrap();
        assert_eq!(
            after,
            calls(&[("client|setname", 1), ("get", 402), ("info", 4)])
        );
        assert_eq!(Calls::parse("# Commandstats\n").unwrap(), Calls::default());
    }

    #[test]
    fn refuses_what_is_not_commandstats() {
        assert!(Calls::parse("Could not connect to Redis at 127.0.0.1:1").is_err());
        assert!(Calls::parse("# Commandstats\ncmdstat_get:usec=5\n").is_err());
        assert!(Calls::parse("# Commandstats\ncmdstat_get:calls=x\n").is_err());
    }

    #[test]
    fn the_difference_leaves_out_the_readings_and_unchanged_commands() {
        let before = Calls::parse(BEFORE).unwrap();
        let after = Calls::parse(AFTER).unwrap();
        assert_eq!(
            after.since(&before),
            calls(&[("client|setname", 1), ("get", 400)])
        );
        // Counters reset in between (CONFIG RESETSTAT): never negative.
        assert_eq!(before.since(&after), Calls::default());
    }

    #[test]
    fn background_is_taken_out_at_its_rate() {
        let busy = Window {
            calls: calls(&[("get", 410), ("ping", 2)]),
            secs: 2.0,
        };
        // 5 gets and 1 ping per second in the background: 10 gets and 2 pings in `busy`.
        let idle = Window {
            calls: calls(&[("get", 5), ("ping", 1)]),
            secs: 1.0,
        };
        let per = per_op(&busy, &idle, 200);
        assert_eq!(per, BTreeMap::from([("get".to_owned(), 2.0)]));
        assert_eq!(total(&per), 2.0);
        // No idle window: nothing is taken out.
        let none = Window {
            calls: Calls::default(),
            secs: 0.0,
        };
        assert_eq!(total(&per_op(&busy, &none, 206)), 2.0);
        assert_eq!(show(&per, crate::report::Unit::Count), "`get` 2".to_owned());
    }
}
