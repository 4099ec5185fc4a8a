//! The web server. Everything it does lives in `fusionauth_leptos::server`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    fusionauth_leptos::server::run().await
}
