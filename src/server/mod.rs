//! The axum server: configuration, sessions, routes.

pub mod config;
mod guest_cache;
mod store_failure;

use std::{
    net::SocketAddr,
    process::ExitCode,
    sync::{Arc, OnceLock},
};

use axum::{routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{
    generate_route_list, handle_server_fns_with_context, AxumRouteListing, LeptosRoutes,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tower_sessions::{
    cookie::SameSite, session_store::ExpiredDeletion, Expiry, SessionManagerLayer,
};
use tower_sessions_sqlx_store::SqliteStore;

use crate::{
    app::{shell, App},
    auth::{flow::AuthService, provider},
};
use config::{Config, SecretKeySource};

/// The session cookie's name: FusionAuth's own cookies live on `localhost` too.
pub const SESSION_COOKIE: &str = "fa_leptos_session";

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
    let leptos_options = get_configuration(None)
        .map_err(|e| StartupError::Leptos(e.to_string()))?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let app = router(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Bind { addr, source })?;
    tracing::info!("listening on http://{addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartupError::Serve)
}

/// The whole app as an axum router: pages, server functions, static files, sessions.
/// Tests call this to run the real server on a port of their own.
pub async fn router(config: Config, leptos_options: LeptosOptions) -> Result<Router, StartupError> {
    warn_about_development_settings(&config);
    let store = open_session_store(&config).await?;
    let session_layer = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnSessionEnd)
        .with_signed(config.cookie_key.clone());

    let auth = Arc::new(AuthService::new(Arc::new(config), provider::http_client()?));
    let state = AppState {
        leptos_options,
        auth: auth.clone(),
    };
    let routes = route_list();
    let context = {
        let auth = auth.clone();
        move || {
            provide_context(auth.clone());
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                // Pages show per-user data: never cache them; never leak the callback's
                // query string to other sites.
                response.insert_header(
                    http::header::CACHE_CONTROL,
                    http::HeaderValue::from_static("no-store"),
                );
                response.insert_header(
                    http::header::REFERRER_POLICY,
                    http::HeaderValue::from_static("same-origin"),
                );
            }
        }
    };
    let server_fn_context = {
        let auth = auth.clone();
        move || provide_context(auth.clone())
    };

    Ok(Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(crate::defaults::LOGOUT_PATH, get(front_channel_logout))
        .route(
            "/auth/{*fn_name}",
            get({
                let ctx = server_fn_context.clone();
                move |req| handle_server_fns_with_context(ctx.clone(), req)
            })
            .post({
                let ctx = server_fn_context.clone();
                move |req| handle_server_fns_with_context(ctx.clone(), req)
            }),
        )
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback_service(static_files(&state.leptos_options, context))
        .layer(session_layer)
        .layer(axum::middleware::from_fn(
            store_failure::page_for_empty_500,
        ))
        .layer(axum::middleware::from_fn_with_state(
            guest_cache::GuestPageCache::default(),
            guest_cache::serve,
        ))
        // gzip or brotli when the browser asks: the wasm bundle shrinks to a third.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(
            // Method and path only: the callback's query string carries the authorization code.
            tower_http::trace::TraceLayer::new_for_http().make_span_with(
                |request: &http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
                },
            ),
        )
        .with_state(state))
}

/// Everything that is not a route: the files under the site root (`/pkg/…`, `public/`), served
/// as they are (with their precompressed `.br`/`.gz` when the browser accepts them), else the
/// app's "Page not found" page with status 404.
///
/// Not `leptos_axum::file_and_error_handler`: it answers a found file inside a reactive owner
/// that inherits whatever owner is current on the worker thread, and so can move a page being
/// rendered at that moment (say, `/login`) its status and headers, `Location` included, onto
/// the file's response. The login then stays on its page, and the file carries the redirect.
fn static_files(
    options: &LeptosOptions,
    context: impl Fn() + Clone + Send + Sync + 'static,
) -> tower_http::services::ServeDir<axum::routing::MethodRouter> {
    let not_found = leptos_axum::render_app_async_with_context(context, {
        let options = options.clone();
        move || shell(options.clone())
    });
    tower_http::services::ServeDir::new(&*options.site_root)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(axum::routing::any(not_found))
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

/// `GET /logout`: FusionAuth's logoutURL, loaded by its logout page in a hidden iframe, and
/// the post-logout redirect. Ends the local session, idempotently, and goes home. A plain
/// handler rather than a page: it renders nothing, so the answer is always this redirect.
async fn front_channel_logout(session: tower_sessions::Session) -> axum::response::Response {
    use axum::response::IntoResponse;
    // A store failure is logged by AuthSession; the home page shows whether the session stands.
    if let Ok(Some(user)) = crate::auth::session::AuthSession::new(session).end().await {
        tracing::info!(sub = ?user.claims.get("sub"), "logged out by the provider's logout");
    }
    (
        http::StatusCode::FOUND,
        [
            (http::header::LOCATION, "/"),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
    )
        .into_response()
}

async fn open_session_store(config: &Config) -> Result<SqliteStore, StartupError> {
    let path = &config.session_db;
    let error = |source| StartupError::SessionStore {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| error(sqlx::Error::Io(e)))?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL is durable across crashes of the app; a power cut can lose only the
        // last session writes. FULL (sqlx's default) waited for the disk on every write and
        // doubled the app's time per login (make bench).
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(error)?;
    let store = SqliteStore::new(pool);
    store.migrate().await.map_err(error)?;
    // Expired sessions are deleted in the background, once a minute.
    tokio::spawn(
        store
            .clone()
            .continuously_delete_expired(tokio::time::Duration::from_secs(60)),
    );
    Ok(store)
}

fn warn_about_development_settings(config: &Config) {
    if matches!(config.cookie_key_source, SecretKeySource::Generated) {
        tracing::warn!(
            "APP_SECRET_KEY is not set: using a random key, so sessions end when the server restarts. \
             Set one in .env (openssl rand -base64 48)"
        );
    }
    if config.uses_development_client_secret() {
        tracing::warn!(
            "CLIENT_SECRET is the tutorial's development value: set a real one in production"
        );
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
