//! The server: the page, the crate's login routes and layer. Configured from the environment
//! (`ISSUER`, `CLIENT_ID`, `CLIENT_SECRET`, `APP_URL`, `APP_SECRET_KEY`, and cargo-leptos's).

use axum::Router;
use axum_oidc_sessions::{config::OidcConfigBuilder, leptos::ssr, OidcSessions};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_minimal::{shell, App};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = OidcSessions::new(OidcConfigBuilder::from_env()?.build()?).await?;
    let options = get_configuration(None)?.leptos_options;
    let addr = options.site_addr;
    let app = Router::new()
        .leptos_routes_with_context(&options, generate_route_list(App), ssr::context(&auth), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .merge(auth.routes())
        .layer(auth.layer())
        .with_state(options);
    axum::serve(tokio::net::TcpListener::bind(addr).await?, app).await?;
    Ok(())
}
