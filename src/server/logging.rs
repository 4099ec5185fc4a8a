//! The log: its format (`LOG_FORMAT`), and for every request a request id on each of its
//! lines and one access line.

use std::{io::IsTerminal, time::Instant};

use any_spawner::{CustomExecutor, Executor, PinnedFuture, PinnedLocalFuture};
use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use http::{header::HeaderName, HeaderValue, StatusCode};
use tracing::Instrument;
use tracing_subscriber::{
    fmt::MakeWriter, layer::SubscriberExt, registry::LookupSpan, util::SubscriberInitExt,
    EnvFilter, Layer,
};

/// Where the request id comes from and goes back to.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a request; a longer one is replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Quiet by default: the app's own lines and the access lines, not every library's.
const DEFAULT_FILTER: &str = "info,tower_http=warn,sqlx=warn,tower_sessions=warn";

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("LOG_FORMAT={0:?} is not a log format. Set LOG_FORMAT to text (the default) or json")]
pub struct LogFormatError(String);

impl LogFormat {
    /// Reads `LOG_FORMAT` from the environment.
    pub fn from_env() -> Result<Self, LogFormatError> {
        let value = std::env::var_os("LOG_FORMAT");
        Self::parse(value.as_ref().map(|v| v.to_string_lossy()).as_deref())
    }

    /// Unset or empty (as every variable of the app): text.
    pub fn parse(value: Option<&str>) -> Result<Self, LogFormatError> {
        match value.map(str::trim).unwrap_or_default() {
            "" | "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(LogFormatError(other.to_owned())),
        }
    }
}

/// The layer that writes the log in `format` to `writer`: the app's, and the tests' capture
/// (so the tests read the very lines the app writes). JSON lines carry the event's fields at
/// the top level, and the current span and the list of spans (so `request_id`) as objects.
pub fn fmt_layer<S, W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Text => layer.with_ansi(ansi).boxed(),
        LogFormat::Json => layer
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    }
}

/// Starts the log on stdout, filtered by `RUST_LOG` (quiet by default). A second call (tests)
/// is harmless: the first subscriber stays.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let ansi = std::io::stdout().is_terminal();
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer(format, std::io::stdout, ansi))
        .try_init();
}

/// Has Leptos spawn its tasks in the current span. It renders a page, and runs the server
/// functions the page calls, in tasks of their own: without this their lines would lose the
/// request's span, and so its id. Call it before Leptos sets its own (plain tokio) spawner,
/// which it does at its first route list or rendering: the first one set stays.
pub fn spawn_leptos_tasks_in_request_span() {
    struct InCurrentSpan;

    impl CustomExecutor for InCurrentSpan {
        fn spawn(&self, task: PinnedFuture<()>) {
            tokio::spawn(task.in_current_span());
        }

        fn spawn_local(&self, task: PinnedLocalFuture<()>) {
            tokio::task::spawn_local(task.in_current_span());
        }

        fn poll_local(&self) {}
    }

    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| {
        if Executor::init_custom_executor(InCurrentSpan).is_err() {
            tracing::warn!("Leptos's spawner was set before: page renders log without request ids");
        }
    });
}

/// Outermost middleware: gives the request its id (its own `X-Request-Id` when sane, else a
/// new UUID), runs it in a `request` span that carries the id, so every line it logs does,
/// returns the id in the response, and logs one access line (target `access`).
pub async fn log_request(mut request: Request, next: Next) -> Response {
    let id = request_id(&request);
    request.headers_mut().insert(X_REQUEST_ID, id.clone());
    // Method and path only: the callback's query string carries the authorization code.
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id.to_str().unwrap_or_default(),
    );
    let method = request.method().clone();
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    // Until the response's head: a streamed body's time is not counted.
    let duration_ms = started.elapsed().as_micros() as f64 / 1000.0;
    response.headers_mut().insert(X_REQUEST_ID, id);
    span.in_scope(|| {
        tracing::info!(
            target: "access",
            method = %method,
            route = %route_of(&response),
            status = response.status().as_u16(),
            duration_ms,
            "request"
        );
    });
    response
}

/// The request's own id if it is sane (at most 64 of `[A-Za-z0-9._:-]`), else a new one: a
/// hostile id (huge, or characters a log reader could trip on) is never logged.
fn request_id(request: &Request) -> HeaderValue {
    let sane = |id: &&HeaderValue| {
        let bytes = id.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(b))
    };
    match request.headers().get(X_REQUEST_ID).filter(sane) {
        Some(id) => id.clone(),
        None => {
            // `fast-rng`: the thread's RNG, not a getrandom call per request; encoded on the
            // stack. (Every response, the cached guest page's included, carries an id.)
            let mut text = uuid::Uuid::encode_buffer();
            let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
            HeaderValue::from_str(id).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        }
    }
}

/// A fixed route label, for responses that no axum route answered but whose route is known
/// (the cached guest page is `/`'s).
#[derive(Debug, Clone, Copy)]
pub struct Route(pub &'static str);

/// Inside the router, around every route: hands the route template the request matched to
/// the access line, in the response.
pub async fn record_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}

/// The access line's route: a template or a fixed label, never the path itself (unbounded,
/// and a query string can carry a code or a token).
fn route_of(response: &Response) -> &str {
    if let Some(matched) = response.extensions().get::<MatchedPath>() {
        matched.as_str()
    } else if let Some(Route(label)) = response.extensions().get::<Route>() {
        label
    } else if response.status() == StatusCode::NOT_FOUND {
        "unmatched"
    } else {
        // The router's fallback serves the static files, and answers 404 otherwise.
        "static"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_is_text_unless_json_is_asked_for() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some(" json ")), Ok(LogFormat::Json));
    }

    #[test]
    fn an_unknown_log_format_is_refused_naming_the_variable_and_the_choices() {
        let error = LogFormat::parse(Some("yaml")).expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("LOG_FORMAT"), "{message}");
        assert!(
            message.contains("text") && message.contains("json"),
            "{message}"
        );
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(
            LogFormat::parse(Some("Json")).is_err(),
            "values are lowercase"
        );
    }
}
