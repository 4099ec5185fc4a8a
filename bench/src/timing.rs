//! The browser's view: the time from navigation to a working Table/JSON switch on the
//! profile page, in Chromium with a cold cache (`bench/browser/switch-timing.mjs`, driven by
//! the end-to-end suite's Playwright).

use anyhow::{ensure, Context, Result};
use topology::proc::command;

use crate::{
    harness::Env,
    report::{Figure, Unit},
};

/// `samples` cold loads of `/profile` with the session `cookie`; milliseconds each.
pub async fn switch_ready(env: &Env, cookie: &str, samples: usize) -> Result<Vec<f64>> {
    let script = env.root.join("bench/browser/switch-timing.mjs");
    let output = command("node")
        .arg(&script)
        .arg(env.app_url()?.as_str())
        .arg(cookie)
        .arg(samples.to_string())
        .output()
        .await
        .with_context(|| format!("run {}", script.display()))?;
    ensure!(
        output.status.success(),
        "the browser timing failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let times: Vec<f64> = serde_json::from_slice(&output.stdout)
        .context("the browser timing printed no JSON array")?;
    eprintln!("bench:   time to a working switch (ms): {times:?}");
    Ok(times)
}

pub fn figures(times: &[f64]) -> Vec<Figure> {
    vec![Figure::new(
        format!(
            "navigation to a working Table/JSON switch, Chromium, cold cache ({} loads)",
            times.len()
        ),
        times.to_vec(),
        Unit::Ms,
    )]
}
