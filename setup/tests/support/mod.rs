//! Test support: a stateful stand-in for FusionAuth's admin API, and a runner for the binary.
#![allow(dead_code)] // each test file uses a different part

pub mod fake;

use std::{path::PathBuf, process::Stdio};

use wiremock::{matchers::any, Mock, MockServer, Request};

pub use fake::{FakeFusionAuth, State};

pub const API_KEY: &str = "test-api-key-0123456789";

/// Starts a mock server that answers every request from `state`.
pub async fn start(state: State) -> (MockServer, FakeFusionAuth) {
    let server = MockServer::start().await;
    let fake = FakeFusionAuth::new(state);
    Mock::given(any())
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

/// What a run of the `setup` binary printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the real binary with a clean environment (only `env` is set) in an empty directory,
/// so neither the developer's variables nor a `.env` file leak in.
pub async fn run_setup(env: &[(&str, &str)], args: &[&str]) -> Run {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "setup-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_setup"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `setup --url <server>` with the test API key.
pub async fn run_against(server: &MockServer, args: &[&str]) -> Run {
    let url = server.uri();
    let mut all = vec!["--url", url.as_str()];
    all.extend_from_slice(args);
    run_setup(&[("FUSIONAUTH_API_KEY", API_KEY)], &all).await
}

/// `METHOD /path?query` of each request the server received, in order.
pub async fn calls(server: &MockServer) -> Vec<String> {
    requests(server)
        .await
        .iter()
        .map(|r| {
            let query = r.url.query().map(|q| format!("?{q}")).unwrap_or_default();
            format!("{} {}{query}", r.method, r.url.path())
        })
        .collect()
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// Requests that change FusionAuth's state (the user search is a read, even though it is a POST).
pub async fn writes(server: &MockServer) -> Vec<String> {
    calls(server)
        .await
        .into_iter()
        .filter(|c| !c.starts_with("GET ") && c != "POST /api/user/search")
        .collect()
}

pub fn header<'a>(r: &'a Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn json_body(r: &Request) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// The PATCH of the tutorial's application among `requests`.
/// The tutorial's application in the fake's state.
pub fn application_mut(state: &mut State) -> &mut serde_json::Value {
    state
        .applications
        .iter_mut()
        .find(|a| a["id"] == setup::defaults::CLIENT_ID)
        .expect("the application exists")
}

pub fn application_patch(requests: &[Request]) -> &Request {
    requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH" && r.url.path().starts_with("/api/application/"))
        .expect("the application is patched")
}
