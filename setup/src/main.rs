//! `setup`: configure an existing FusionAuth for the app. See `setup --help`.

use std::process::ExitCode;

use clap::Parser;
use setup::{cli, Cli, ExitStatus, SetupError};

fn main() -> ExitCode {
    // Same `.env` as the app; a missing file is fine, variables already set win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let status = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(&cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitStatus::Failed
        }
    };
    ExitCode::from(status.code() as u8)
}

async fn run(cli: &Cli) -> ExitStatus {
    let Some(api_key) = cli::api_key_from_env(|name| std::env::var(name).ok()) else {
        eprintln!("error: {}", SetupError::MissingApiKey);
        return ExitStatus::Failed;
    };
    match setup::run(cli, api_key).await {
        Ok(report) => {
            println!("{}", report.summary());
            report.exit_status()
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitStatus::Failed
        }
    }
}
