//! The physical limit of the HTTP stack here: axum 0.8 on tokio's multi-thread runtime
//! (as the app), one route that returns the guest page's exact bytes and headers, built
//! with the same release profile. Nothing else: no session layer, no tracing, no rendering.

use std::path::PathBuf;

use anyhow::{Context, Result};
use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderName, HeaderValue},
    routing::get,
    Router,
};

/// `bench bare ADDR BODY_FILE HEADERS_JSON`: serves until SIGTERM or Ctrl-C.
pub fn main(args: &[String]) -> Result<()> {
    let [addr, body, headers] = args else {
        anyhow::bail!("usage: bench bare ADDR BODY_FILE HEADERS_JSON_FILE");
    };
    let body = Bytes::from(std::fs::read(PathBuf::from(body)).context("read body")?);
    let pairs: Vec<(String, String)> =
        serde_json::from_slice(&std::fs::read(headers).context("read headers")?)?;
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(HeaderName::try_from(name)?, HeaderValue::try_from(value)?);
    }
    let addr: std::net::SocketAddr = addr.parse()?;
    // The same runtime the app's `#[tokio::main]` builds.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let app = Router::new().route(
                "/",
                get(move || {
                    let (map, body) = (map.clone(), body.clone());
                    async move { (map, body) }
                }),
            );
            let listener = tokio::net::TcpListener::bind(addr).await?;
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let mut term =
                        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                            .expect("SIGTERM handler");
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = tokio::signal::ctrl_c() => {},
                    }
                })
                .await?;
            Ok(())
        })
}
