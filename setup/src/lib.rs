//! Idempotent FusionAuth provisioning: the Rust port of the tutorial's `setup.py`.
//!
//! Each step reads FusionAuth's current state first and writes only what differs, so the tool
//! is safe to run on any FusionAuth, any number of times. `kickstart/kickstart.json` does the
//! same work on a pristine Docker instance; `tests/consistency.rs` keeps the two in step.

pub use fusionauth_defaults as defaults;

pub mod cli;
pub mod client;
pub mod desired;
pub mod error;
pub mod model;
pub mod report;
pub mod steps;

pub use cli::Cli;
pub use error::SetupError;
pub use report::{ExitStatus, Report};

/// Runs every step in order and returns what happened.
pub async fn run(cli: &Cli, api_key: secrecy::SecretString) -> Result<Report, SetupError> {
    let desired = desired::Desired::from_cli(cli)?;
    let mut client = client::FusionAuthClient::new(&cli.url, api_key)?;
    let mut report = Report::new(cli.dry_run);
    steps::run_all(&mut client, &desired, cli, &mut report).await?;
    Ok(report)
}
