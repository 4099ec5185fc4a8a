//! The axum server: configuration, sessions, security layers, routes.

pub mod config;
mod error_pages;
pub mod guest_cache;
pub mod logging;
pub mod metrics;
pub(crate) mod security;
mod static_files;

use std::{
    net::SocketAddr,
    process::ExitCode,
    sync::{Arc, OnceLock},
};

use axum::{
    extract::State,
    routing::{any, get},
    Router,
};
use axum_oidc_sessions::{health::Readiness, store::SetupError, OidcSessions, StartError};
use http::{header, HeaderValue};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::{shell, App};
use config::Config;
use error_pages::ErrorPages;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("Leptos configuration: {0}. Run the app with `cargo leptos watch` or set LEPTOS_* variables as the README says")]
    Leptos(String),
    #[error("session store {path}: {source}. Set SESSION_DB to a writable file path")]
    SessionStore {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "session store REDIS_URL: {0}. Check REDIS_URL, or unset it to keep sessions in SQLite"
    )]
    Redis(String),
    #[error("HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("cannot listen on {addr}: {source}. Stop what uses the port or set LEPTOS_SITE_ADDR")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Serve(std::io::Error),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("cannot listen on {addr} for metrics: {source}. Stop what uses the port or change METRICS_ADDR")]
    MetricsBind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// Shared state of the axum router.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub auth: OidcSessions,
}

/// Reads the configuration, opens the session store and serves until Ctrl-C or SIGTERM.
pub async fn run() -> ExitCode {
    // Before tracing starts, so `.env` can set RUST_LOG and LOG_FORMAT.
    let dotenv = dotenvy::dotenv();
    match logging::LogFormat::from_env() {
        Ok(format) => logging::init(format),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    match dotenv {
        Ok(path) => tracing::info!(path = %path.display(), "loaded environment file"),
        Err(e) if e.not_found() => {}
        Err(e) => {
            eprintln!("error: .env: {e}");
            return ExitCode::from(2);
        }
    }
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> Result<(), StartupError> {
    let config = Config::from_env()?;
    let mut leptos_options = get_configuration(None)
        .map_err(|e| StartupError::Leptos(e.to_string()))?
        .leptos_options;
    static_files::hash_files_from_build(&mut leptos_options);
    let addr = leptos_options.site_addr;
    metrics::start(&config).await?;
    let app = app(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, tower::make::Shared::new(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartupError::Serve)
}

/// The whole app as one service: pages, server functions, static files, sessions, and the
/// security layers around them. Serve it with `axum::serve(listener, Shared::new(app))`
/// (`tower::make::Shared`); tests do, to run the real server on a port of their own.
pub type AppService = tower::util::BoxCloneSyncService<
    http::Request<axum::body::Body>,
    axum::response::Response,
    std::convert::Infallible,
>;

/// Builds the [`AppService`].
pub async fn app(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<AppService, StartupError> {
    warn_about_development_settings(&config);
    logging::spawn_leptos_tasks_in_request_span();
    let stylesheet: Arc<str> = static_files::stylesheet_href(&leptos_options)
        .map_err(StartupError::Leptos)?
        .into();
    let pages = ErrorPages::new(stylesheet.clone());
    let Config {
        oidc: mut auth_config,
        request_timeout,
        ..
    } = config;
    let csp = Arc::new(security::ContentSecurityPolicy::new(
        &auth_config.auth,
        &auth_config.app_url,
        &leptos_options,
    ));
    auth_config.error_page = {
        let pages = pages.clone();
        Arc::new(move |error| pages.response(error))
    };
    let hsts = auth_config
        .secure_cookies()
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let session_cookie: Arc<str> = auth_config.auth.cookies.session_name().into();
    let auth = OidcSessions::new(auth_config).await.map_err(|e| match e {
        StartError::Store(SetupError::Sqlite { path, source }) => {
            StartupError::SessionStore { path, source }
        }
        StartError::Store(SetupError::Redis(reason)) => StartupError::Redis(reason),
        StartError::HttpClient(e) => StartupError::HttpClient(e),
    })?;
    let state = AppState {
        leptos_options,
        auth: auth.clone(),
    };
    let routes = route_list();
    let page_context = {
        let auth = auth.clone();
        move || {
            axum_oidc_sessions::leptos::ssr::provide(&auth);
            security::provide_nonce_to_leptos();
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                // Pages show per-user data: never cache them.
                response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
        }
    };
    let app_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone(), stylesheet.clone())
    };
    let not_found =
        leptos_axum::render_app_async_with_context(page_context.clone(), app_shell.clone());
    let files = ServiceBuilder::new()
        .layer(axum::middleware::from_fn(static_files::cache_control))
        .service(static_files::files(&state.leptos_options, any(not_found)));

    // The app: routes, and the layers that only requests reaching a route need.
    let app = Router::new()
        // Alive: answers while the process runs, whatever its dependencies.
        .route("/healthz", get(|| async { "ok" }))
        // Ready: one session store round trip and what the app knows of the provider
        // (no request to it); touches no session, so it sets no cookie.
        .route("/readyz", get(readyz))
        // FusionAuth's front-channel logout and its webhooks; the pages start and finish
        // logins themselves, with server functions.
        .merge(auth.provider_routes())
        // Also registers every server function, at `/auth/<name>`, for POST only.
        .leptos_routes_with_context(&state, routes, page_context, app_shell)
        .fallback_service(files)
        // The session cookie, key rotation, the same-origin guard.
        .layer(auth.layer())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            pages,
            error_pages::page_for_bare_errors,
        ))
        .layer(axum::middleware::from_fn(metrics::track_requests))
        // Outermost in the router, so the access line names the route of every answer.
        .layer(axum::middleware::from_fn(logging::record_route))
        .with_state(state);

    Ok(around(app, csp, session_cookie, hsts))
}

async fn readyz(State(auth): State<OidcSessions>) -> Readiness {
    auth.readiness().await
}

/// Around the app, what every response gets, as one service rather than `Router::layer`
/// (which wraps each route and clones its whole stack, Leptos's options included, per
/// request): a guest's cached `/` then skips the app entirely (make bench).
fn around(
    app: Router,
    csp: Arc<security::ContentSecurityPolicy>,
    session_cookie: Arc<str>,
    hsts: Option<HeaderValue>,
) -> AppService {
    let stack = ServiceBuilder::new()
        // Outside the guest cache: its answers get a request id and an access line too.
        .layer(axum::middleware::from_fn(logging::log_request))
        .map_response(|response: http::Response<_>| response.map(axum::body::Body::new))
        // gzip or brotli when the browser asks: the wasm bundle shrinks to a third.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        // The callback's URL carries the authorization code: never send it to another site.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // A guest's `/` from memory, with a fresh nonce and policy of its own.
        .layer(guest_cache::GuestPageLayer::new(
            guest_cache::GuestPageCache::new(session_cookie, csp.clone()),
        ))
        .layer(axum::middleware::from_fn_with_state(
            csp,
            security::content_security_policy,
        ))
        .service(app);
    AppService::new(stack)
}

/// The app's routes, generated once per process.
///
/// While Leptos generates a route list it suspends every resource in the whole process (a
/// global flag: resources created meanwhile never load), so a page that another router is
/// rendering at that moment would hang for good. Generating the list once, before any router
/// exists, closes that window for every router built afterwards (tests build one per app).
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn warn_about_development_settings(config: &Config) {
    for warning in config.development_warnings() {
        tracing::warn!("{warning}");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
