//! `make bench`: the app's speed, size and memory, each beside its physical limit, in one run.
//!
//! `bench run` (the default) starts the stand-in provider, then for each of `BENCH_RUNS`
//! runs a fresh release app and measures it, and beside it the scaled topology; then the bundle, a first visit and the time to a
//! working switch in Chromium. It prints a markdown report and writes it to
//! `bench/results/latest.md`. `bench bare` is the baseline server; `bench login` logs in
//! against an app already running (for profiling) and prints its cookie. See bench/README.md.
//!
//! One module per thing measured: `pages`, `logins`, `memory`, `size`, `timing`, and `scaled`
//! (the same pages and logins through nginx, two replicas and Redis); `run` puts them in
//! order, `report` renders what they return.

// What is measured.
mod logins;
mod memory;
mod pages;
mod scaled;
mod size;
mod timing;

// How.
mod bare;
mod browser;
mod harness;
mod load;
mod procs;
mod redis_stats;
mod report;
mod run;
mod settings;
mod stats;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("run") => run::main(),
        Some("bare") => bare::main(&args[1..]),
        Some("login") => run::login_main(&args[1..]),
        Some(other) => Err(anyhow::anyhow!(
            "unknown command {other:?}; usage: bench [run] | bench bare ADDR BODY HEADERS | bench login APP_URL PROVIDER_URL [LOGINS [CONCURRENCY]]"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
