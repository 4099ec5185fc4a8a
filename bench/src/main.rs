//! `make bench`: the app's speed, size and memory, each beside its physical limit, in one run.
//!
//! `bench run` (the default) starts the stand-in provider, then for each of `BENCH_RUNS`
//! runs a fresh release app and a bare axum server serving the same bytes, and measures
//! pages (wrk), scripted logins, and memory; then the bundle sizes. It prints a markdown
//! report and writes it to `bench/results/latest.md`. `bench bare` is the baseline server;
//! `bench login` logs in against an app already running (for profiling) and prints its cookie.
//! See bench/README.md.

mod bare;
mod browser;
mod load;
mod procs;
mod report;
mod run;
mod size;
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
