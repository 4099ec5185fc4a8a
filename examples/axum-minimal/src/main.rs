//! The smallest axum app with FusionAuth login: `/` greets the guest or the user, `/profile`
//! is for users only. Configured from the environment (`ISSUER`, `CLIENT_ID`,
//! `CLIENT_SECRET`, `APP_URL`, `APP_SECRET_KEY`; see the crate's README); it listens on
//! `APP_URL`'s port.

use axum::{response::Html, routing::get, Router};
use axum_oidc_sessions::{
    config::OidcConfigBuilder,
    extract::{LoggedIn, Viewer},
    OidcSessions,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = OidcConfigBuilder::from_env()?.build()?;
    let port = config.app_url.port_or_known_default().unwrap_or(3000);
    let auth = OidcSessions::new(config).await?;
    let app = Router::new()
        .route("/", get(home))
        .route("/profile", get(profile))
        .merge(auth.routes())
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Anyone: a guest gets the Login link, a user their name and the Logout button.
async fn home(viewer: Viewer) -> Html<String> {
    let body = match viewer {
        Viewer::User(user) => format!(
            "<p>You are logged in as {}</p>\
             <form method=\"post\" action=\"/logout\"><button>Logout</button></form>",
            escape(
                user.claims
                    .get("email")
                    .and_then(|v| v.as_str())
                    .unwrap_or("?")
            )
        ),
        Viewer::Guest | Viewer::SessionEnded => {
            "<p>Hello Guest</p><a href=\"/login\">Login</a>".to_owned()
        }
    };
    Html(format!("<!DOCTYPE html><title>axum-minimal</title>{body}"))
}

/// Users only: a guest is sent through the login and back here.
async fn profile(LoggedIn(user): LoggedIn) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><title>Profile</title><p>Your id is {}</p>",
        escape(
            user.claims
                .get("sub")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
        )
    ))
}

/// Claims come from the provider: never into HTML unescaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
