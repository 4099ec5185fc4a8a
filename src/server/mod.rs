//! The axum server: configuration, sessions, security layers, routes.

pub mod config;
mod error_pages;
pub mod guest_cache;
mod key_rotation;
pub mod metrics;
pub(crate) mod security;
mod static_files;
pub mod store;

use std::{
    net::SocketAddr,
    process::ExitCode,
    sync::{Arc, OnceLock},
};

use axum::{
    extract::State,
    routing::{any, get, post},
    Router,
};
use axum_oidc_sessions::health::Readiness;
use http::{header, HeaderValue};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::{
    app::{shell, App},
    auth::{flow::AuthService, logout::front_channel_logout, provider, webhook},
};
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
    pub auth: Arc<AuthService>,
}

/// Reads the configuration, opens the session store and serves until Ctrl-C or SIGTERM.
pub async fn run() -> ExitCode {
    // Before tracing starts, so `.env` can set RUST_LOG.
    let dotenv = dotenvy::dotenv();
    init_tracing();
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
    let stylesheet: Arc<str> = static_files::stylesheet_href(&leptos_options)
        .map_err(StartupError::Leptos)?
        .into();
    let pages = ErrorPages::new(stylesheet.clone());
    let store = store::open(&config.sessions).await?;
    let session_layer = SessionManagerLayer::new(store.clone())
        .with_name(config.auth.cookies.session_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnSessionEnd)
        .with_signed(config.cookie_key.clone());
    let csp = Arc::new(security::ContentSecurityPolicy::new(
        &config.auth,
        &config.app_url,
        &leptos_options,
    ));
    let same_origin = security::SameOriginOnly {
        origin: HeaderValue::from_str(&config.app_url.origin().ascii_serialization())
            .map_err(|e| StartupError::Leptos(format!("APP_URL origin: {e}")))?,
        pages: pages.clone(),
    };
    let hsts = config
        .secure_cookies()
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let request_timeout = config.request_timeout;
    let session_cookie = config.auth.cookies.session_name();
    let key_rotation = config.previous_cookie_key.clone().map(|previous| {
        Arc::new(key_rotation::PreviousSessionKey {
            name: session_cookie,
            current: config.cookie_key.clone(),
            previous,
            secure: config.secure_cookies(),
        })
    });

    let http = provider::http_client(
        config.auth.provider_timeout,
        concat!("fusionauth-leptos/", env!("CARGO_PKG_VERSION")),
    )?;
    let auth = Arc::new(AuthService::new(
        Arc::new(config.auth),
        http,
        Arc::new(store),
    ));
    let state = AppState {
        leptos_options,
        auth: auth.clone(),
    };
    let routes = route_list();
    let page_context = {
        let auth = auth.clone();
        move || {
            provide_context(auth.clone());
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
        .route(crate::defaults::LOGOUT_PATH, get(front_channel_logout))
        .route(crate::defaults::WEBHOOK_PATH, post(webhook::receive))
        // Also registers every server function, at `/auth/<name>`, for POST only.
        .leptos_routes_with_context(&state, routes, page_context, app_shell)
        .fallback_service(files)
        .layer(axum::middleware::from_fn_with_state(
            same_origin,
            security::same_origin_only,
        ))
        .layer(session_layer)
        .layer(axum::middleware::from_fn_with_state(
            key_rotation,
            key_rotation::resign_session_cookie,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            pages,
            error_pages::page_for_bare_errors,
        ))
        .layer(axum::middleware::from_fn(metrics::track_requests))
        .with_state(state);

    Ok(around(app, csp, session_cookie, hsts))
}

async fn readyz(State(auth): State<Arc<AuthService>>) -> Readiness {
    Readiness::check(&auth).await
}

/// Around the app, what every response gets, as one service rather than `Router::layer`
/// (which wraps each route and clones its whole stack, Leptos's options included, per
/// request): a guest's cached `/` then skips the app entirely (make bench).
fn around(
    app: Router,
    csp: Arc<security::ContentSecurityPolicy>,
    session_cookie: &'static str,
    hsts: Option<HeaderValue>,
) -> AppService {
    let trace = tower_http::trace::TraceLayer::new_for_http().make_span_with(
        // Method and path only: the callback's query string carries the authorization code.
        |request: &http::Request<axum::body::Body>| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        },
    );
    let stack = ServiceBuilder::new()
        .map_response(|response: http::Response<_>| response.map(axum::body::Body::new))
        .layer(trace)
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

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn,tower_sessions=warn"));
    // A second call (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
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
