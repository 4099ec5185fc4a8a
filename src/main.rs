//! The web server. Everything it does lives in `fusionauth_leptos::server`.

/// mimalloc rather than glibc's malloc: see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    fusionauth_leptos::server::run().await
}
