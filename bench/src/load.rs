//! Closed-loop HTTP load with wrk (Debian's package): a fixed number of connections for a
//! fixed time. A Lua `done` hook prints the summary as one JSON line.

use std::{path::Path, time::Duration};

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use tokio::process::Command;

pub const WRK_SCRIPT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"#;

#[derive(Debug, Deserialize, Clone, Copy)]
pub struct WrkSummary {
    pub requests: u64,
    pub duration_us: u64,
    pub bytes: u64,
    pub connect: u64,
    pub read: u64,
    pub write: u64,
    pub timeout: u64,
    /// Responses with a status >= 400 (wrk does not count 3xx): checked separately.
    pub status: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    #[allow(dead_code)] // kept for debugging: printed with `{:?}`
    pub max_us: u64,
}

impl WrkSummary {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / (self.duration_us as f64 / 1e6)
    }
    pub fn errors(&self) -> u64 {
        self.connect + self.read + self.write + self.timeout + self.status
    }
    pub fn bytes_per_request(&self) -> f64 {
        self.bytes as f64 / self.requests.max(1) as f64
    }
}

pub struct Wrk<'a> {
    pub script: &'a Path,
    pub threads: usize,
    pub connections: usize,
}

impl Wrk<'_> {
    pub async fn run(&self, url: &str, headers: &[String], secs: u64) -> Result<WrkSummary> {
        let mut cmd = Command::new("wrk");
        cmd.arg("-t")
            .arg(self.threads.to_string())
            .arg("-c")
            .arg(self.connections.to_string())
            .arg("-d")
            .arg(format!("{secs}s"))
            .arg("--timeout")
            .arg("5s")
            .arg("-s")
            .arg(self.script);
        for h in headers {
            cmd.arg("-H").arg(h);
        }
        cmd.arg(url).kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(secs + 30), cmd.output())
            .await
            .context("wrk did not finish in time")?
            .context("run wrk (apt-get install -y wrk)")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "wrk failed: {}{}",
                stdout,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("BENCHJSON "))
            .with_context(|| format!("no summary in wrk output: {stdout}"))?;
        Ok(serde_json::from_str(line)?)
    }
}
